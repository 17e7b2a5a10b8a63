#include "rules/aggregate_state.hpp"

#include <algorithm>

#include "net/slot_reuse.hpp"

namespace sybilwatch::rules {

AggregateState::AggregateState(const AggregateConfig& cfg)
    : cfg_(cfg), window_(Window::sliced(cfg.window_ns, std::max<uint32_t>(cfg.slices, 1))) {
    cfg_.max_groups = std::max<uint32_t>(cfg_.max_groups, 1);
    dcfg_ = DistinctConfig{window_, cfg_.exact_limit, cfg_.hll_precision};
    ring_ = static_cast<size_t>(window_.slices_spanned());
    ring_div_ = Divisor(ring_);
}

void AggregateState::unlink(uint32_t g) {
    Group& x = groups_[g];
    (x.prev == kNoGroup ? lru_head_ : groups_[x.prev].next) = x.next;
    (x.next == kNoGroup ? lru_tail_ : groups_[x.next].prev) = x.prev;
    x.prev = x.next = kNoGroup;
}

void AggregateState::touch(uint32_t g) {
    if (lru_tail_ == g) return;
    unlink(g);
    Group& x = groups_[g];
    x.prev = lru_tail_;
    (lru_tail_ == kNoGroup ? lru_head_ : groups_[lru_tail_].next) = g;
    lru_tail_ = g;
}

uint32_t AggregateState::allocate(uint64_t hash, std::string_view text, int64_t t) {
    if (index_.size() >= cfg_.max_groups && lru_head_ != kNoGroup) {
        release(lru_head_);
        ++evicted_;
    }
    const uint32_t g = net::take_slot(free_, groups_);
    Group& x = groups_[g];
    x.info = GroupInfo{hash, std::string(text), t, t};
    x.head = INT64_MIN;
    x.counts.assign(ring_, 0);
    x.sums.assign(ring_ * cfg_.sum_fields, 0.0);
    x.distinct.clear();
    x.distinct.resize(cfg_.distinct_fields);
    x.serial = next_serial_++;
    x.used = true;
    x.prev = lru_tail_;
    x.next = kNoGroup;
    (lru_tail_ == kNoGroup ? lru_head_ : groups_[lru_tail_].next) = g;
    lru_tail_ = g;
    index_.insert(hash, g);
    return g;
}

void AggregateState::release(uint32_t g) {
    Group& x = groups_[g];
    unlink(g);
    index_.erase(x.info.hash);
    x = Group{};  // frees its vectors and sketches
    free_.push_back(g);
}

void AggregateState::advance(Group& x, int64_t slice) {
    if (x.head != INT64_MIN && slice <= x.head) return;
    // Clear the slots the ring reuses for slices head+1..slice (at most the whole ring).
    const int64_t from = x.head == INT64_MIN
                             ? slice - static_cast<int64_t>(ring_) + 1
                             : std::max(x.head + 1, slice - static_cast<int64_t>(ring_) + 1);
    for (int64_t k = from; k <= slice; ++k) {
        const size_t i = static_cast<size_t>(ring_div_.floor_mod(k));
        x.counts[i] = 0;
        for (size_t f = 0; f < cfg_.sum_fields; ++f)
            x.sums[i * cfg_.sum_fields + f] = 0;
    }
    x.head = slice;
}

uint64_t AggregateState::memo_key(const Group& x, const AggregateInput& in, int64_t slice) {
    // Computed up to three times per observation and rule: one multiply per word.
    uint64_t k = fold_mul(x.serial ^ kWySecret[0], static_cast<uint64_t>(slice) ^ kWySecret[1]);
    for (uint64_t d : in.distinct)
        k = fold_mul(k ^ d, kWySecret[2]);
    return k == 0 ? 1 : k;
}

bool AggregateState::prefetch(int64_t t, const AggregateInput& in, int stage) const {
    const uint32_t g = index_.find(in.group_hash);
    if (g == HashIndex::kNone) return false;
    const Group& x = groups_[g];
    if (memo_hit(x, in, window_.slice(std::clamp(t, -kMaxEventTime, kMaxEventTime)))) return false;
    const size_t nd = std::min<size_t>(x.distinct.size(), in.distinct.size());
    for (size_t f = 0; f < nd; ++f) {
        if (in.distinct[f] != 0) x.distinct[f].prefetch(in.distinct[f], stage);
    }
    return nd != 0;
}

uint32_t AggregateState::observe(int64_t t, const AggregateInput& in, bool* created) {
    t = std::clamp(t, -kMaxEventTime, kMaxEventTime);
    now_ = std::max(now_, t);
    uint32_t g = index_.find(in.group_hash);
    if (created) *created = g == HashIndex::kNone;
    if (g == HashIndex::kNone) {
        g = allocate(in.group_hash, in.group_text, t);
    } else {
        touch(g);
    }
    Group& x = groups_[g];
    x.info.first_seen = std::min(x.info.first_seen, t);
    x.info.last_seen = std::max(x.info.last_seen, t);
    if (!window_.live(t, now_)) return g;  // too late to count
    const int64_t slice = window_.slice(t);
    advance(x, slice);
    if (slice > x.head - static_cast<int64_t>(ring_)) {
        const size_t i = static_cast<size_t>(ring_div_.floor_mod(slice));
        ++x.counts[i];
        const size_t n = std::min<size_t>(cfg_.sum_fields, in.sums.size());
        for (size_t f = 0; f < n; ++f)
            x.sums[i * cfg_.sum_fields + f] += in.sums[f];
    }
    const uint64_t key = memo_key(x, in, slice);
    if (in.account < memo_.size() && memo_[in.account] == key) {
        ++memo_skips_;
        return g;
    }
    const size_t nd = std::min<size_t>(cfg_.distinct_fields, in.distinct.size());
    for (size_t f = 0; f < nd; ++f) {
        if (in.distinct[f] != 0) x.distinct[f].add(in.distinct[f], t, now_, dcfg_);
    }
    if (in.account != UINT32_MAX && nd != 0) {
        if (in.account >= memo_.size())
            memo_.resize(std::max<size_t>(in.account + 1, memo_.size() + memo_.size() / 2), 0);
        memo_[in.account] = key;
    }
    return g;
}

template <class F>
void AggregateState::for_live_slices(const Group& x, int64_t now, F f) const {
    if (x.head == INT64_MIN) return;
    const int64_t lo =
        std::max(window_.first_live_slice(now), x.head - static_cast<int64_t>(ring_) + 1);
    for (int64_t k = lo; k <= x.head; ++k) {
        f(static_cast<size_t>(ring_div_.floor_mod(k)));
    }
}

uint64_t AggregateState::count(uint32_t g, int64_t now) const {
    uint64_t c = 0;
    const Group& x = groups_[g];
    for_live_slices(x, now, [&](size_t i) { c += x.counts[i]; });
    return c;
}

double AggregateState::sum(uint32_t g, size_t field, int64_t now) const {
    if (field >= cfg_.sum_fields) return 0;
    double s = 0;
    const Group& x = groups_[g];
    for_live_slices(x, now, [&](size_t i) { s += x.sums[i * cfg_.sum_fields + field]; });
    return s;
}

double AggregateState::distinct(uint32_t g, size_t field, int64_t now) {
    if (field >= cfg_.distinct_fields) return 0;
    return groups_[g].distinct[field].estimate(now, dcfg_);
}

double AggregateState::rate(uint32_t g, int64_t now) const {
    return static_cast<double>(count(g, now)) * 1e9 / static_cast<double>(window_.length_ns);
}

uint32_t AggregateState::find(uint64_t hash) const {
    const uint32_t g = index_.find(hash);
    return g == HashIndex::kNone ? kNoGroup : g;
}

size_t AggregateState::expire(int64_t now, std::vector<uint64_t>* closed) {
    // The LRU order is update order, so groups whose last event left the window are at the
    // head (out-of-order times only make a group stay a little longer).
    size_t n = 0;
    while (lru_head_ != kNoGroup && !window_.live(groups_[lru_head_].info.last_seen, now)) {
        if (closed) closed->push_back(groups_[lru_head_].info.hash);
        release(lru_head_);
        ++n;
    }
    return n;
}

void AggregateState::merge(const AggregateState& o) {
    if (o.ring_ != ring_ || o.cfg_.sum_fields != cfg_.sum_fields ||
        o.cfg_.distinct_fields != cfg_.distinct_fields) {
        return;
    }
    now_ = std::max(now_, o.now_);
    for (const Group& y : o.groups_) {
        if (!y.used) continue;
        uint32_t g = index_.find(y.info.hash);
        if (g == HashIndex::kNone) g = allocate(y.info.hash, y.info.text, y.info.first_seen);
        Group& x = groups_[g];
        x.info.first_seen = std::min(x.info.first_seen, y.info.first_seen);
        x.info.last_seen = std::max(x.info.last_seen, y.info.last_seen);
        if (y.head != INT64_MIN) {
            advance(x, y.head);
            for (int64_t k = y.head - static_cast<int64_t>(ring_) + 1; k <= y.head; ++k) {
                if (k <= x.head - static_cast<int64_t>(ring_)) continue;
                const size_t i = static_cast<size_t>(ring_div_.floor_mod(k));
                x.counts[i] += y.counts[i];
                for (size_t f = 0; f < cfg_.sum_fields; ++f) {
                    x.sums[i * cfg_.sum_fields + f] += y.sums[i * cfg_.sum_fields + f];
                }
            }
        }
        for (size_t f = 0; f < cfg_.distinct_fields; ++f)
            x.distinct[f].merge(y.distinct[f], now_, dcfg_);
    }
}

size_t AggregateState::memory_bytes() const {
    size_t b = groups_.capacity() * sizeof(Group) + free_.capacity() * 4 + index_.memory_bytes() +
               memo_.capacity() * sizeof(uint64_t);
    for (const Group& x : groups_) {
        if (!x.used) continue;
        b += x.counts.capacity() * 4 + x.sums.capacity() * 8 +
             x.distinct.capacity() * sizeof(DistinctCounter) +
             (x.info.text.capacity() > 15 ? x.info.text.capacity() + 1 : 0);
        for (const DistinctCounter& d : x.distinct)
            b += d.memory_bytes();
    }
    return b;
}

void AggregateState::save(StateWriter& w) const {
    w.i64(window_.length_ns);
    w.i64(window_.resolution_ns);
    w.u32(static_cast<uint32_t>(ring_));
    w.u32(cfg_.sum_fields);
    w.u32(cfg_.distinct_fields);
    w.i64(now_);
    w.u64(evicted_);
    w.u32(static_cast<uint32_t>(index_.size()));
    // Oldest first, so a restore rebuilds the same LRU order.
    for (uint32_t g = lru_head_; g != kNoGroup; g = groups_[g].next) {
        const Group& x = groups_[g];
        w.u64(x.info.hash);
        w.str(x.info.text);
        w.i64(x.info.first_seen);
        w.i64(x.info.last_seen);
        w.i64(x.head);
        for (uint32_t c : x.counts)
            w.u32(c);
        for (double s : x.sums)
            w.f64(s);
        for (const DistinctCounter& d : x.distinct)
            d.save(w);
    }
}

bool AggregateState::load(StateReader& r) {
    AggregateState fresh(cfg_);
    const int64_t length = r.i64(), resolution = r.i64();
    const uint32_t ring = r.u32(), sums = r.u32(), distinct = r.u32();
    if (!r.ok() || length != window_.length_ns || resolution != window_.resolution_ns ||
        ring != ring_ || sums != cfg_.sum_fields || distinct != cfg_.distinct_fields) {
        return false;
    }
    fresh.now_ = r.i64();
    fresh.evicted_ = r.u64();
    const uint32_t n = r.count(8 + 4 + 24 + ring_ * 4, cfg_.max_groups);
    for (uint32_t i = 0; i < n && r.ok(); ++i) {
        const uint64_t hash = r.u64();
        const std::string text = r.str();
        const int64_t first = r.i64(), last = r.i64(), head = r.i64();
        if (!r.ok() || fresh.index_.find(hash) != HashIndex::kNone || !sane_time(first) ||
            !sane_time(last) || (head != INT64_MIN && !sane_time(head))) {
            return false;
        }
        const uint32_t g = fresh.allocate(hash, text, first);
        Group& x = fresh.groups_[g];
        x.info.last_seen = last;
        x.head = head;
        for (uint32_t& c : x.counts)
            c = r.u32();
        for (double& s : x.sums)
            s = r.f64();
        for (DistinctCounter& d : x.distinct) {
            if (!d.load(r, fresh.dcfg_)) return false;
        }
    }
    if (!r.ok() ||
        (n != 0 ? !sane_time(fresh.now_) : (fresh.now_ != INT64_MIN && !sane_time(fresh.now_)))) {
        return false;
    }
    *this = std::move(fresh);
    return true;
}

}  // namespace sybilwatch::rules
