// SynchronyState: the runtime of one `kind: synchrony` rule: accounts driven by one scheduler
// are active in the same time buckets. Per account it keeps the set of active buckets over
// the window: 16 B per account id, which hold up to three buckets inline (most accounts are
// active in a few minutes of the window and can never be compared), and past three a ring
// bitset of window/bucket bits from a pool (48 B more for 6 h of 1 min buckets).
//
// Every scan_interval a scan finds the clusters: accounts with at least min_active_buckets
// get a MinHash signature of their bucket set (bands x rows hashes, computed from a per-scan
// table of hash values of the live buckets, so a signature costs active_buckets x K mins);
// LSH banding (accounts whose signatures agree on all rows of a band share a bucket) yields
// candidate pairs without comparing all pairs; each candidate is verified with the exact
// Jaccard similarity of the two bitsets and united when >= min_similarity. Components of at
// least min_accounts are clusters. Bands and rows are chosen from min_similarity so a pair at
// the threshold becomes a candidate with >= 95% probability while random pairs rarely do.
//
// Cluster ids are stable across scans (a new cluster takes the id of the previous cluster it
// shares the most accounts with); events follow the link rule's ClusterEvent (no volume).
// A bucket b (events in [b*bucket, (b+1)*bucket)) counts while now < b*bucket + window.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "rules/hash_index.hpp"
#include "rules/huge_page_allocator.hpp"
#include "rules/link_state.hpp"
#include "rules/state_codec.hpp"
#include "rules/window.hpp"

namespace sybilwatch::rules {

struct SynchronyConfig {
    int64_t bucket_ns = 60'000'000'000;
    int64_t window_ns = 6 * 3600'000'000'000;
    double min_similarity = 0.7;
    uint32_t min_active_buckets = 8;
    uint32_t min_accounts = 5;
    int64_t scan_interval_ns = 0;  // 0 = max(bucket, window / 36)
    uint32_t bands = 0, rows = 0;  // 0 = chosen from min_similarity
    uint64_t seed = 0x73796e6368726f6eULL;
};

class SynchronyState {
  public:
    static constexpr uint32_t kNone = UINT32_MAX;

    struct ClusterInfo {
        uint64_t id = 0;
        uint32_t accounts = 0;
        int64_t first_seen = 0, last_seen = 0;  // first and last active bucket start
        double min_similarity = 1.0;            // lowest verified pair that joined it
    };

    explicit SynchronyState(const SynchronyConfig& cfg);

    void observe(int64_t t, uint32_t account);
    // Starts loading what observe(t, account) reads first (the engine calls it early).
    void prefetch(uint32_t account) const {
        if (account < slots_.size()) __builtin_prefetch(&slots_[account]);
    }
    // The next step, once prefetch(account)'s line has arrived: a pooled account's bitset,
    // unless observe(t, account) will not read it (t's bucket is the newest, already set).
    void prefetch_bits(uint32_t account, int64_t t) const {
        if (account < slots_.size() && (slots_[account].set & kPooled) &&
            !((slots_[account].set & kLastSet) &&
              window_.slice(std::clamp(t, -kMaxEventTime, kMaxEventTime)) ==
                  slots_[account].last)) {
            // A bitset (48 B for 6 h of minutes) straddles two lines half the time, and the
            // word observe() sets may be in either.
            const uint64_t* w = pool(static_cast<uint32_t>(slots_[account].set));
            __builtin_prefetch(w);
            __builtin_prefetch(w + words_ - 1);
        }
    }
    // Runs a scan when one is due.
    void advance(int64_t now);
    void scan(int64_t now);
    std::vector<ClusterEvent> take_events();

    uint64_t cluster_of(uint32_t account) const;
    bool cluster(uint64_t id, ClusterInfo& out) const;
    std::vector<uint32_t> accounts(uint64_t id, size_t cap = SIZE_MAX) const;
    std::vector<uint64_t> cluster_ids() const;
    // Exact Jaccard similarity of two accounts' live bucket sets at `now`.
    double similarity(uint32_t a, uint32_t b, int64_t now) const;
    uint32_t active_buckets(uint32_t a, int64_t now) const;

