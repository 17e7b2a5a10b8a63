// The rules engine: attributed observations in, Findings out. It evaluates every enabled rule's
// condition (and exceptions) on each observation and feeds the matching ones to the rule's
// runtime (match: directly; aggregate, link, synchrony: their states), then turns what the
// runtimes report into Findings with the accounts, shared keys, networks, client stacks and
// sample connections an investigator needs. Its input is a stream of observations and nothing
// else, and its state saves, restores and merges (the same engine runs centrally over a
// fleet's observations). Time is event time: obs.ts_ns, and advance(now) for expiry.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "identity/attributed_observation.hpp"
#include "rules/account_table.hpp"
#include "rules/aggregate_state.hpp"
#include "rules/eval_context.hpp"
#include "rules/finding.hpp"
#include "rules/link_state.hpp"
#include "rules/rule_loader.hpp"
#include "rules/sample_ring.hpp"
#include "rules/state_io.hpp"
#include "rules/synchrony_state.hpp"

namespace sybilwatch::rules {

class FindingSink {
  public:
    virtual ~FindingSink() = default;
    virtual void on_finding(const Finding& f) = 0;
};

struct EngineOptions {
    uint32_t max_accounts = 4'000'000;   // accounts tracked at once (AccountTable capacity)
    uint32_t finding_accounts = 10'000;  // accounts listed in a finding (the rest counted)
    uint32_t samples = 5;                // sample connections per finding
    uint32_t max_groups = 100'000;       // per aggregate rule, and match-rule dedup entries
    // A match rule raises one finding per group (its group_by, else the account, else the
    // client address) per this long; repeats are counted, not raised.
    int64_t match_dedup_ns = 3600'000'000'000;
    // An Update when a finding's accounts (aggregate: distinct(account), else count; link and
    // synchrony: the cluster's accounts) grew by this factor since it was last raised.
    double update_factor = 1.5;
    // Growth the update factor held back is reported once a cluster's finding has been quiet
    // this long (event time), so the last finding of a farm shows its whole size.
    int64_t catch_up_ns = 300'000'000'000;
};

struct EngineStats {
    uint64_t observations = 0;
    uint64_t evaluations = 0;  // rule conditions evaluated
    uint64_t matches = 0;      // ... that held (and no exception did)
    uint64_t excepted = 0;     // held, but an exception matched
    uint64_t findings_created = 0, findings_updated = 0, findings_closed = 0;
    uint64_t suppressed = 0;  // match-rule repeats within the dedup window
    uint64_t accounts_refused = 0;
};

// Where the engine's memory goes (bytes, by its own accounting).
struct EngineMemory {
    size_t accounts = 0;  // the account table, with each account's latest facts
    size_t aggregate = 0, link = 0, synchrony = 0;  // the rules' states, by kind
    size_t bookkeeping = 0;  // open findings, match dedup, the sample ring, interned JA4s
    size_t total() const { return accounts + aggregate + link + synchrony + bookkeeping; }
};

class Engine {
  public:
    Engine(std::shared_ptr<const RuleSet> rules, const EngineOptions& opt, FindingSink& out);
    ~Engine();

    void observe(const identity::AttributedObservation& a);
    // The same as observe() on each in order (identical findings and state), faster: most of
    // an observation's cost is cache misses into per-account tables, and for a batch they are
    // started for all of its observations (the account table's slot, then the entry, then the
    // account's rule states) before the first is processed, so they overlap.
    void observe(std::span<const identity::AttributedObservation> batch);
    // Advances event time: window expiry, link rebuilds, synchrony scans, closing findings.
    void advance(int64_t now_ns);
    // Reports now the growth of every open cluster finding that the update factor held back
    // (catch-up without the quiet period): at shutdown and at the end of a replay, so the last
    // finding raised shows each cluster's whole size.
    void flush();

    // A new rule set compiled beside the running one: rules whose definition (kind and
    // everything that shapes their state) is unchanged keep their state and open findings;
    // the others start empty, and findings of removed rules are closed.
    void replace_rules(std::shared_ptr<const RuleSet> rules);
    const RuleSet& rules() const { return *rules_; }

    std::vector<uint8_t> save() const;
    StateIoResult restore(std::span<const uint8_t> bytes);
    StateIoResult merge(std::span<const uint8_t> bytes);

    const EngineStats& stats() const { return stats_; }
    size_t accounts() const { return accounts_.size(); }
    size_t memory_bytes() const { return memory().total(); }
    EngineMemory memory() const;
    int64_t now() const { return now_; }

  private:
    struct Runtime;  // one enabled rule: its spec and state

