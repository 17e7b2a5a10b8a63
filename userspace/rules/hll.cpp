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
      p_(std::clamp(precision, 4, 16)),
      regs_(size_t{1} << p_) {}

uint32_t SlidingHll::tick(int64_t t) const {
    if (t <= 0) return 0;
    const int64_t k = t / tick_ns_;
    return static_cast<uint32_t>(std::min<int64_t>(k, UINT32_MAX));
}

bool SlidingHll::live(uint32_t tk, int64_t now) const {
    // tk * tick + W > now, without forming tk * tick (a tick may be as long as the window).
    const int64_t x = std::clamp(now, -kMaxEventTime, kMaxEventTime) - window_.length_ns;
    const int64_t q = x / tick_ns_ - ((x % tick_ns_ != 0 && x < 0) ? 1 : 0);  // floor(x / tick)
    return static_cast<int64_t>(tk) > q;
}

void SlidingHll::settle(Reg& g, int64_t now) const {
    int dead = 0;
    while (dead < kEntries && g.r[dead] != 0 && !live(g.t[dead], now))
        ++dead;
    if (dead == 0) return;
    for (int i = 0; i < kEntries; ++i) {
        const bool keep = i + dead < kEntries;
        g.t[i] = keep ? g.t[i + dead] : 0;
        g.r[i] = keep ? g.r[i + dead] : 0;
    }
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

void SlidingHll::add(uint64_t hash, int64_t t, int64_t now) {
    uint32_t idx;
    uint8_t rank;
    split(mix64(hash), p_, idx, rank);
    Reg& g = regs_[idx];
    settle(g, now);
    insert(g, tick(t), rank);
}

double SlidingHll::estimate(int64_t now) const {
    std::vector<uint32_t> hist(64 - p_ + 2, 0);
    for (Reg g : regs_) {
        settle(g, now);
        ++hist[std::min<size_t>(g.r[0], hist.size() - 1)];
    }
    return hll_estimate(hist, static_cast<double>(regs_.size()));
}

void SlidingHll::merge(const SlidingHll& o) {
    if (o.p_ != p_) return;
    for (size_t i = 0; i < regs_.size(); ++i) {
        for (int k = 0; k < kEntries && o.regs_[i].r[k] != 0; ++k) {
            insert(regs_[i], o.regs_[i].t[k], o.regs_[i].r[k]);
        }
    }
}

void SlidingHll::save(StateWriter& w) const {
    w.u8(static_cast<uint8_t>(p_));
    for (const Reg& g : regs_) {
        for (int k = 0; k < kEntries; ++k) {
            w.u32(g.t[k]);
            w.u8(g.r[k]);
        }
    }
}

bool SlidingHll::load(StateReader& r) {
    if (r.u8() != p_ || !r.ok()) return false;
    if (r.remaining() < regs_.size() * 5 * kEntries) return false;
    const uint8_t max_rank = static_cast<uint8_t>(64 - p_ + 1);
    for (Reg& g : regs_) {
        for (int k = 0; k < kEntries; ++k) {
            g.t[k] = r.u32();
            g.r[k] = r.u8();
        }
        // The list invariant: used entries first, ranks strictly falling, times rising.
        for (int k = 0; k < kEntries; ++k) {
            if (g.r[k] > max_rank) return false;
            if (k > 0 && g.r[k] != 0 &&
                (g.r[k - 1] == 0 || g.r[k] >= g.r[k - 1] || g.t[k] < g.t[k - 1])) {
                return false;
            }
        }
    }
    return r.ok();
}

}  // namespace sybilwatch::rules
