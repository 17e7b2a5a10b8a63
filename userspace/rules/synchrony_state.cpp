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
    window_ = Window{cfg_.window_ns, cfg_.bucket_ns};
    const int64_t slots = window_.slices_spanned() + 1;
    words_ = static_cast<uint32_t>((slots + 63) / 64);
    ring_ = words_ * 64;
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

void SynchronyState::ensure(uint32_t a) {
    if (a >= last_.size()) {
        const size_t n = std::max<size_t>(a + 1, last_.size() + last_.size() / 2);
        last_.resize(n, INT64_MIN);
        bits_.resize(n * words_, 0);
    }
}

void SynchronyState::roll(uint32_t a, int64_t b) {
    int64_t& last = last_[a];
    if (b <= last) return;
    auto w = bits(a);
    if (b - last >= ring_) {
        std::fill(w.begin(), w.end(), 0);
    } else {
        for (int64_t k = last + 1; k <= b; ++k) {
            const uint32_t s = static_cast<uint32_t>(((k % ring_) + ring_) % ring_);
            w[s / 64] &= ~(uint64_t{1} << (s % 64));
        }
    }
    last = b;
}

void SynchronyState::observe(int64_t t, uint32_t a) {
    if (a == kNone) return;
    t = std::clamp(t, -kMaxEventTime, kMaxEventTime);
    now_ = std::max(now_, t);
    if (last_scan_ == INT64_MIN) last_scan_ = t;
    if (!window_.live(t, now_)) return;
    ensure(a);
    const int64_t b = window_.slice(t);
    if (last_[a] == INT64_MIN) {
        ++tracked_;
        auto w = bits(a);
        std::fill(w.begin(), w.end(), 0);
        last_[a] = b;
    }
    roll(a, b);
    if (b <= last_[a] - static_cast<int64_t>(ring_)) return;
    const uint32_t s = static_cast<uint32_t>(((b % ring_) + ring_) % ring_);
    bits(a)[s / 64] |= uint64_t{1} << (s % 64);
}

std::vector<uint64_t> SynchronyState::live_mask(int64_t now) const {
    std::vector<uint64_t> m(words_, 0);
    const int64_t nb = window_.slice(now);
    for (int64_t k = window_.first_live_slice(now); k <= nb; ++k) {
        const uint32_t s = static_cast<uint32_t>(((k % ring_) + ring_) % ring_);
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

    // 1. Roll every account to now; drop the idle, pick the active enough.
    std::vector<uint32_t> elig;
    for (uint32_t a = 0; a < last_.size(); ++a) {
        if (last_[a] == INT64_MIN) continue;
        roll(a, nb);
        auto w = bits(a);
        uint32_t pc = 0;
        for (uint32_t i = 0; i < words_; ++i) {
            w[i] &= mask[i];
            pc += static_cast<uint32_t>(std::popcount(w[i]));
        }
        if (pc == 0) {
            last_[a] = INT64_MIN;
            --tracked_;
        } else if (pc >= cfg_.min_active_buckets) {
            elig.push_back(a);
        }
    }

    // 2. MinHash signatures -> band hashes. vals[slot][k]: hash k of the bucket in that slot.
    const uint32_t K = bands_ * rows_;
    std::vector<uint32_t> vals(size_t{ring_} * K, UINT32_MAX);
    for (int64_t k = lo; k <= nb; ++k) {
        const uint32_t s = static_cast<uint32_t>(((k % ring_) + ring_) % ring_);
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
            const uint32_t s = static_cast<uint32_t>(((k % ring_) + ring_) % ring_);
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
    if (a >= last_.size() || b >= last_.size() || last_[a] == INT64_MIN || last_[b] == INT64_MIN) {
        return 0.0;
    }
    // Both as absolute bucket sets: compare the live buckets one by one.
    const int64_t nb = window_.slice(now);
    uint32_t in = 0, un = 0;
    for (int64_t k = window_.first_live_slice(now); k <= nb; ++k) {
        const uint32_t s = static_cast<uint32_t>(((k % ring_) + ring_) % ring_);
        const bool x = k <= last_[a] && k > last_[a] - ring_ && (bits(a)[s / 64] >> (s % 64) & 1);
        const bool y = k <= last_[b] && k > last_[b] - ring_ && (bits(b)[s / 64] >> (s % 64) & 1);
        in += x && y;
        un += x || y;
    }
    return un == 0 ? 0.0 : static_cast<double>(in) / un;
}

uint32_t SynchronyState::active_buckets(uint32_t a, int64_t now) const {
    if (a >= last_.size() || last_[a] == INT64_MIN) return 0;
    const int64_t nb = window_.slice(now);
    uint32_t n = 0;
    for (int64_t k = window_.first_live_slice(now); k <= nb; ++k) {
        const uint32_t s = static_cast<uint32_t>(((k % ring_) + ring_) % ring_);
        n += k <= last_[a] && k > last_[a] - ring_ && (bits(a)[s / 64] >> (s % 64) & 1);
    }
    return n;
}

void SynchronyState::merge(const SynchronyState& o, std::span<const uint32_t> map) {
    if (o.ring_ != ring_ || o.cfg_.bucket_ns != cfg_.bucket_ns) return;
    now_ = std::max(now_, o.now_);
    if (last_scan_ == INT64_MIN) last_scan_ = o.last_scan_;
    for (uint32_t a = 0; a < o.last_.size(); ++a) {
        if (o.last_[a] == INT64_MIN || a >= map.size() || map[a] == kNone) continue;
        const uint32_t b = map[a];
        ensure(b);
        if (last_[b] == INT64_MIN) {
            ++tracked_;
            auto w = bits(b);
            std::fill(w.begin(), w.end(), 0);
            last_[b] = o.last_[a];
        }
        const int64_t top = std::max(last_[b], o.last_[a]);
        roll(b, top);
        auto w = bits(b);
        auto src = o.bits(a);
        // Slot s of the other account holds bucket k in (o.last - ring, o.last]; keep it if
        // this ring (now ending at top) still covers k. Same residue, same slot.
        for (uint32_t s = 0; s < ring_; ++s) {
            if (!(src[s / 64] >> (s % 64) & 1)) continue;
            const int64_t base = o.last_[a] - (((o.last_[a] % ring_) + ring_) % ring_);
            int64_t k = base + s;
            if (k > o.last_[a]) k -= ring_;
            if (k > top - static_cast<int64_t>(ring_)) w[s / 64] |= uint64_t{1} << (s % 64);
        }
    }
}

size_t SynchronyState::memory_bytes() const {
    size_t b = bits_.capacity() * 8 + last_.capacity() * 8 + member_index_.memory_bytes() +
               clusters_.capacity() * sizeof(Cluster);
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
    for (uint32_t a = 0; a < last_.size(); ++a) {
        if (last_[a] == INT64_MIN) continue;
        w.u32(a);
        w.i64(last_[a]);
        for (uint64_t x : bits(a))
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
            (a < s.last_.size() && s.last_[a] != INT64_MIN)) {
            return false;
        }
        s.ensure(a);
        s.last_[a] = last;
        ++s.tracked_;
        for (uint64_t& x : s.bits(a))
            x = r.u64();
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
