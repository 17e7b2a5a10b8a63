#include "rules/hll.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>

#include "rules/hash_index.hpp"

namespace sybilwatch::rules {

namespace {

double sigma(double x) {
    if (x == 1.0) return std::numeric_limits<double>::infinity();
    double y = 1.0, z = x, zp;
    do {
        x *= x;
        zp = z;
        z += x * y;
        y += y;
    } while (zp != z);
    return z;
}

double tau(double x) {
    if (x == 0.0 || x == 1.0) return 0.0;
    double y = 1.0, z = 1.0 - x, zp;
    do {
        x = std::sqrt(x);
        zp = z;
        y *= 0.5;
        z -= (1.0 - x) * (1.0 - x) * y;
    } while (zp != z);
    return z / 3.0;
}

// Index and rank of a mixed hash at precision p: rank = leading zeros after the index + 1,
// at most 64 - p + 1.
inline void split(uint64_t h, int p, uint32_t& idx, uint8_t& rank) {
    idx = static_cast<uint32_t>(h >> (64 - p));
    const uint64_t w = h << p;
    rank = static_cast<uint8_t>(w == 0 ? 64 - p + 1 : std::countl_zero(w) + 1);
}

}  // namespace

double hll_estimate(std::span<const uint32_t> hist, double m) {
    if (hist.size() < 2) return 0.0;
    const size_t q = hist.size() - 2;
    double z = m * tau(1.0 - hist[q + 1] / m);
    for (size_t k = q; k >= 1; --k)
        z = 0.5 * (z + hist[k]);
    z += m * sigma(hist[0] / m);
    if (!std::isfinite(z)) return 0.0;
    return (0.5 / std::log(2.0)) * m * m / z;
}

// ---- Hll ----

Hll::Hll(int precision) : p_(std::clamp(precision, 4, 18)) {}

void Hll::add(uint64_t hash) {
    const uint64_t h = mix64(hash);
    uint32_t idx;
    uint8_t rank;
    if (!dense_.empty()) {
        split(h, p_, idx, rank);
        if (dense_[idx] < rank) dense_[idx] = rank;
        return;
    }
    split(h, kSparsePrecision, idx, rank);
    add_sparse((idx << 6) | rank);
}

void Hll::add_sparse(uint32_t entry) {
    const uint32_t idx = entry >> 6;
    auto it = std::lower_bound(sparse_.begin(), sparse_.end(), idx,
                               [](uint32_t e, uint32_t i) { return (e >> 6) < i; });
    if (it != sparse_.end() && (*it >> 6) == idx) {
        if ((*it & 63) < (entry & 63)) *it = entry;
        return;
    }
    sparse_.insert(it, entry);
    // Dense is 2^p bytes; the sparse list costs 4 bytes an entry.
    if (sparse_.size() * 4 > (size_t{1} << p_)) to_dense();
}

void Hll::set_dense(uint32_t e) {
    const uint32_t idx25 = e >> 6;
    const uint8_t r25 = e & 63;
    const int shift = kSparsePrecision - p_;
    const uint32_t idx = idx25 >> shift;
    const uint32_t low = idx25 & ((1u << shift) - 1);
    const uint8_t rank = static_cast<uint8_t>(
        low != 0 ? shift - static_cast<int>(std::bit_width(low)) + 1 : shift + r25);
    if (dense_[idx] < rank) dense_[idx] = rank;
}

void Hll::to_dense() {
    dense_.assign(size_t{1} << p_, 0);
    for (uint32_t e : sparse_)
        set_dense(e);
    sparse_.clear();
    sparse_.shrink_to_fit();
}

double Hll::estimate() const {
    if (dense_.empty()) {
        // The sparse list is itself an HLL at precision 25 whose empty registers are implicit.
        std::array<uint32_t, 64 - kSparsePrecision + 2> hist{};
        const double m = static_cast<double>(1u << kSparsePrecision);
        hist[0] = static_cast<uint32_t>((1u << kSparsePrecision) - sparse_.size());
        for (uint32_t e : sparse_)
            ++hist[std::min<size_t>(e & 63, hist.size() - 1)];
        return hll_estimate(hist, m);
    }
    std::vector<uint32_t> hist(64 - p_ + 2, 0);
    for (uint8_t r : dense_)
        ++hist[std::min<size_t>(r, hist.size() - 1)];
    return hll_estimate(hist, static_cast<double>(dense_.size()));
}

bool Hll::merge(const Hll& o) {
    if (o.p_ != p_) return false;
    if (o.dense_.empty() && dense_.empty()) {
        for (uint32_t e : o.sparse_) {
            add_sparse(e);
            if (!dense_.empty()) {
                // Switched mid-way: the rest goes to the dense registers.
                for (uint32_t rest : o.sparse_)
                    set_dense(rest);
                break;
            }
        }
        return true;
    }
    if (dense_.empty()) to_dense();
    if (o.dense_.empty()) {
        for (uint32_t e : o.sparse_)
            set_dense(e);
    } else {
        for (size_t i = 0; i < dense_.size(); ++i)
            dense_[i] = std::max(dense_[i], o.dense_[i]);
    }
    return true;
}

void Hll::save(StateWriter& w) const {
    w.u8(static_cast<uint8_t>(p_));
    w.u8(dense_.empty() ? 0 : 1);
    if (dense_.empty()) {
        w.u32(static_cast<uint32_t>(sparse_.size()));
        for (uint32_t e : sparse_)
            w.u32(e);
    } else {
        w.bytes(dense_);
    }
}

std::optional<Hll> Hll::load(StateReader& r) {
    const int p = r.u8();
    const uint8_t mode = r.u8();
    if (!r.ok() || p < 4 || p > 18 || mode > 1) return std::nullopt;
    Hll h(p);
    const size_t m = size_t{1} << p;
    const uint8_t max_rank = static_cast<uint8_t>(64 - p + 1);
    if (mode == 0) {
        const uint32_t n = r.count(4, static_cast<uint32_t>(m / 4));
        uint32_t prev = 0;
        for (uint32_t i = 0; i < n && r.ok(); ++i) {
            const uint32_t e = r.u32();
            const uint32_t rank = e & 63;
            // Sorted, unique, in range: anything else is corruption.
            if ((e >> 6) >= (1u << kSparsePrecision) || rank == 0 ||
                rank > 64 - kSparsePrecision + 1 || (i > 0 && (e >> 6) <= (prev >> 6))) {
                return std::nullopt;
            }
            h.sparse_.push_back(e);
            prev = e;
        }
    } else {
        auto b = r.bytes(m);
        if (!r.ok()) return std::nullopt;
        for (uint8_t v : b) {
            if (v > max_rank) return std::nullopt;
        }
        h.dense_.assign(b.begin(), b.end());
    }
    if (!r.ok()) return std::nullopt;
    return h;
}

// ---- SlidingHll ----

SlidingHll::SlidingHll(Window window, int precision)
    : window_(window),
      tick_ns_(std::max<int64_t>(window.resolution_ns, 1'000'000'000)),
      tick_div_(static_cast<uint64_t>(tick_ns_)),
      p_(std::clamp(precision, 4, 16)),
      blocks_((size_t{1} << p_) / kBlock),
      hist_(static_cast<size_t>(64 - p_ + 2), 0) {
    hist_[0] = uint32_t{1} << p_;
}

SlidingHll::Reg& SlidingHll::reg(uint32_t idx, bool* added) {
    if (added) *added = false;
    if (!regs_.empty()) return regs_[idx];
    const size_t b = idx / kBlock;
    const auto pos = static_cast<uint8_t>(idx % kBlock);
    size_t at = b == 0 ? 0 : blocks_[b - 1].end;
    const size_t end = blocks_[b].end;
    while (at < end && sparse_[at].pos < pos)
        ++at;
    if (at < end && sparse_[at].pos == pos) return sparse_[at];
    // Past a quarter of the registers the sparse form saves little and inserts cost more.
    if ((sparse_.size() + 1) * 4 > (size_t{1} << p_)) {
        to_dense();
        return regs_[idx];
    }
    if (added) *added = true;
    for (size_t k = b; k < blocks_.size(); ++k)
        ++blocks_[k].end;
    Reg fresh;
    fresh.pos = pos;
    return *sparse_.insert(sparse_.begin() + static_cast<std::ptrdiff_t>(at), fresh);
}

void SlidingHll::to_dense() {
    std::vector<Reg> dense(size_t{1} << p_);
    for_each_reg([&](uint32_t i, const Reg& g) { dense[i] = g; });
    regs_ = std::move(dense);
    sparse_.clear();
    sparse_.shrink_to_fit();
    for (Block& b : blocks_)
        b.end = 0;
    sparse_empty_ = 0;
}

template <class F>
void SlidingHll::for_each_reg(F f) const {
    if (!regs_.empty()) {
        for (size_t i = 0; i < regs_.size(); ++i)
            f(static_cast<uint32_t>(i), regs_[i]);
        return;
    }
    size_t i = 0;
    for (size_t b = 0; b < blocks_.size(); ++b) {
        for (; i < blocks_[b].end; ++i)
            f(static_cast<uint32_t>(b * kBlock + sparse_[i].pos), sparse_[i]);
    }
}

void SlidingHll::drop_empty() {
    size_t out = 0, i = 0;
    for (Block& b : blocks_) {
        for (; i < b.end; ++i) {
            if (sparse_[i].r[0] != 0) sparse_[out++] = sparse_[i];  // absent ones count as 0
        }
        b.end = static_cast<uint16_t>(out);
    }
    sparse_.resize(out);
    sparse_empty_ = 0;
}

uint32_t SlidingHll::tick(int64_t t) const {
    if (t <= 0) return 0;
    const int64_t k = tick_div_.floor_div(t);
    return static_cast<uint32_t>(std::min<int64_t>(k, UINT32_MAX));
}

int64_t SlidingHll::expired_through(int64_t now) const {
    // tk * tick + W > now, without forming tk * tick (a tick may be as long as the window):
    // live iff tk > floor((now - W) / tick).
    const int64_t x = std::clamp(now, -kMaxEventTime, kMaxEventTime) - window_.length_ns;
    return tick_div_.floor_div(x);
}

void SlidingHll::settle(Reg& g, int64_t expired) {
    int dead = 0;
    while (dead < kEntries && g.r[dead] != 0 && static_cast<int64_t>(g.t[dead]) <= expired)
        ++dead;
    if (dead == 0) return;
    for (int i = 0; i < kEntries; ++i) {
        const bool keep = i + dead < kEntries;
        g.t[i] = keep ? g.t[i + dead] : 0;
        g.r[i] = keep ? g.r[i + dead] : 0;
    }
}

void SlidingHll::noted(uint32_t idx, const Reg& g, uint8_t before) {
    if (g.r[0] != before) {
        const size_t top = hist_.size() - 1;
        --hist_[std::min<size_t>(before, top)];
        ++hist_[std::min<size_t>(g.r[0], top)];
        cached_valid_ = false;
    }
    // A register's first tick only falls when an older entry arrives: lower the bounds then.
    if (g.r[0] != 0) {
        blocks_[idx / kBlock].min = std::min(blocks_[idx / kBlock].min, g.t[0]);
        low_ = std::min(low_, g.t[0]);
    }
}

void SlidingHll::recount() {
    std::fill(hist_.begin(), hist_.end(), 0);
    for (Block& b : blocks_)
        b.min = UINT32_MAX;
    // Registers a sparse sketch does not hold are empty: value 0.
    hist_[0] = static_cast<uint32_t>(regs_.empty() ? (size_t{1} << p_) - sparse_.size() : 0);
    for_each_reg([&](uint32_t i, const Reg& g) {
        ++hist_[std::min<size_t>(g.r[0], hist_.size() - 1)];
        if (g.r[0] != 0) blocks_[i / kBlock].min = std::min(blocks_[i / kBlock].min, g.t[0]);
    });
    low_ = UINT32_MAX;
    for (const Block& b : blocks_)
        low_ = std::min(low_, b.min);
    cached_valid_ = false;
}

// Inserts (tk, rank) into a register's list: entries it dominates (older, not larger) go; it
// is dropped if dominated (a newer entry at least as large); on overflow the oldest entry
// after the maximum goes.
void SlidingHll::insert(Reg& g, uint32_t tk, uint8_t rank) {
    std::array<std::pair<uint32_t, uint8_t>, kEntries + 1> e;
    int n = 0;
    bool dominated = false;
    for (int i = 0; i < kEntries && g.r[i] != 0; ++i) {
        if (g.r[i] >= rank && g.t[i] >= tk) dominated = true;
        if (g.r[i] <= rank && g.t[i] <= tk) continue;
        e[n++] = {g.t[i], g.r[i]};
    }
    if (dominated) return;
    int pos = n;
    while (pos > 0 && e[pos - 1].first > tk) {
        e[pos] = e[pos - 1];
        --pos;
    }
    e[pos] = {tk, rank};
    ++n;
    if (n > kEntries) {
        // Entry i is the register's value from when entry i-1 expires until it expires
        // itself; without it the register reads entry i+1 (or 0). Drop the entry whose loss,
        // rank difference x duration, is smallest; the maximum (entry 0) always stays.
        int drop = 1;
        uint64_t best = UINT64_MAX;
        for (int i = 1; i < n; ++i) {
            const uint64_t gap =
                static_cast<uint64_t>(e[i].second - (i + 1 < n ? e[i + 1].second : 0));
            const uint64_t span = uint64_t{e[i].first} - e[i - 1].first + 1;
            if (gap * span < best) {
                best = gap * span;
                drop = i;
            }
        }
        for (int i = drop; i < n - 1; ++i)
            e[i] = e[i + 1];
        --n;
    }
    for (int i = 0; i < kEntries; ++i) {
        g.t[i] = i < n ? e[i].first : 0;
        g.r[i] = i < n ? e[i].second : 0;
    }
}

void SlidingHll::prefetch(uint64_t hash, int stage) const {
    uint32_t idx;
    uint8_t rank;
    split(mix64(hash), p_, idx, rank);
    const size_t b = idx / kBlock;
    if (stage == 0) {
        __builtin_prefetch(&blocks_[b]);
        if (!regs_.empty()) __builtin_prefetch(&regs_[idx]);
    } else if (regs_.empty()) {
        const size_t at = b == 0 ? 0 : blocks_[b - 1].end;
        if (at < sparse_.size()) __builtin_prefetch(&sparse_[at]);
    }
}

void SlidingHll::add(uint64_t hash, int64_t t, int64_t now) {
    uint32_t idx;
    uint8_t rank;
    split(mix64(hash), p_, idx, rank);
    bool added;
    Reg& g = reg(idx, &added);
    const uint8_t before = g.r[0];
    if (before == 0 && !added && regs_.empty()) --sparse_empty_;  // held, expired, used again
    settle(g, expired_through(now));
    insert(g, tick(t), rank);
    noted(idx, g, before);
    clock_ = std::max(clock_, now);
}

double SlidingHll::estimate(int64_t now) {
    const int64_t expired = expired_through(now);
    const double m = static_cast<double>(size_t{1} << p_);
    if (now < clock_) {
        // An earlier time than the sketch has seen: settle copies, keep the registers.
        std::vector<uint32_t> hist(hist_.size(), 0);
        hist[0] = static_cast<uint32_t>(regs_.empty() ? (size_t{1} << p_) - sparse_.size() : 0);
        for_each_reg([&](uint32_t, Reg g) {
            settle(g, expired);
            ++hist[std::min<size_t>(g.r[0], hist.size() - 1)];
        });
        return hll_estimate(hist, m);
    }
    clock_ = now;
    if (static_cast<int64_t>(low_) <= expired) {
        const size_t top = hist_.size() - 1;
        auto settle_counted = [&](Reg& g) {
            const uint8_t before = g.r[0];
            settle(g, expired);
            if (g.r[0] != before) {
                --hist_[std::min<size_t>(before, top)];
                ++hist_[std::min<size_t>(g.r[0], top)];
                cached_valid_ = false;
            }
        };
        low_ = UINT32_MAX;
        for (size_t b = 0; b < blocks_.size(); ++b) {
            if (static_cast<int64_t>(blocks_[b].min) > expired) {  // nothing expired here
                low_ = std::min(low_, blocks_[b].min);
                continue;
            }
            size_t from = b * kBlock, to = from + kBlock;
            if (regs_.empty()) {
                from = b == 0 ? 0 : blocks_[b - 1].end;
                to = blocks_[b].end;
            }
            Reg* g = regs_.empty() ? sparse_.data() : regs_.data();
            uint32_t block_low = UINT32_MAX;
            for (size_t i = from; i < to; ++i) {
                const bool was_used = g[i].r[0] != 0;
                settle_counted(g[i]);
                if (g[i].r[0] != 0) {
                    block_low = std::min(block_low, g[i].t[0]);
                } else if (was_used && regs_.empty()) {
                    ++sparse_empty_;
                }
            }
            blocks_[b].min = block_low;
            low_ = std::min(low_, block_low);
        }
        // Expired registers are dropped once they are a quarter of those held.
        if (regs_.empty() && sparse_empty_ * 4 > sparse_.size()) drop_empty();
    }
    if (!cached_valid_) {
        cached_ = hll_estimate(hist_, m);
        cached_valid_ = true;
    }
    return cached_;
}

void SlidingHll::merge(const SlidingHll& o) {
    if (o.p_ != p_) return;
    o.for_each_reg([&](uint32_t i, const Reg& src) {
        if (src.r[0] == 0) return;
        bool added;
        Reg& g = reg(i, &added);
        const uint8_t before = g.r[0];
        if (before == 0 && !added && regs_.empty()) --sparse_empty_;
        for (int k = 0; k < kEntries && src.r[k] != 0; ++k)
            insert(g, src.t[k], src.r[k]);
        noted(i, g, before);
    });
    clock_ = std::max(clock_, o.clock_);
}

void SlidingHll::save(StateWriter& w) const {
    // Always all 2^p registers (empty ones as zeros), however they are held.
    w.u8(static_cast<uint8_t>(p_));
    const Reg empty;
    uint32_t next = 0;
    auto put = [&w](const Reg& g) {
        for (int k = 0; k < kEntries; ++k) {
            w.u32(g.t[k]);
            w.u8(g.r[k]);
        }
    };
    for_each_reg([&](uint32_t i, const Reg& g) {
        for (; next < i; ++next)
            put(empty);
        put(g);
        next = i + 1;
    });
    for (; next < (uint32_t{1} << p_); ++next)
        put(empty);
}

bool SlidingHll::load(StateReader& r) {
    const size_t m = size_t{1} << p_;
    if (r.u8() != p_ || !r.ok()) return false;
    if (r.remaining() < m * 5 * kEntries) return false;
    const uint8_t max_rank = static_cast<uint8_t>(64 - p_ + 1);
    // The list invariant: used entries first, ranks strictly falling, times rising.
    auto valid = [max_rank](const Reg& g) {
        for (int k = 0; k < kEntries; ++k) {
            if (g.r[k] > max_rank) return false;
            if (k > 0 && g.r[k] != 0 &&
                (g.r[k - 1] == 0 || g.r[k] >= g.r[k - 1] || g.t[k] < g.t[k - 1])) {
                return false;
            }
        }
        return true;
    };
    std::vector<Reg> all(m);
    size_t used = 0;
    for (Reg& g : all) {
        for (int k = 0; k < kEntries; ++k) {
            g.t[k] = r.u32();
            g.r[k] = r.u8();
        }
        if (!valid(g)) return false;
        used += g.r[0] != 0;
    }
    if (!r.ok()) return false;
    regs_.clear();
    sparse_.clear();
    for (Block& b : blocks_)
        b.end = 0;
    sparse_empty_ = 0;
    if (used * 4 > m) {
        regs_ = std::move(all);
    } else {
        for (size_t i = 0; i < m; ++i) {
            if (all[i].r[0] == 0) continue;
            all[i].pos = static_cast<uint8_t>(i % kBlock);
            sparse_.push_back(all[i]);
            blocks_[i / kBlock].end = static_cast<uint16_t>(sparse_.size());
        }
        // Blocks without registers end where the previous one did.
        for (size_t b = 1; b < blocks_.size(); ++b)
            blocks_[b].end = std::max(blocks_[b].end, blocks_[b - 1].end);
    }
    recount();
    return true;
}

}  // namespace sybilwatch::rules
