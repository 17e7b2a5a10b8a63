// DistinctCounter: how many distinct values were seen within a sliding window.
//
// Exact while small: an open-addressing set of (value hash, last seen), so an aggregate group
// with a handful of accounts costs a few dozen bytes and its count is exact at the window
// boundary (the Window definition, at its resolution). Past `exact_limit` live values it
// turns into a SlidingHll (per-register latest timestamps, see hll.hpp) and stays one: groups
// that large are the popular ones, few in number, and 1.6% error is irrelevant there.
//
// Why not one HLL per time slice: a 1 h window in 60 slices would cost 60 sketches per group
// and an estimate would merge all of them; the timestamped registers cost one sketch and
// expire values individually.
//
// The limit (1,024) keeps counts near rule thresholds (tens to hundreds) exact; the exact set
// (at most 32 KiB) stays below a dense sketch (64 KiB), and one probe is cheaper than a sparse
// sketch's sorted insert (+9% through the default pack, bench/compare_rules.sh).
//
// The window and limits are passed in by the owner (one DistinctConfig per rule, not per
// counter) to keep each counter at 48 bytes.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "rules/hll.hpp"
#include "rules/state_codec.hpp"
#include "rules/window.hpp"

namespace sybilwatch::rules {

struct DistinctConfig {
    Window window;
    uint32_t exact_limit = 1024;  // live values kept exactly before switching to the sketch
    int hll_precision = SlidingHll::kDefaultPrecision;
};

class DistinctCounter {
  public:
    // Value hashes are any 64-bit hash of the value (0 is folded onto 1).
    void add(uint64_t hash, int64_t t, int64_t now, const DistinctConfig& cfg);
    // Starts loading what add(hash, ...) reads (a sketch's register; see SlidingHll).
    void prefetch(uint64_t hash, int stage) const {
        if (hll_) hll_->prefetch(hash == 0 ? 1 : hash, stage);
    }
    // Not const: a sketch drops what has expired by `now` (see SlidingHll::estimate).
    double estimate(int64_t now, const DistinctConfig& cfg);
    bool is_exact() const { return !hll_; }
    void merge(const DistinctCounter& other, int64_t now, const DistinctConfig& cfg);
    size_t memory_bytes() const;

    void save(StateWriter& w) const;
    bool load(StateReader& r, const DistinctConfig& cfg);

  private:
    struct Entry {
        uint64_t hash = 0;  // 0 = empty slot
        int64_t t = 0;      // last seen
    };
    void insert(uint64_t h, int64_t t);
    void purge(int64_t now, const DistinctConfig& cfg);
    void to_sketch(int64_t now, const DistinctConfig& cfg);

    std::vector<Entry> table_;
    uint32_t used_ = 0;
    int64_t min_expiry_ = INT64_MAX;  // earliest expiry among entries
    std::unique_ptr<SlidingHll> hll_;
};

}  // namespace sybilwatch::rules
