#include "rules/synchrony_state.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <unordered_map>

namespace sybilwatch::rules {

namespace {

// Rows per band and bands for K <= 96 hashes: the most rows (fewest random candidates) that
// still make a pair at the threshold a candidate with probability >= 95%.
void choose_bands(double s, uint32_t& bands, uint32_t& rows) {
    s = std::clamp(s, 0.05, 0.99);
    bands = 32;
    rows = 3;
    for (uint32_t r = 8; r >= 2; --r) {
        const uint32_t b = 96 / r;
        if (1.0 - std::pow(1.0 - std::pow(s, r), b) >= 0.95) {
            bands = b;
            rows = r;
            return;
        }
    }
    bands = 48;
    rows = 2;
}

uint32_t root_of(std::vector<uint32_t>& p, uint32_t x) {
    while (p[x] != x) {
        p[x] = p[p[x]];
        x = p[x];
    }
    return x;
}

}  // namespace

SynchronyState::SynchronyState(const SynchronyConfig& cfg) : cfg_(cfg) {
    cfg_.bucket_ns = std::clamp<int64_t>(cfg_.bucket_ns, 1, kMaxWindow);
    cfg_.window_ns = std::clamp<int64_t>(cfg_.window_ns, cfg_.bucket_ns, kMaxWindow);
    // A window of more than 65536 buckets would make the per-account bitset the dominant
    // cost; the bucket is widened rather than the memory bound broken.
    if (cfg_.window_ns / cfg_.bucket_ns > 65536) cfg_.bucket_ns = cfg_.window_ns / 65536;
    window_ = Window::of(cfg_.window_ns, cfg_.bucket_ns);
    const int64_t slots = window_.slices_spanned() + 1;
    words_ = static_cast<uint32_t>((slots + 63) / 64);
    ring_ = words_ * 64;
    inline_ok_ = ring_ <= 65536;
    pool_chunk_ =
        static_cast<uint32_t>(kHugePage / (size_t{words_} * 8));  // >= 255 (words <= 1026)
    ring_div_ = Divisor(ring_);
    pool_div_ = Divisor(pool_chunk_);
    if (cfg_.scan_interval_ns <= 0)
        cfg_.scan_interval_ns = std::max(cfg_.bucket_ns, cfg_.window_ns / 36);
    cfg_.min_accounts = std::max<uint32_t>(cfg_.min_accounts, 2);
    cfg_.min_active_buckets = std::max<uint32_t>(cfg_.min_active_buckets, 1);
    if (cfg_.bands == 0 || cfg_.rows == 0 || cfg_.bands * cfg_.rows > 256) {
        choose_bands(cfg_.min_similarity, bands_, rows_);
    } else {
        bands_ = cfg_.bands;
        rows_ = cfg_.rows;
    }
}

namespace {

uint32_t inline_count(uint64_t set) {
    return static_cast<uint32_t>(set >> 48) & 3;
}
uint32_t inline_distance(uint64_t set, uint32_t i) {
    return static_cast<uint32_t>(set >> (16 * i)) & 0xffff;
}
uint64_t make_inline(const uint32_t* d, uint32_t n) {
    uint64_t set = uint64_t{n} << 48;
    for (uint32_t i = 0; i < n; ++i)
        set |= uint64_t{d[i]} << (16 * i);
    return set;
}

}  // namespace

void SynchronyState::ensure(uint32_t a) {
    if (a >= slots_.size())
        slots_.resize(std::max<size_t>(a + 1, slots_.size() + slots_.size() / 2));
}

void SynchronyState::track(uint32_t a, int64_t last) {
    ensure(a);
    slots_[a] = Slot{last, make_inline(nullptr, 0)};
    ++tracked_;
    if (!inline_ok_) to_pool(a);
}

void SynchronyState::untrack(uint32_t a) {
    Slot& x = slots_[a];
    if (x.set & kPooled) pool_free_.push_back(static_cast<uint32_t>(x.set));
    x = Slot{};
    --tracked_;
}

void SynchronyState::to_pool(uint32_t a) {
    uint32_t e;
    if (!pool_free_.empty()) {
        e = pool_free_.back();
        pool_free_.pop_back();
    } else {
        e = pool_used_++;
        if (e / pool_chunk_ >= pool_.size()) pool_.emplace_back();
    }
    uint64_t* w = pool(e);
    std::fill(w, w + words_, 0);
    Slot& x = slots_[a];
    for (uint32_t i = 0; i < inline_count(x.set); ++i) {
        const uint32_t s = slot(x.last - inline_distance(x.set, i));
        w[s / 64] |= uint64_t{1} << (s % 64);
    }
    x.set = kPooled | e;
}

void SynchronyState::to_inline(uint32_t a) {
    Slot& x = slots_[a];
    uint32_t d[kInline];
    uint32_t n = 0;
    for_each_bucket(a, [&](int64_t k) {
        if (n < kInline) d[n++] = static_cast<uint32_t>(x.last - k);
    });
    std::sort(d, d + n);
    pool_free_.push_back(static_cast<uint32_t>(x.set));
    x.set = make_inline(d, n);
}

template <class F>
void SynchronyState::for_each_bucket(uint32_t a, F f) const {
    const Slot& x = slots_[a];
    if (!(x.set & kPooled)) {
        for (uint32_t i = 0; i < inline_count(x.set); ++i)
            f(x.last - inline_distance(x.set, i));
        return;
    }
    // Slot s holds bucket k in (last - ring, last] with k = s (mod ring).
    const uint64_t* w = pool(static_cast<uint32_t>(x.set));
    const int64_t base = x.last - slot(x.last);
    for (uint32_t i = 0; i < words_; ++i) {
        for (uint64_t m = w[i]; m != 0; m &= m - 1) {
            const int64_t s = i * 64 + std::countr_zero(m);
            f(base + s > x.last ? base + s - ring_ : base + s);
        }
    }
}

void SynchronyState::roll(uint32_t a, int64_t b) {
    Slot& x = slots_[a];
    if (b <= x.last) return;
    const int64_t shift = b - x.last;
    if (x.set & kPooled) {
        x.set &= ~kLastSet;  // bucket b is not set yet
        auto w = bits(a);
        if (shift >= ring_) {
            std::fill(w.begin(), w.end(), 0);
        } else {
            for (int64_t k = x.last + 1; k <= b; ++k) {
                const uint32_t s = slot(k);
                w[s / 64] &= ~(uint64_t{1} << (s % 64));
            }
        }
    } else {
        uint32_t d[kInline];
        uint32_t n = 0;
        for (uint32_t i = 0; i < inline_count(x.set); ++i) {
            const int64_t nd = inline_distance(x.set, i) + shift;
            if (nd < ring_) d[n++] = static_cast<uint32_t>(nd);
        }
        x.set = make_inline(d, n);
    }
    x.last = b;
}

void SynchronyState::set_bucket(uint32_t a, int64_t b) {
    Slot& x = slots_[a];
    if (!(x.set & kPooled)) {
        const auto dist = static_cast<uint32_t>(x.last - b);
        uint32_t d[kInline + 1];
        const uint32_t n = inline_count(x.set);
        for (uint32_t i = 0; i < n; ++i) {
            d[i] = inline_distance(x.set, i);
            if (d[i] == dist) return;
        }
        if (n < kInline) {
            d[n] = dist;
            std::sort(d, d + n + 1);
            x.set = make_inline(d, n + 1);
            return;
        }
        to_pool(a);
    } else if (b == x.last && (x.set & kLastSet)) {
        return;
    }
    const uint32_t s = slot(b);
    bits(a)[s / 64] |= uint64_t{1} << (s % 64);
    if (b == x.last) x.set |= kLastSet;
}

bool SynchronyState::has(uint32_t a, int64_t k) const {
    const Slot& x = slots_[a];
    if (k > x.last || k <= x.last - static_cast<int64_t>(ring_)) return false;
    if (x.set & kPooled) {
        const uint32_t s = slot(k);
        return bits(a)[s / 64] >> (s % 64) & 1;
    }
    for (uint32_t i = 0; i < inline_count(x.set); ++i)
        if (x.last - inline_distance(x.set, i) == k) return true;
    return false;
}

void SynchronyState::observe(int64_t t, uint32_t a) {
    if (a == kNone) return;
    t = std::clamp(t, -kMaxEventTime, kMaxEventTime);
    now_ = std::max(now_, t);
    if (last_scan_ == INT64_MIN) last_scan_ = t;
    if (!window_.live(t, now_)) return;
    ensure(a);
    const int64_t b = window_.slice(t);
    if (slots_[a].last == INT64_MIN) track(a, b);
    roll(a, b);
    if (b <= slots_[a].last - static_cast<int64_t>(ring_)) return;
    set_bucket(a, b);
}

std::vector<uint64_t> SynchronyState::live_mask(int64_t now) const {
    std::vector<uint64_t> m(words_, 0);
    const int64_t nb = window_.slice(now);
    for (int64_t k = window_.first_live_slice(now); k <= nb; ++k) {
        const uint32_t s = slot(k);
        m[s / 64] |= uint64_t{1} << (s % 64);
    }
    return m;
}

void SynchronyState::advance(int64_t now) {
    now_ = std::max(now_, now);
    if (last_scan_ != INT64_MIN && now_ - last_scan_ >= cfg_.scan_interval_ns) scan(now_);
}

void SynchronyState::scan(int64_t now) {
    now_ = std::max(now_, now);
    now = now_;
    last_scan_ = now;
    const int64_t nb = window_.slice(now);
    const int64_t lo = window_.first_live_slice(now);
    const std::vector<uint64_t> mask = live_mask(now);

    // 1. Roll every account to now; drop the idle, pick the active enough (as bitsets);
    //    accounts down to a few buckets go back inline.
    std::vector<uint32_t> elig;
    for (uint32_t a = 0; a < slots_.size(); ++a) {
        Slot& x = slots_[a];
        if (x.last == INT64_MIN) continue;
        roll(a, nb);
        uint32_t pc = 0;
        if (x.set & kPooled) {
            auto w = bits(a);
            for (uint32_t i = 0; i < words_; ++i) {
                w[i] &= mask[i];
                pc += static_cast<uint32_t>(std::popcount(w[i]));
            }
        } else {
            // Live buckets are lo..nb: distances up to nb - lo.
            uint32_t d[kInline];
            for (uint32_t i = 0; i < inline_count(x.set); ++i) {
                const uint32_t di = inline_distance(x.set, i);
                if (di <= nb - lo) d[pc++] = di;
            }
            x.set = make_inline(d, pc);
        }
        if (pc == 0) {
            untrack(a);
        } else if (pc >= cfg_.min_active_buckets) {
            if (!(x.set & kPooled)) to_pool(a);
            elig.push_back(a);
        } else if ((x.set & kPooled) && pc <= kInline && inline_ok_) {
            to_inline(a);
        }
    }

    // 2. MinHash signatures -> band hashes. vals[slot][k]: hash k of the bucket in that slot.
    const uint32_t K = bands_ * rows_;
    std::vector<uint32_t> vals(size_t{ring_} * K, UINT32_MAX);
    for (int64_t k = lo; k <= nb; ++k) {
        const uint32_t s = slot(k);
        for (uint32_t j = 0; j < K; ++j) {
            vals[size_t{s} * K + j] = static_cast<uint32_t>(
                mix64(cfg_.seed ^ (static_cast<uint64_t>(k) * 0x9e3779b97f4a7c15ULL) ^
                      (uint64_t{j} * 0xc2b2ae3d27d4eb4fULL + j)) >>
                32);
        }
    }
    std::vector<uint32_t> bh(elig.size() * bands_);
    std::vector<uint32_t> sig(K);
    for (size_t e = 0; e < elig.size(); ++e) {
        std::fill(sig.begin(), sig.end(), UINT32_MAX);
        auto w = bits(elig[e]);
        for (uint32_t i = 0; i < words_; ++i) {
            for (uint64_t x = w[i]; x != 0; x &= x - 1) {
                const uint32_t s = i * 64 + static_cast<uint32_t>(std::countr_zero(x));
                const uint32_t* v = &vals[size_t{s} * K];
                for (uint32_t j = 0; j < K; ++j)
                    sig[j] = std::min(sig[j], v[j]);
            }
        }
        for (uint32_t band = 0; band < bands_; ++band) {
            uint64_t h = band + 1;
            for (uint32_t r = 0; r < rows_; ++r)
                h = mix64(h ^ sig[band * rows_ + r]);
            bh[e * bands_ + band] = static_cast<uint32_t>(h >> 32);
        }
    }

    // 3. Candidates per band, verified exactly, united.
    std::vector<uint32_t> parent(elig.size());
    for (uint32_t i = 0; i < parent.size(); ++i)
        parent[i] = i;
    std::vector<double> minsim(elig.size(), 1.0);
    auto jaccard = [&](uint32_t a, uint32_t b) {
        auto x = bits(a), y = bits(b);
        uint32_t in = 0, un = 0;
        for (uint32_t i = 0; i < words_; ++i) {
            in += static_cast<uint32_t>(std::popcount(x[i] & y[i]));
            un += static_cast<uint32_t>(std::popcount(x[i] | y[i]));
        }
        return un == 0 ? 0.0 : static_cast<double>(in) / un;
    };
    auto attempt = [&](uint32_t e1, uint32_t e2) {
        uint32_t r1 = root_of(parent, e1), r2 = root_of(parent, e2);
        if (r1 == r2) return;
        ++checked_;
        const double j = jaccard(elig[e1], elig[e2]);
        if (j < cfg_.min_similarity) return;
        if (r2 < r1) std::swap(r1, r2);
        parent[r2] = r1;
        minsim[r1] = std::min({minsim[r1], minsim[r2], j});
    };
    std::vector<std::pair<uint32_t, uint32_t>> order(elig.size());
    for (uint32_t band = 0; band < bands_; ++band) {
        for (uint32_t e = 0; e < elig.size(); ++e)
            order[e] = {bh[e * bands_ + band], e};
        std::sort(order.begin(), order.end());
        for (size_t i = 0; i < order.size();) {
            size_t j = i + 1;
            while (j < order.size() && order[j].first == order[i].first)
                ++j;
            const size_t n = j - i;
            // Small buckets: every pair. Large ones: each member with its next few, which
            // connects a true group (all members similar) at linear cost.
            const size_t reach = n <= 32 ? n : 8;
            for (size_t x = i; x < j; ++x) {
                for (size_t y = x + 1; y < j && y <= x + reach; ++y)
                    attempt(order[x].second, order[y].second);
            }
            i = j;
        }
    }

    // 4. Components -> clusters with stable ids.
    std::vector<uint32_t> comp_size(elig.size(), 0);
    for (uint32_t e = 0; e < elig.size(); ++e)
        ++comp_size[root_of(parent, e)];
    std::unordered_map<uint32_t, std::vector<uint32_t>> comps;
    for (uint32_t e = 0; e < elig.size(); ++e) {
        const uint32_t r = root_of(parent, e);
        if (comp_size[r] >= cfg_.min_accounts) comps[r].push_back(elig[e]);
    }
    std::vector<Cluster> fresh;
    for (auto& [r, members] : comps) {
        if (members.size() < cfg_.min_accounts) continue;
        Cluster c;
        std::sort(members.begin(), members.end());
        c.members = std::move(members);
        c.min_similarity = minsim[r];
        std::vector<uint64_t> any(words_, 0);
        for (uint32_t a : c.members) {
            auto w = bits(a);
            for (uint32_t i = 0; i < words_; ++i)
                any[i] |= w[i];
        }
        int64_t first = INT64_MAX, last = INT64_MIN;
        for (int64_t k = lo; k <= nb; ++k) {
            const uint32_t s = slot(k);
            if (any[s / 64] >> (s % 64) & 1) {
                first = std::min(first, k);
                last = std::max(last, k);
            }
        }
        c.first_seen = first * cfg_.bucket_ns;
        c.last_seen = last * cfg_.bucket_ns;
        fresh.push_back(std::move(c));
    }
    struct Overlap {
        uint32_t count;
        uint32_t cluster;
        uint32_t old;
    };
    std::vector<Overlap> overlaps;
    std::unordered_map<uint32_t, uint32_t> tally;
    for (uint32_t ci = 0; ci < fresh.size(); ++ci) {
        tally.clear();
        for (uint32_t a : fresh[ci].members) {
            const uint32_t o = member_index_.find(a);
            if (o != HashIndex::kNone) ++tally[o];
        }
        for (auto [o, n] : tally)
            overlaps.push_back({n, ci, o});
    }
    std::sort(overlaps.begin(), overlaps.end(), [&](const Overlap& x, const Overlap& y) {
        return x.count != y.count ? x.count > y.count : clusters_[x.old].id < clusters_[y.old].id;
    });
    std::vector<bool> old_taken(clusters_.size(), false);
    std::vector<uint32_t> old_heir(clusters_.size(), kNone);
    std::vector<uint32_t> from(fresh.size(), kNone);
    for (const Overlap& o : overlaps) {
        if (old_heir[o.old] == kNone) old_heir[o.old] = o.cluster;
        if (old_taken[o.old] || fresh[o.cluster].id != 0) continue;
        old_taken[o.old] = true;
        fresh[o.cluster].id = clusters_[o.old].id;
        from[o.cluster] = o.old;
    }
    for (uint32_t ci = 0; ci < fresh.size(); ++ci) {
        Cluster& c = fresh[ci];
        if (c.id == 0) c.id = next_id_++;
        ClusterEvent e;
        e.cluster_id = c.id;
        e.accounts = static_cast<uint32_t>(c.members.size());
        e.first_seen = c.first_seen;
        e.last_seen = c.last_seen;
        if (from[ci] == kNone) {
            e.change = ClusterChange::Created;
            events_.push_back(e);
        } else if (clusters_[from[ci]].members != c.members) {
            e.change = ClusterChange::Updated;
            events_.push_back(e);
        }
    }
    for (uint32_t o = 0; o < clusters_.size(); ++o) {
        if (old_taken[o]) continue;
        ClusterEvent e;
        e.change = ClusterChange::Closed;
        e.cluster_id = clusters_[o].id;
        if (old_heir[o] != kNone) e.merged_into = fresh[old_heir[o]].id;
        events_.push_back(e);
    }
    clusters_ = std::move(fresh);
    member_index_.clear();
    for (uint32_t ci = 0; ci < clusters_.size(); ++ci) {
        for (uint32_t a : clusters_[ci].members)
            member_index_.insert(a, ci);
    }
}

std::vector<ClusterEvent> SynchronyState::take_events() {
    std::vector<ClusterEvent> out;
    out.swap(events_);
    return out;
}

uint64_t SynchronyState::cluster_of(uint32_t a) const {
    const uint32_t c = member_index_.find(a);
    return c == HashIndex::kNone ? 0 : clusters_[c].id;
}

bool SynchronyState::cluster(uint64_t id, ClusterInfo& out) const {
    for (const Cluster& c : clusters_) {
        if (c.id != id) continue;
        out = ClusterInfo{c.id, static_cast<uint32_t>(c.members.size()), c.first_seen, c.last_seen,
                          c.min_similarity};
        return true;
    }
    return false;
}

std::vector<uint32_t> SynchronyState::accounts(uint64_t id, size_t cap) const {
    for (const Cluster& c : clusters_) {
        if (c.id != id) continue;
        return {c.members.begin(), c.members.begin() + std::min(cap, c.members.size())};
    }
    return {};
}

std::vector<uint64_t> SynchronyState::cluster_ids() const {
    std::vector<uint64_t> ids;
    for (const Cluster& c : clusters_)
        ids.push_back(c.id);
    return ids;
}

double SynchronyState::similarity(uint32_t a, uint32_t b, int64_t now) const {
    if (a >= slots_.size() || b >= slots_.size() || slots_[a].last == INT64_MIN ||
        slots_[b].last == INT64_MIN) {
        return 0.0;
    }
    // Both as absolute bucket sets: compare the live buckets one by one.
    const int64_t nb = window_.slice(now);
    uint32_t in = 0, un = 0;
    for (int64_t k = window_.first_live_slice(now); k <= nb; ++k) {
        const bool x = has(a, k), y = has(b, k);
        in += x && y;
        un += x || y;
    }
    return un == 0 ? 0.0 : static_cast<double>(in) / un;
}

uint32_t SynchronyState::active_buckets(uint32_t a, int64_t now) const {
    if (a >= slots_.size() || slots_[a].last == INT64_MIN) return 0;
    const int64_t nb = window_.slice(now);
    uint32_t n = 0;
    for (int64_t k = window_.first_live_slice(now); k <= nb; ++k)
        n += has(a, k);
    return n;
}

void SynchronyState::merge(const SynchronyState& o, std::span<const uint32_t> map) {
    if (o.ring_ != ring_ || o.cfg_.bucket_ns != cfg_.bucket_ns) return;
    now_ = std::max(now_, o.now_);
    if (last_scan_ == INT64_MIN) last_scan_ = o.last_scan_;
    for (uint32_t a = 0; a < o.slots_.size(); ++a) {
        const int64_t olast = o.slots_[a].last;
        if (olast == INT64_MIN || a >= map.size() || map[a] == kNone) continue;
        const uint32_t b = map[a];
        ensure(b);
        if (slots_[b].last == INT64_MIN) track(b, olast);
        const int64_t top = std::max(slots_[b].last, olast);
        roll(b, top);
        // The other's buckets this ring (now ending at top) still covers.
        o.for_each_bucket(a, [&](int64_t k) {
            if (k > top - static_cast<int64_t>(ring_)) set_bucket(b, k);
        });
    }
}

size_t SynchronyState::memory_bytes() const {
    size_t b = slots_.capacity() * sizeof(Slot) + pool_.size() * kHugePage +
               pool_.capacity() * sizeof(pool_[0]) + pool_free_.capacity() * 4 +
               member_index_.memory_bytes() + clusters_.capacity() * sizeof(Cluster);
    for (const Cluster& c : clusters_)
        b += c.members.capacity() * 4;
    return b;
}

void SynchronyState::save(StateWriter& w) const {
    w.i64(cfg_.bucket_ns);
    w.i64(cfg_.window_ns);
    w.i64(now_);
    w.i64(last_scan_);
    w.u64(next_id_);
    w.u32(static_cast<uint32_t>(tracked_));
    std::vector<uint64_t> ring(words_);
    for (uint32_t a = 0; a < slots_.size(); ++a) {
        if (slots_[a].last == INT64_MIN) continue;
        w.u32(a);
        w.i64(slots_[a].last);
        // Always as the ring bitset, however it is held.
        std::fill(ring.begin(), ring.end(), 0);
        for_each_bucket(a, [&](int64_t k) {
            const uint32_t s = slot(k);
            ring[s / 64] |= uint64_t{1} << (s % 64);
        });
        for (uint64_t x : ring)
            w.u64(x);
    }
    w.u32(static_cast<uint32_t>(clusters_.size()));
    for (const Cluster& c : clusters_) {
        w.u64(c.id);
        w.i64(c.first_seen);
        w.i64(c.last_seen);
        w.f64(c.min_similarity);
        w.u32(static_cast<uint32_t>(c.members.size()));
        for (uint32_t a : c.members)
            w.u32(a);
    }
}

bool SynchronyState::load(StateReader& r, uint32_t account_limit) {
    SynchronyState s(cfg_);
    if (r.i64() != s.cfg_.bucket_ns || r.i64() != s.cfg_.window_ns || !r.ok()) return false;
    s.now_ = r.i64();
    s.last_scan_ = r.i64();
    s.next_id_ = r.u64();
    if ((s.now_ != INT64_MIN && !sane_time(s.now_)) ||
        (s.last_scan_ != INT64_MIN && !sane_time(s.last_scan_)) || s.next_id_ == 0 ||
        s.next_id_ > (uint64_t{1} << 62)) {
        return false;
    }
    const uint32_t n = r.count(4 + 8 + size_t{words_} * 8, account_limit);
    for (uint32_t i = 0; i < n && r.ok(); ++i) {
        const uint32_t a = r.u32();
        const int64_t last = r.i64();
        if (!r.ok() || a >= account_limit || !sane_time(last) ||
            (a < s.slots_.size() && s.slots_[a].last != INT64_MIN)) {
            return false;
        }
        s.track(a, last);
        if (!(s.slots_[a].set & kPooled)) s.to_pool(a);
        uint32_t pc = 0;
        for (uint64_t& x : s.bits(a)) {
            x = r.u64();
            pc += static_cast<uint32_t>(std::popcount(x));
        }
        if (pc <= kInline && s.inline_ok_) s.to_inline(a);
    }
    const uint32_t nc = r.count(8 + 8 + 8 + 8 + 4);
    for (uint32_t i = 0; i < nc && r.ok(); ++i) {
        Cluster c;
        c.id = r.u64();
        c.first_seen = r.i64();
        c.last_seen = r.i64();
        c.min_similarity = r.f64();
        const uint32_t m = r.count(4, account_limit);
        for (uint32_t j = 0; j < m && r.ok(); ++j) {
            const uint32_t a = r.u32();
            if (a >= account_limit || s.member_index_.insert(a, i) != HashIndex::kNone)
                return false;
            c.members.push_back(a);
        }
        if (!r.ok() || c.id == 0 || c.id >= s.next_id_ ||
            !std::is_sorted(c.members.begin(), c.members.end())) {
            return false;
        }
        s.clusters_.push_back(std::move(c));
    }
    if (!r.ok()) return false;
    *this = std::move(s);
    return true;
}

}  // namespace sybilwatch::rules
