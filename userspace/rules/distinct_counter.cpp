#include "rules/distinct_counter.hpp"

#include <algorithm>

#include "rules/hash_index.hpp"

namespace sybilwatch::rules {

void DistinctCounter::insert(uint64_t h, int64_t t) {
    if ((used_ + 1) * 4 > table_.size() * 3) {
        std::vector<Entry> old = std::move(table_);
        table_.assign(std::max<size_t>(4, old.size() * 2), Entry{});
        used_ = 0;
        for (const Entry& e : old) {
            if (e.hash != 0) insert(e.hash, e.t);
        }
    }
    const size_t mask = table_.size() - 1;
    for (size_t i = mix64(h) & mask;; i = (i + 1) & mask) {
        Entry& e = table_[i];
        if (e.hash == h) {
            e.t = std::max(e.t, t);
            return;
        }
        if (e.hash == 0) {
            e = Entry{h, t};
            ++used_;
            return;
        }
    }
}

void DistinctCounter::purge(int64_t now, const DistinctConfig& cfg) {
    std::vector<Entry> old = std::move(table_);
    table_.clear();
    used_ = 0;
    min_expiry_ = INT64_MAX;
    size_t live = 0;
    for (const Entry& e : old)
        live += (e.hash != 0 && cfg.window.live(e.t, now));
    if (live == 0) return;
    size_t cap = 4;
    while (cap * 3 < (live + 1) * 4)
        cap *= 2;
    table_.assign(cap, Entry{});
    for (const Entry& e : old) {
        if (e.hash != 0 && cfg.window.live(e.t, now)) {
            insert(e.hash, e.t);
            min_expiry_ = std::min(min_expiry_, cfg.window.expires_at(e.t));
        }
    }
}

void DistinctCounter::to_sketch(int64_t now, const DistinctConfig& cfg) {
    hll_ = std::make_unique<SlidingHll>(cfg.window, cfg.hll_precision);
    for (const Entry& e : table_) {
        if (e.hash != 0) hll_->add(e.hash, e.t, now);
    }
    table_.clear();
    table_.shrink_to_fit();
    used_ = 0;
    min_expiry_ = INT64_MAX;
}

void DistinctCounter::add(uint64_t hash, int64_t t, int64_t now, const DistinctConfig& cfg) {
    if (hash == 0) hash = 1;
    if (hll_) {
        hll_->add(hash, t, now);
        return;
    }
    if (!cfg.window.live(t, now)) return;  // already outside the window
    if (now >= min_expiry_) purge(now, cfg);
    insert(hash, t);
    min_expiry_ = std::min(min_expiry_, cfg.window.expires_at(t));
    if (used_ > cfg.exact_limit) {
        purge(now, cfg);
        if (used_ > cfg.exact_limit) to_sketch(now, cfg);
    }
}

double DistinctCounter::estimate(int64_t now, const DistinctConfig& cfg) {
    if (hll_) return hll_->estimate(now);
    if (now < min_expiry_) return used_;
    size_t live = 0;
    for (const Entry& e : table_)
        live += (e.hash != 0 && cfg.window.live(e.t, now));
    return static_cast<double>(live);
}

void DistinctCounter::merge(const DistinctCounter& o, int64_t now, const DistinctConfig& cfg) {
    if (o.hll_) {
        if (!hll_) to_sketch(now, cfg);
        hll_->merge(*o.hll_);
        return;
    }
    for (const Entry& e : o.table_) {
        if (e.hash != 0) add(e.hash, e.t, now, cfg);
    }
}

size_t DistinctCounter::memory_bytes() const {
    return table_.capacity() * sizeof(Entry) +
           (hll_ ? sizeof(SlidingHll) + hll_->memory_bytes() : 0);
}

void DistinctCounter::save(StateWriter& w) const {
    w.u8(hll_ ? 1 : 0);
    if (hll_) {
        hll_->save(w);
        return;
    }
    w.u32(used_);
    for (const Entry& e : table_) {
        if (e.hash == 0) continue;
        w.u64(e.hash);
        w.i64(e.t);
    }
}

bool DistinctCounter::load(StateReader& r, const DistinctConfig& cfg) {
    *this = DistinctCounter{};
    const uint8_t mode = r.u8();
    if (!r.ok() || mode > 1) return false;
    if (mode == 1) {
        hll_ = std::make_unique<SlidingHll>(cfg.window, cfg.hll_precision);
        return hll_->load(r);
    }
    // A saved exact set is never larger than the limit it was saved under; allow some slack
    // for a limit lowered between runs, but not an unbounded count.
    const uint32_t n = r.count(16, std::max<uint32_t>(cfg.exact_limit, 1) * 4);
    for (uint32_t i = 0; i < n && r.ok(); ++i) {
        const uint64_t h = r.u64();
        const int64_t t = r.i64();
        if (h == 0 || !sane_time(t)) return false;
        insert(h, t);
        min_expiry_ = std::min(min_expiry_, cfg.window.expires_at(t));
    }
    return r.ok();
}

}  // namespace sybilwatch::rules