    // ORs another state's bucket sets in (account ids mapped as for LinkState::merge).
    void merge(const SynchronyState& other, std::span<const uint32_t> account_map);

    int64_t now() const { return now_; }
    uint32_t bands() const { return bands_; }
    uint32_t rows() const { return rows_; }
    size_t tracked_accounts() const { return tracked_; }
    size_t bitsets() const { return pool_used_ - pool_free_.size(); }  // accounts past inline
    uint64_t candidates_checked() const { return checked_; }
    const SynchronyConfig& config() const { return cfg_; }
    size_t memory_bytes() const;

    void save(StateWriter& w) const;
    bool load(StateReader& r, uint32_t account_limit);

  private:
    struct Cluster {
        uint64_t id = 0;
        std::vector<uint32_t> members;  // sorted
        int64_t first_seen = 0, last_seen = 0;
        double min_similarity = 1.0;
    };
    // One account id. last: the newest bucket rolled to (INT64_MIN: not tracked). set: the
    // active buckets in (last - ring, last]: up to kInline inline, as distances last - bucket
    // (16 bits each, nearest first, the count in bits 48-49), or, with kPooled set, the index
    // of a ring bitset in the pool (bucket b at slot b mod ring).
    struct Slot {
        int64_t last = INT64_MIN;
        uint64_t set = 0;
    };
    static constexpr uint64_t kPooled = uint64_t{1} << 63;
    // Pooled only: the bit of bucket `last` is set. An account sends several connections per
    // bucket; this answers the repeats from the slot's line, without the bitset's cache miss.
    static constexpr uint64_t kLastSet = uint64_t{1} << 62;
    static constexpr uint32_t kInline = 3;

    void ensure(uint32_t a);
    void track(uint32_t a, int64_t last);
    void untrack(uint32_t a);
    void roll(uint32_t a, int64_t bucket);        // drops buckets up to bucket - ring
    void set_bucket(uint32_t a, int64_t bucket);  // bucket in (last - ring, last]
    bool has(uint32_t a, int64_t bucket) const;
    void to_pool(uint32_t a);
    void to_inline(uint32_t a);  // at most kInline buckets set
    template <class F>
    void for_each_bucket(uint32_t a, F f) const;  // f(bucket) for each set bucket
    uint32_t slot(int64_t bucket) const {
        return static_cast<uint32_t>(ring_div_.floor_mod(bucket));
    }
    uint64_t* pool(uint32_t entry) const {
        const auto chunk = static_cast<uint32_t>(pool_div_.div(entry));
        return reinterpret_cast<uint64_t*>(pool_[chunk].data()) +
               size_t{entry - chunk * pool_chunk_} * words_;
    }
    // The bitset of a pooled account (every eligible account is pooled during a scan).
    std::span<uint64_t> bits(uint32_t a) {
        return {pool(static_cast<uint32_t>(slots_[a].set)), words_};
    }
    std::span<const uint64_t> bits(uint32_t a) const {
        return {pool(static_cast<uint32_t>(slots_[a].set)), words_};
    }
    std::vector<uint64_t> live_mask(int64_t now) const;

    SynchronyConfig cfg_;
    Window window_;  // resolution = bucket
    uint32_t ring_;  // slots (bits) per account
    uint32_t words_;
    uint32_t bands_, rows_;
    bool inline_ok_;  // distances fit 16 bits (ring <= 65536)
    HugeVector<Slot> slots_;
    // Bitsets in huge-page chunks of pool_chunk_ each (growing moves none).
    std::vector<HugeBlock> pool_;
    uint32_t pool_chunk_;
    Divisor ring_div_, pool_div_;  // ring_ and pool_chunk_, for every observation's slot
    uint32_t pool_used_ = 0;       // entries handed out so far
    std::vector<uint32_t> pool_free_;
    size_t tracked_ = 0;
    std::vector<Cluster> clusters_;
    HashIndex member_index_;  // account -> clusters_ index
    std::vector<ClusterEvent> events_;
    uint64_t next_id_ = 1;
    uint64_t checked_ = 0;
    int64_t now_ = INT64_MIN;
    int64_t last_scan_ = INT64_MIN;
};

}  // namespace sybilwatch::rules