    // name_hash: AccountTable::hash of the (truncated) account name, or nullopt to compute it.
    // known: the account as a batch's look-ahead found it (ids stay valid within a batch:
    // only advance() frees them), so the name is not looked up again.
    void observe_one(const identity::AttributedObservation& a, const EvalContext& ctx,
                     std::optional<uint64_t> name_hash, const AccountTable::Ref& known = {});
    void build_runtimes(std::shared_ptr<const RuleSet> rules,
                        std::vector<std::unique_ptr<Runtime>>* previous);
    void on_match(Runtime& r, const EvalContext& ctx, uint32_t account, int64_t t);
    void on_aggregate(Runtime& r, const EvalContext& ctx, uint32_t account, int64_t t);
    // An aggregate rule's input from the observation, kept in its runtime for on_aggregate.
    void prepare_aggregate(Runtime& r, const EvalContext& ctx);
    static AggregateInput aggregate_input(const Runtime& r, uint32_t account);
    void on_link(Runtime& r, const EvalContext& ctx, uint32_t account, int64_t t);
    void prepare_link(Runtime& r, const EvalContext& ctx);  // its keys' hashes, kept in r
    // quiet_ns >= 0: also report held-back growth of clusters quiet that long.
    void drain_cluster_events(Runtime& r, int64_t quiet_ns = -1);
    void close_aggregate_groups(Runtime& r, std::span<const uint64_t> closed);
    void measure_aggregate(Runtime& r, uint32_t g);  // r.measures of group g, now
    // A Create or Update of aggregate group gh (state handle g) from r.measures; ctx: the
    // observation that raised it, or null for a catch-up (catch_up_aggregates).
    void report_aggregate(Runtime& r, uint64_t gh, uint32_t g, double level,
                          const EvalContext* ctx);
    // Reports growth the update factor held back in findings quiet for quiet_ns.
    void catch_up_aggregates(Runtime& r, int64_t quiet_ns);

    // Finding assembly.
    void start_finding(const Runtime& r, std::string_view id_seed, Finding& f) const;
    // The accounts of a finding (each id once; total: how many it has in all): their names, the
    // networks and client stacks they were last seen on, their latest connections.
    void add_members(std::span<const uint32_t> ids, uint64_t total, Finding& f) const;
    void emit(Finding& f);
    uint32_t intern_ja4(const EvalContext& ctx, std::string_view text);
    // Key hashes of the current observation: each field hashed once however many rules
    // group, link or count distinct by it.
    std::optional<uint64_t> item_hash(const EvalContext& ctx, const KeyItem& item);
    std::optional<uint64_t> tuple_hash(const EvalContext& ctx, std::span<const KeyItem> items);

    std::shared_ptr<const RuleSet> rules_;
    EngineOptions opt_;
    FindingSink& out_;
    AccountTable accounts_;
    std::vector<std::unique_ptr<Runtime>> runtimes_;
    std::vector<std::string> ja4_texts_{std::string()};
    HashIndex ja4_ids_;   // the JA4's key hash -> its id
    SampleRing samples_;  // the latest connections
    int64_t now_ = 0;
    int64_t next_account_expiry_ = 0;
    EngineStats stats_;
    Finding scratch_;
    std::string key_text_;
    std::vector<std::string> link_texts_;
    // Per observation of a batch chunk (slot 0 for a single observe()): hashes of fields
    // (valid where the bit is set; absent fields cached as absent) and the results of the
    // distinct conditions (-1: not yet evaluated), so a batch's look-ahead and its processing
    // compute them once.
    static constexpr size_t kChunk = 32;
    struct ObsCache {
        std::array<uint64_t, kFieldCount> field_hash{};
        uint64_t hashed = 0, absent = 0;
    };
    static_assert(kFieldCount <= 64);
    void select(size_t slot);  // makes slot current and empties it
    int8_t& cond_result(uint32_t condition) {
        return cond_results_[cur_ * conditions_ + condition];
    }
    std::array<ObsCache, kChunk> caches_{};
    size_t cur_ = 0;
    std::vector<int8_t> cond_results_;  // kChunk x conditions_
    // Aggregate rules that group by the same keys share one tuple hash per observation:
    // kChunk x group_keys_ (state -1: not yet computed, 0: a key is absent, 1: in the value).
    std::optional<uint64_t> group_hash(const Runtime& r, const EvalContext& ctx);
    std::vector<uint64_t> group_hash_values_;
    std::vector<int8_t> group_hash_states_;
    size_t group_keys_ = 0;
    std::vector<EvalContext> ctxs_;  // of the chunk being observed
    std::array<uint64_t, kChunk> name_hashes_{};
    std::array<AccountTable::Ref, kChunk> refs_{};
    bool prefetched_ = false;        // the current observation's rule states were prefetched
    std::vector<uint32_t> matched_;  // runtimes whose rule matched the current observation
    size_t conditions_ = 0;          // distinct (condition, exceptions) pairs among the runtimes
};

// Lower-case hex of a 64-bit hash of the rule id and a group: the stable finding_id.
std::string finding_id(std::string_view rule, std::string_view group);

}  // namespace sybilwatch::rules
