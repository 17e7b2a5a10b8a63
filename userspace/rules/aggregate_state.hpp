// AggregateState: the runtime of one `kind: aggregate` rule. Observations fall into groups
// (the hash of the group_by values); per group it keeps, over the sliding window, the count,
// the sums the rule's measures need and one DistinctCounter per distinct(FIELD) measure.
//
// Window: counts and sums live in a ring of time slices (Window::sliced, default 64 slices,
// so an event expires up to W/64 early, never late); distinct values use the same window.
// Memory: about (slices+1) * (4 + 8 * sums) bytes plus 48 bytes per distinct field per group,
// plus what each distinct counter holds (21-43 B per live value while exact; once a sketch,
// 16 B per register it uses, up to 1,024 of them, then 64 KiB). Groups are capped (max_groups): at
// the cap the least recently updated group is evicted and counted, and groups with nothing left in
// the window are dropped by expire().
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "rules/distinct_counter.hpp"
#include "rules/hash_index.hpp"
#include "rules/huge_page_allocator.hpp"
#include "rules/state_codec.hpp"
#include "rules/window.hpp"

namespace sybilwatch::rules {

struct AggregateConfig {
    int64_t window_ns = 3600'000'000'000;
    uint32_t slices = 64;  // count/sum resolution = window / slices
    uint32_t distinct_fields = 0;
    uint32_t sum_fields = 0;
    uint32_t max_groups = 100'000;
    uint32_t exact_limit = 1024;
    int hll_precision = SlidingHll::kDefaultPrecision;
};

// One observation, already reduced by the engine to what the rule needs.
struct AggregateInput {
    uint64_t group_hash = 0;
    std::string_view group_text;         // display form of the group values, kept when new
    std::span<const uint64_t> distinct;  // one value hash per distinct field; 0 = absent
    std::span<const double> sums;        // one value per sum field (absent = 0)
    // The account's table id (AccountTable), when known: lets the state skip distinct values
    // this account has already added to the group within the current slice (see memo_).
    uint32_t account = UINT32_MAX;
};

class AggregateState {
  public:
    static constexpr uint32_t kNoGroup = UINT32_MAX;

    struct GroupInfo {
        uint64_t hash = 0;
        std::string text;
        int64_t first_seen = 0, last_seen = 0;
    };

    explicit AggregateState(const AggregateConfig& cfg);

    // Adds one observation at event time t; returns its group's handle, valid until the group
    // is evicted or expires. The state's clock (now()) is the largest t seen. *created (if
    // given) says whether the group is new, so a caller that formats group_text only then can
    // pass it through set_text() instead of looking the group up first.
    uint32_t observe(int64_t t, const AggregateInput& in, bool* created = nullptr);
    void set_text(uint32_t g, std::string_view text) { groups_[g].info.text.assign(text); }
    // Starts loading what observe(t, in) will read of the group's distinct counters (stage 0,
    // then 1: see SlidingHll::prefetch), unless the account's memo says observe() will not
    // read them. The engine calls it for every matching rule before it feeds any, so their
    // cache misses overlap; prefetch_account() before that, so the memo has arrived.
    // Returns whether observe() would read them (false: no group yet, or the memo says not).
    bool prefetch(int64_t t, const AggregateInput& in, int stage) const;
    // Starts loading the group's record (all of its lines: the memo key needs its serial, at
    // the end), which prefetch() and observe() read first.
    void prefetch_group(uint64_t group_hash) const {
        const uint32_t g = index_.find(group_hash);
        if (g == HashIndex::kNone) return;
        const auto* p = reinterpret_cast<const char*>(&groups_[g]);
        for (size_t b = 0; b < sizeof(Group); b += 64)
            __builtin_prefetch(p + b);
        __builtin_prefetch(p + sizeof(Group) - 1);
    }
    void prefetch_account(uint32_t account) const {
        if (account < memo_.size()) __builtin_prefetch(&memo_[account]);
    }

    // Measures of a group at `now` (normally now()).
    uint64_t count(uint32_t g, int64_t now) const;
    double sum(uint32_t g, size_t field, int64_t now) const;
    double distinct(uint32_t g, size_t field, int64_t now);  // settles a sketch: not const
    double rate(uint32_t g, int64_t now) const;              // count per second over the window
    const GroupInfo& info(uint32_t g) const { return groups_[g].info; }
    uint32_t find(uint64_t group_hash) const;

    // Drops groups with nothing left in the window at `now`; their hashes are appended to
    // `closed` (if given) so the engine can close their findings. Returns how many.
    size_t expire(int64_t now, std::vector<uint64_t>* closed = nullptr);

    // Adds another state's groups (same rule, e.g. another host's): counts and sums add per
    // slice, distinct counters union.
    void merge(const AggregateState& other);

    int64_t now() const { return now_; }
    size_t groups() const { return index_.size(); }
    uint64_t evicted() const { return evicted_; }
    uint64_t memo_skips() const { return memo_skips_; }  // observations whose adds were skipped
    const AggregateConfig& config() const { return cfg_; }
    size_t memory_bytes() const;

    void save(StateWriter& w) const;
    bool load(StateReader& r);  // replaces the contents; false on corrupt/mismatched input

  private:
    struct Group {
        GroupInfo info;
        int64_t head = INT64_MIN;      // newest slice written
        std::vector<uint32_t> counts;  // ring, slices_spanned entries
        std::vector<double> sums;      // ring x sum_fields
        std::vector<DistinctCounter> distinct;
        uint64_t serial = 0;                        // unique per group lifetime (memo keys)
        uint32_t prev = kNoGroup, next = kNoGroup;  // LRU list
        bool used = false;
    };
    uint32_t allocate(uint64_t hash, std::string_view text, int64_t t);
    void release(uint32_t g);
    void touch(uint32_t g);
    void unlink(uint32_t g);
    void advance(Group& grp, int64_t slice);
    template <class F>
    void for_live_slices(const Group& grp, int64_t now, F f) const;
    // What memo_ holds after `in` was added to group x in `slice` (never 0).
    static uint64_t memo_key(const Group& x, const AggregateInput& in, int64_t slice);
    bool memo_hit(const Group& x, const AggregateInput& in, int64_t slice) const {
        return in.account < memo_.size() && memo_[in.account] == memo_key(x, in, slice);
    }

    AggregateConfig cfg_;
    Window window_;
    DistinctConfig dcfg_;
    size_t ring_;
    Divisor ring_div_;  // ring_: a slice's place in the ring, on every observation
    std::vector<Group> groups_;
    std::vector<uint32_t> free_;
    HashIndex index_;
    uint32_t lru_head_ = kNoGroup, lru_tail_ = kNoGroup;  // head = least recently updated
    int64_t now_ = INT64_MIN;
    uint64_t evicted_ = 0;
    uint64_t next_serial_ = 1;
    uint64_t memo_skips_ = 0;
    // Per account id: the key of its latest distinct values added (group, values, slice). An
    // account sends many connections a minute, all with the same values: adding them again
    // within the slice changes no counter (an exact set keeps times per slice, a sketch per
    // tick of at least a slice), so observe() skips the counters, their cache misses and the
    // prefetches. Not saved: a cache, empty after load().
    HugeVector<uint64_t> memo_;
};

}  // namespace sybilwatch::rules
