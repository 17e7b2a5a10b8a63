#include "rules/engine.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "rules/eval_context.hpp"
#include "rules/field.hpp"
#include "rules/flat_map.hpp"
#include "rules/id_set.hpp"
#include "rules/state_codec.hpp"

namespace sybilwatch::rules {

namespace {

constexpr size_t kFindingKeys = 20;           // shared keys listed per finding
constexpr size_t kFindingContext = 10;        // networks and client stacks listed per finding
constexpr uint32_t kPreReportAccounts = 256;  // accounts an aggregate group keeps before it fires
constexpr uint64_t kEvalEveryObservation = 256;  // see on_aggregate
constexpr size_t kMaxLinkKeys = 16;              // link_on entries used per rule

uint64_t hash_text(std::string_view s, uint64_t seed = 0) {
    return hash_bytes({reinterpret_cast<const uint8_t*>(s.data()), s.size()}, seed);
}

// What shapes a rule's state: a rule whose signature is unchanged keeps its state on reload.
uint64_t signature(const RuleSpec& s) {
    std::string d = to_string(s.kind);
    auto add = [&](std::string_view part) {
        d += '\x1f';
        d += part;
    };
    add(std::to_string(s.window_ns));
    for (const auto& k : s.group_by)
        add(key_name(k));
    add("|");
    for (const auto& key : s.link_on)
        add(key_name(key));
    add(std::to_string(s.max_accounts_per_key));
    add(std::to_string(s.min_accounts));
    add(std::to_string(s.min_requests));
    add(std::to_string(s.min_bytes));
    add(std::to_string(s.bucket_ns));
    add(std::to_string(s.min_similarity));
    add(std::to_string(s.min_active_buckets));
    for (const auto& m : s.measures)
        add(measure_name(m));
    add(s.threshold.text());
    add(s.definition);
    return hash_text(d);
}

Severity severity_of(const RuleSpec& s) {
    return s.severity;
}

std::string network_text(const net::IpAddress& ip) {
    // The /24 (IPv4) or /48 (IPv6) of the address, as rules see net24.
    net::IpAddress masked = ip;
    const size_t keep = ip.family == 4 ? 3 : 6;
    for (size_t i = keep; i < masked.bytes.size(); ++i)
        masked.bytes[i] = 0;
    return masked.to_string() + (ip.family == 4 ? "/24" : "/48");
}

// A network (AccountFacts' family and leading bytes) as one number, and back.
uint64_t network_key(const AccountFacts& fa) {
    uint64_t k = uint64_t{fa.family} << 48;
    for (size_t i = 0; i < fa.net.size(); ++i)
        k |= uint64_t{fa.net[i]} << (8 * i);
    return k;
}
net::IpAddress network_of_key(uint64_t k) {
    AccountFacts fa;
    fa.family = static_cast<uint8_t>(k >> 48);
    for (size_t i = 0; i < fa.net.size(); ++i)
        fa.net[i] = static_cast<uint8_t>(k >> (8 * i));
    return fa.network();
}

// The n values seen most often in `values` (most first, ties in text order), named by
// text(value). Only values that can make the list get their text: those seen at least as
// often as the n-th most frequent.
template <typename T, typename Text>
std::vector<KeyCount> busiest(std::vector<T> values, std::string_view field, size_t n, Text text) {
    std::sort(values.begin(), values.end());
    std::vector<std::pair<T, uint64_t>> counts;
    for (size_t i = 0; i < values.size();) {
        size_t j = i + 1;
        while (j < values.size() && values[j] == values[i])
            ++j;
        counts.emplace_back(values[i], j - i);
        i = j;
    }
    uint64_t least = 0;
    if (counts.size() > n && n > 0) {
        // The n-th largest count (the order of counts does not matter: out is sorted below).
        const auto nth = counts.begin() + static_cast<std::ptrdiff_t>(n - 1);
        std::nth_element(counts.begin(), nth, counts.end(),
                         [](const auto& a, const auto& b) { return a.second > b.second; });
        least = nth->second;
    }
    std::vector<KeyCount> out;
    for (const auto& [value, c] : counts)
        if (c >= least) out.push_back({std::string(field), std::string(text(value)), c});
    std::sort(out.begin(), out.end(), [](const KeyCount& a, const KeyCount& b) {
        return a.accounts != b.accounts ? a.accounts > b.accounts : a.value < b.value;
    });
    if (out.size() > n) out.resize(n);
    return out;
}

}  // namespace

std::string finding_id(std::string_view rule, std::string_view group) {
    char buf[20];
    std::snprintf(buf, sizeof buf, "%016llx",
                  static_cast<unsigned long long>(hash_text(group, hash_text(rule))));
    return buf;
}

struct Engine::Runtime {
    const RuleSpec* spec = nullptr;
    uint64_t signature = 0;
    uint32_t condition = 0;  // index of its (condition, exceptions) among the distinct ones
    uint32_t group_key = 0;  // aggregate: index of its group_by among the distinct ones
    std::unique_ptr<AggregateState> agg;
    std::unique_ptr<LinkState> link;
    std::unique_ptr<SynchronyState> sync;

    // aggregate: per measure slot, where its value comes from.
    enum class Src : uint8_t { Count, Rate, Distinct, Sum };
    std::vector<std::pair<Src, uint32_t>> measure_src;
    std::vector<KeyItem> distinct_items;
    std::vector<FieldId> sum_fields;
    std::vector<uint64_t> distinct_hashes;
    std::vector<double> sums, measures;
    std::optional<uint64_t> group_hash;  // of the current observation (prepare_aggregate)
    std::vector<LinkKey> link_keys;      // of the current observation (prepare_link)
    int account_measure = -1;            // slot of distinct(account), if measured
    // The current observation's update reads distinct counters (AggregateState::prefetch).
    bool agg_reads = false;

    struct Group {
        IdSet accounts;  // bounded
        bool reported = false;
        uint32_t revision = 0;
        double level = 0;  // distinct(account) or count at the last report
        int64_t first_seen = 0, last_seen = 0;
        int64_t evaluated_ns = 0;  // event time its measures were last computed
        int64_t reported_at = 0;   // engine time of its last finding
        int64_t checked_at = 0;    // ... and of its last catch-up check (catch_up_aggregates)
        std::vector<std::string> output_fields;  // the output's %FIELD texts then (not saved)
        uint64_t observations = 0;
        Volume volume;
    };
    FlatMap<Group> groups;

    // match: group hash -> when it last raised a finding.
    std::unordered_map<uint64_t, int64_t> dedup;
    // link/synchrony: cluster id -> its finding's revision and reported size.
    struct Reported {
        uint32_t revision = 0;
        uint32_t accounts = 0;
        int64_t at_ns = 0;  // event time of the last report
    };
    std::unordered_map<uint64_t, Reported> revisions;
};

Engine::Engine(std::shared_ptr<const RuleSet> rules, const EngineOptions& opt, FindingSink& out)
    : opt_(opt), out_(out), accounts_(opt.max_accounts) {
    ctxs_.reserve(kChunk);
    build_runtimes(std::move(rules), nullptr);
}

Engine::~Engine() = default;

void Engine::build_runtimes(std::shared_ptr<const RuleSet> rules,
                            std::vector<std::unique_ptr<Runtime>>* previous) {
    // The previous runtimes point into the previous rule set: keep it until they are gone.
    const std::shared_ptr<const RuleSet> previous_rules = std::move(rules_);
    rules_ = std::move(rules);
    std::vector<std::unique_ptr<Runtime>> next;
    for (const RuleSpec& s : rules_->rules()) {
        if (!s.enabled) continue;
        const uint64_t sig = signature(s);
        std::unique_ptr<Runtime> r;
        if (previous) {
            for (auto& old : *previous) {
                if (old && old->spec->id == s.id && old->signature == sig) {
                    r = std::move(old);
                    break;
                }
            }
        }
        if (!r) {
            r = std::make_unique<Runtime>();
            r->signature = sig;
            switch (s.kind) {
                case RuleKind::Match:
                    break;
                case RuleKind::Aggregate: {
                    AggregateConfig c;
                    c.window_ns = s.window_ns > 0 ? s.window_ns : 3600'000'000'000;
                    c.max_groups = opt_.max_groups;
                    for (const auto& m : s.measures) {
                        if (m.kind == MeasureRef::Kind::Distinct) ++c.distinct_fields;
                        if (m.kind == MeasureRef::Kind::Sum) ++c.sum_fields;
                    }
                    r->agg = std::make_unique<AggregateState>(c);
                    break;
                }
                case RuleKind::Link: {
                    LinkConfig c;
                    if (s.window_ns > 0) c.window_ns = s.window_ns;
                    c.max_accounts_per_key = s.max_accounts_per_key;
                    c.min_accounts = s.min_accounts;
                    c.min_requests = s.min_requests;
                    c.min_bytes = s.min_bytes;
                    r->link = std::make_unique<LinkState>(c);
                    break;
                }
                case RuleKind::Synchrony: {
                    SynchronyConfig c;
                    if (s.bucket_ns > 0) c.bucket_ns = s.bucket_ns;
                    if (s.window_ns > 0) c.window_ns = s.window_ns;
                    c.min_similarity = s.min_similarity;
                    c.min_active_buckets = s.min_active_buckets;
                    c.min_accounts = s.min_accounts;
                    r->sync = std::make_unique<SynchronyState>(c);
                    break;
                }
            }
        }
        r->spec = &s;
        // Measure sources are rebuilt from the (possibly new) spec object every time.
        r->measure_src.clear();
        r->distinct_items.clear();
        r->sum_fields.clear();
        r->account_measure = -1;
        for (size_t i = 0; i < s.measures.size(); ++i) {
            const auto& m = s.measures[i];
            switch (m.kind) {
                case MeasureRef::Kind::Count:
                    r->measure_src.push_back({Runtime::Src::Count, 0});
                    break;
                case MeasureRef::Kind::Rate:
                    r->measure_src.push_back({Runtime::Src::Rate, 0});
                    break;
                case MeasureRef::Kind::Distinct:
                    if (m.field == FieldId::Account) r->account_measure = static_cast<int>(i);
                    r->measure_src.push_back(
                        {Runtime::Src::Distinct, static_cast<uint32_t>(r->distinct_items.size())});
                    r->distinct_items.push_back(KeyItem{m.field, 0});
                    break;
                case MeasureRef::Kind::Sum:
                    r->measure_src.push_back(
                        {Runtime::Src::Sum, static_cast<uint32_t>(r->sum_fields.size())});
                    r->sum_fields.push_back(m.field);
                    break;
            }
        }
        r->distinct_hashes.assign(r->distinct_items.size(), 0);
        r->sums.assign(r->sum_fields.size(), 0);
        r->measures.assign(s.measures.size(), 0);
        next.push_back(std::move(r));
    }
    // Findings of rules that went away (or changed) are closed.
    if (previous) {
        for (auto& old : *previous) {
            if (!old) continue;
            for (const auto& [cluster, rep] : old->revisions) {
                start_finding(*old, std::to_string(cluster), scratch_);
                scratch_.activity = FindingActivity::Close;
                scratch_.revision = rep.revision + 1;
                scratch_.output = "rule removed or changed";
                emit(scratch_);
            }
            for (const auto& [hash, g] : old->groups) {
                if (!g.reported) continue;
                start_finding(*old, std::to_string(hash), scratch_);
                scratch_.activity = FindingActivity::Close;
                scratch_.revision = g.revision + 1;
                scratch_.output = "rule removed or changed";
                emit(scratch_);
            }
        }
    }
    runtimes_ = std::move(next);
    link_texts_.assign(8, std::string());
    // Rules with the same condition and exceptions share one evaluation per observation.
    conditions_ = 0;
    for (size_t i = 0; i < runtimes_.size(); ++i) {
        Runtime& r = *runtimes_[i];
        r.condition = static_cast<uint32_t>(conditions_);
        for (size_t j = 0; j < i; ++j) {
            const RuleSpec& o = *runtimes_[j]->spec;
            if (o.condition.same_as(r.spec->condition) &&
                o.exceptions.same_as(r.spec->exceptions)) {
                r.condition = runtimes_[j]->condition;
                break;
            }
        }
        if (r.condition == conditions_) ++conditions_;
    }
    cond_results_.assign(kChunk * conditions_, -1);
    group_keys_ = 0;
    for (size_t i = 0; i < runtimes_.size(); ++i) {
        Runtime& r = *runtimes_[i];
        if (!r.agg) continue;
        r.group_key = static_cast<uint32_t>(group_keys_);
        for (size_t j = 0; j < i; ++j) {
            if (runtimes_[j]->agg && runtimes_[j]->spec->group_by == r.spec->group_by) {
                r.group_key = runtimes_[j]->group_key;
                break;
            }
        }
        if (r.group_key == group_keys_) ++group_keys_;
    }
    group_hash_values_.assign(kChunk * group_keys_, 0);
    group_hash_states_.assign(kChunk * group_keys_, -1);
}

std::optional<uint64_t> Engine::group_hash(const Runtime& r, const EvalContext& ctx) {
    const std::vector<KeyItem>& keys = r.spec->group_by;
    if (keys.empty()) return 0;
    const size_t k = cur_ * group_keys_ + r.group_key;
    if (group_hash_states_[k] < 0) {
        const std::optional<uint64_t> h = tuple_hash(ctx, keys);
        group_hash_states_[k] = h.has_value();
        group_hash_values_[k] = h.value_or(0);
    }
    if (group_hash_states_[k] == 0) return std::nullopt;
    return group_hash_values_[k];
}

void Engine::replace_rules(std::shared_ptr<const RuleSet> rules) {
    auto previous = std::move(runtimes_);
    build_runtimes(std::move(rules), &previous);
}

uint32_t Engine::intern_ja4(const EvalContext& ctx, std::string_view text) {
    if (text.empty()) return 0;
    // By the JA4's key hash, which the rules that group or link by ja4 use too.
    const uint64_t h = item_hash(ctx, KeyItem{FieldId::Ja4, 0}).value_or(0);
    const uint32_t known = ja4_ids_.find(h);
    if (known != HashIndex::kNone) return ja4_texts_[known] == text ? known : 0;  // 0: collision
    if (ja4_texts_.size() > 100'000) return 0;  // bounded: beyond, stacks are not listed
    const uint32_t id = static_cast<uint32_t>(ja4_texts_.size());
    ja4_texts_.emplace_back(text);
    ja4_ids_.insert(h, id);
    return id;
}

std::optional<uint64_t> Engine::item_hash(const EvalContext& ctx, const KeyItem& item) {
    if (item.bucket_width > 0) return key_hash(ctx, item);
    const auto f = static_cast<size_t>(item.field);
    const uint64_t bit = uint64_t{1} << f;
    ObsCache& c = caches_[cur_];
    if (c.hashed & bit) {
        if (c.absent & bit) return std::nullopt;
        return c.field_hash[f];
    }
    c.hashed |= bit;
    const auto h = key_hash(ctx, item);
    if (!h) {
        c.absent |= bit;
        return std::nullopt;
    }
    c.field_hash[f] = *h;
    return h;
}

std::optional<uint64_t> Engine::tuple_hash(const EvalContext& ctx, std::span<const KeyItem> items) {
    return tuple_hash_of(items, [&](const KeyItem& k) { return item_hash(ctx, k); });
}

void Engine::select(size_t slot) {
    cur_ = slot;
    caches_[slot].hashed = caches_[slot].absent = 0;
    std::fill_n(cond_results_.begin() + static_cast<std::ptrdiff_t>(slot * conditions_),
                conditions_, int8_t{-1});
    std::fill_n(group_hash_states_.begin() + static_cast<std::ptrdiff_t>(slot * group_keys_),
                group_keys_, int8_t{-1});
}

void Engine::observe(const identity::AttributedObservation& a) {
    const EvalContext ctx(a);
    select(0);
    prefetched_ = false;
    observe_one(a, ctx, std::nullopt);
}

namespace {
std::string_view table_name(const identity::AttributedObservation& a) {
    return std::string_view(a.account).substr(0, AccountTable::kMaxNameBytes);
}
}  // namespace

void Engine::observe(std::span<const identity::AttributedObservation> batch) {
    // Look-ahead in passes over a chunk, each pass starting the loads of the next link in the
    // chain of dependent loads an observation makes (account index slot -> entry -> id -> the
    // account's link and synchrony state -> its node or bitset), so that by the time a pass
    // reads a line the previous pass asked for, it has arrived, and the misses of the whole
    // chunk overlap. Nothing here changes state (conditions and key hashes are pure functions
    // of the observation and are kept for the processing), so the result is exactly that of
    // observing one by one. (Aggregate groups' sketches are prefetched per observation, as
    // observe() does: looked ahead over a chunk they measured slower. A software pipeline of
    // the passes, observation i's pass k beside i + 3's pass k - 1, measured slower too.)
    for (size_t from = 0; from < batch.size(); from += kChunk) {
        const auto part = batch.subspan(from, std::min(kChunk, batch.size() - from));
        const size_t n = part.size();
        // 1. Account index slots, the sample ring's slots (written over); conditions and key
        //    hashes; link key index slots; aggregate groups' records.
        ctxs_.clear();
        for (size_t i = 0; i < n; ++i) {
            const identity::AttributedObservation& a = part[i];
            name_hashes_[i] = AccountTable::hash(table_name(a));
            if (a.attributed()) accounts_.prefetch(name_hashes_[i]);
            samples_.prefetch(i);
            const EvalContext& ctx = ctxs_.emplace_back(a);
            select(i);
            if (a.attributed() && table_name(a).size() == a.account.size()) {
                constexpr auto f = static_cast<size_t>(FieldId::Account);
                caches_[i].hashed |= uint64_t{1} << f;  // the table's hash is the key hash
                caches_[i].field_hash[f] = name_hashes_[i];
            }
            for (const auto& rp : runtimes_) {
                Runtime& r = *rp;
                int8_t& res = cond_result(r.condition);
                if (res < 0)
                    res = !r.spec->condition.eval(ctx) ? 0 : r.spec->exceptions.eval(ctx) ? 1 : 2;
                if (res == 2 && r.link && a.attributed()) {
                    prepare_link(r, ctx);
                    r.link->prefetch(AccountTable::kNoAccount, r.link_keys);
                }
                if (res == 2 && r.agg) {
                    // The group's records, read first by observe_one's aggregate prefetch.
                    if (const auto gh = group_hash(r, ctx)) {
                        r.agg->prefetch_group(*gh);
                        r.groups.prefetch(*gh);
                    }
                }
            }
        }
        // 2. Account entries.
        for (size_t i = 0; i < n; ++i)
            if (part[i].attributed())
                accounts_.prefetch_entry(table_name(part[i]), name_hashes_[i]);
        // 3. Account ids (when known), so their rule states.
        for (size_t i = 0; i < n; ++i) {
            refs_[i] = part[i].attributed() ? accounts_.peek(table_name(part[i]), name_hashes_[i])
                                            : AccountTable::Ref{};
            const uint32_t id = refs_[i].id;
            if (id == AccountTable::kNoAccount) continue;
            cur_ = i;  // its condition results, from step 1
            for (const auto& rp : runtimes_) {
                if (rp->sync) rp->sync->prefetch(id);
                if (rp->link) rp->link->prefetch_account(id);
                if (rp->agg && cond_result(rp->condition) == 2) rp->agg->prefetch_account(id);
            }
        }
        // 4. Second-level account state: a synchrony bitset, a link node.
        for (size_t i = 0; i < n; ++i) {
            const uint32_t id = refs_[i].id;
            if (id == AccountTable::kNoAccount) continue;
            for (const auto& rp : runtimes_) {
                if (rp->sync) rp->sync->prefetch_bits(id, part[i].obs.ts_ns);
                if (rp->link) rp->link->prefetch_node(id);
            }
        }
        // 5. The observations, in order.
        prefetched_ = true;
        for (size_t i = 0; i < n; ++i) {
            cur_ = i;
            observe_one(part[i], ctxs_[i], name_hashes_[i], refs_[i]);
        }
        prefetched_ = false;
    }
}

void Engine::observe_one(const identity::AttributedObservation& a, const EvalContext& ctx,
                         std::optional<uint64_t> given_hash, const AccountTable::Ref& known) {
    ++stats_.observations;
    const int64_t t = a.obs.ts_ns;
    now_ = std::max(now_, t);
    // Memory latency is most of an observation's cost: the account's index slot is fetched
    // while the sample is copied, its rule states while the conditions are evaluated.
    uint32_t account = AccountTable::kNoAccount;
    const std::string_view name =
        std::string_view(a.account).substr(0, AccountTable::kMaxNameBytes);
    uint64_t name_hash = 0;
    if (a.attributed()) {
        // The table files names under the account's key hash: hashed once for both.
        if (given_hash) {
            name_hash = *given_hash;  // and seeded as the account's key hash (observe(span))
        } else {
            name_hash = name.size() == a.account.size()
                            ? *item_hash(ctx, KeyItem{FieldId::Account, 0})
                            : AccountTable::hash(name);
        }
        if (!prefetched_) accounts_.prefetch(name_hash);
    }
    if (a.attributed()) {
        const AccountFacts facts = AccountFacts::of(a.obs.src, intern_ja4(ctx, a.obs.ja4.view()));
        // Interned by name after all when an account was interned in between and the arena
        // rewritten to make room (the look-ahead's entry offset is stale then).
        account = accounts_.current(known) ? accounts_.touch(known, t, facts)
                                           : accounts_.intern(name, name_hash, t, facts);
        if (account == AccountTable::kNoAccount) ++stats_.accounts_refused;
    }
    samples_.push(a, account);

    // Every condition first (each distinct one once), prefetching what the matching rules
    // will read, so that their cache misses overlap instead of queueing; then the rules, in
    // order.
    matched_.clear();
    for (uint32_t i = 0; i < runtimes_.size(); ++i) {
        Runtime& r = *runtimes_[i];
        ++stats_.evaluations;
        int8_t& res = cond_result(r.condition);
        if (res < 0) {
            // 0: no match, 1: excepted, 2: matched.
            res = !r.spec->condition.eval(ctx) ? 0 : r.spec->exceptions.eval(ctx) ? 1 : 2;
        }
        if (res == 1) ++stats_.excepted;
        if (res != 2) continue;
        ++stats_.matches;
        matched_.push_back(i);
        if (r.agg) {
            prepare_aggregate(r, ctx);
            r.agg_reads = r.group_hash && r.agg->prefetch(t, aggregate_input(r, account), 0);
        } else if (account != AccountTable::kNoAccount) {
            if (r.link) {
                prepare_link(r, ctx);
                if (!prefetched_) r.link->prefetch(account, r.link_keys);
            }
            if (r.sync && !prefetched_) r.sync->prefetch(account);
        }
    }
    bool staged = false;
    for (uint32_t i : matched_) {
        Runtime& r = *runtimes_[i];
        if (r.agg && !staged) {
            // The second step of the aggregates' prefetch, once the first has had the time
            // of the rules before them to arrive.
            staged = true;
            for (uint32_t j : matched_) {
                const Runtime& other = *runtimes_[j];
                if (other.agg && other.agg_reads)
                    other.agg->prefetch(t, aggregate_input(other, account), 1);
            }
        }
        switch (r.spec->kind) {
            case RuleKind::Match:
                on_match(r, ctx, account, t);
                break;
            case RuleKind::Aggregate:
                on_aggregate(r, ctx, account, t);
                break;
            case RuleKind::Link:
                on_link(r, ctx, account, t);
                break;
            case RuleKind::Synchrony:
                if (account != AccountTable::kNoAccount) r.sync->observe(t, account);
                break;
        }
    }
}

void Engine::prepare_aggregate(Runtime& r, const EvalContext& ctx) {
    r.group_hash = group_hash(r, ctx);
    if (!r.group_hash) return;  // a group_by field is absent: the observation has no group
    for (size_t i = 0; i < r.distinct_items.size(); ++i)
        r.distinct_hashes[i] = item_hash(ctx, r.distinct_items[i]).value_or(0);
    for (size_t i = 0; i < r.sum_fields.size(); ++i) {
        const FieldValue v = ctx.get(r.sum_fields[i]);
        r.sums[i] = v.present ? v.num : 0;
    }
}

AggregateInput Engine::aggregate_input(const Runtime& r, uint32_t account) {
    AggregateInput in;
    in.account = account;
    in.group_hash = r.group_hash.value_or(0);
    in.distinct = r.distinct_hashes;
    in.sums = r.sums;
    return in;
}

void Engine::start_finding(const Runtime& r, std::string_view id_seed, Finding& f) const {
    const RuleSpec& s = *r.spec;
    f = Finding{};
    f.finding_id = finding_id(s.id, id_seed);
    f.rule = s.id;
    f.kind = to_string(s.kind);
    f.title = s.desc;
    f.severity = severity_of(s);
    f.tags = s.tags;
}

void Engine::add_members(std::span<const uint32_t> ids, uint64_t total, Finding& f) const {
    // A farm's finding lists thousands of accounts, each a cache miss into the account table:
    // one pass reads each entry once (name and facts), loading entries a few ids ahead, and
    // networks and stacks are counted as numbers; only the busiest get their text.
    constexpr size_t kAhead = 8;
    f.account_count = std::max<uint64_t>(total, ids.size());
    std::vector<uint64_t> nets;
    std::vector<uint32_t> stacks;
    nets.reserve(ids.size());
    stacks.reserve(ids.size());
    for (size_t i = 0; i < ids.size(); ++i) {
        if (i + 2 * kAhead < ids.size()) accounts_.prefetch_id(ids[i + 2 * kAhead], 0);
        if (i + kAhead < ids.size()) accounts_.prefetch_id(ids[i + kAhead], 1);
        if (f.accounts.size() < opt_.finding_accounts) {
            const std::string_view name = accounts_.name(ids[i]);
            if (!name.empty()) f.accounts.emplace_back(name);
        }
        const AccountFacts fa = accounts_.facts(ids[i]);
        if (fa.family != 0) nets.push_back(network_key(fa));
        if (fa.ja4 != 0 && fa.ja4 < ja4_texts_.size()) stacks.push_back(fa.ja4);
    }
    std::sort(f.accounts.begin(), f.accounts.end());
    f.accounts_truncated = f.accounts.size() < f.account_count;
    f.networks = busiest(std::move(nets), "net24", kFindingContext,
                         [](uint64_t k) { return network_text(network_of_key(k)); });
    f.client_stacks = busiest(std::move(stacks), "ja4", kFindingContext,
                              [&](uint32_t id) { return ja4_texts_[id]; });
    // Samples: the latest connections of these accounts, oldest first. The ring holds a few
    // of a large group's accounts among thousands of others, so each of its ids is looked up
    // in an open-addressing set of the group's (one probe, mostly), not a binary search.
    size_t slots = 16;
    while (slots < ids.size() * 2)
        slots *= 2;
    std::vector<uint32_t> set(slots, AccountTable::kNoAccount);
    const auto home = [&](uint32_t id) { return static_cast<size_t>(mix64(id)) & (slots - 1); };
    for (uint32_t id : ids) {
        size_t i = home(id);
        while (set[i] != AccountTable::kNoAccount && set[i] != id)
            i = (i + 1) & (slots - 1);
        set[i] = id;
    }
    const auto member = [&](uint32_t id) {
        for (size_t i = home(id);; i = (i + 1) & (slots - 1)) {
            if (set[i] == id) return true;
            if (set[i] == AccountTable::kNoAccount) return false;
        }
    };
    for (size_t age = 0; age < SampleRing::kSlots && f.samples.size() < opt_.samples; ++age) {
        const uint32_t id = samples_.account(age);
        if (id != AccountTable::kNoAccount && member(id))
            f.samples.push_back(samples_.connection(age));
    }
    std::reverse(f.samples.begin(), f.samples.end());
}

void Engine::emit(Finding& f) {
    f.emitted_ns = now_;
    switch (f.activity) {
        case FindingActivity::Create:
            ++stats_.findings_created;
            break;
        case FindingActivity::Update:
            ++stats_.findings_updated;
            break;
        case FindingActivity::Close:
            ++stats_.findings_closed;
            break;
    }
    out_.on_finding(f);
}

void Engine::on_match(Runtime& r, const EvalContext& ctx, uint32_t account, int64_t t) {
    const RuleSpec& s = *r.spec;
    key_text_.clear();
    if (!s.group_by.empty()) {
        if (!append_key_text(ctx, s.group_by, key_text_)) key_text_ = "-";
    } else if (!ctx.account().empty()) {
        key_text_.assign(ctx.account());
    } else {
        key_text_ = ctx.observation().src.to_string();
    }
    const uint64_t g = hash_text(key_text_);
    auto it = r.dedup.find(g);
    if (it != r.dedup.end() && t - it->second < opt_.match_dedup_ns) {
        ++stats_.suppressed;
        return;
    }
    if (r.dedup.size() >= opt_.max_groups) {
        // Bounded: forget entries past the dedup window first, else the whole table.
        std::erase_if(r.dedup, [&](const auto& e) { return t - e.second >= opt_.match_dedup_ns; });
        if (r.dedup.size() >= opt_.max_groups) r.dedup.clear();
    }
    r.dedup[g] = t;
    Finding& f = scratch_;
    start_finding(r, key_text_, f);
    if (!s.group_by.empty()) f.group.emplace_back(key_name(s.group_by), key_text_);
    if (account != AccountTable::kNoAccount) {
        const uint32_t ids[] = {account};
        add_members(ids, 1, f);
    }
    const auto& o = ctx.observation();
    if (f.samples.empty()) {
        f.samples.push_back(samples_.connection(0));
    }
    f.observations = 1;
    f.requests = o.cadence.requests;
    f.client_bytes = o.cadence.client_bytes;
    f.server_bytes = o.cadence.server_bytes;
    f.first_seen_ns = f.last_seen_ns = t;
    if (!s.output.empty())
        s.output.render(&ctx, {}, f.output);
    else
        f.output = s.desc;
    emit(f);
}

void Engine::on_aggregate(Runtime& r, const EvalContext& ctx, uint32_t account, int64_t t) {
    const RuleSpec& s = *r.spec;
    if (!r.group_hash) return;  // no group (prepare_aggregate)
    const auto gh = r.group_hash;
    bool created = false;
    const uint32_t g = r.agg->observe(t, aggregate_input(r, account), &created);
    if (g == AggregateState::kNoGroup) return;
    if (created) {
        // The group's text is kept by the state and shown in findings: formatted only when
        // the group is new, not per observation.
        key_text_.clear();
        if (!s.group_by.empty()) append_key_text(ctx, s.group_by, key_text_);
        r.agg->set_text(g, key_text_);
    }
    if (r.groups.size() >= opt_.max_groups && !r.groups.contains(*gh)) {
        // The state evicts least recently used groups; forget ours that it no longer has.
        r.groups.erase_if([&](uint64_t h, const Runtime::Group& g) {
            return !g.reported && r.agg->find(h) == AggregateState::kNoGroup;
        });
        if (r.groups.size() >= opt_.max_groups) return;
    }
    Runtime::Group& grp = r.groups[*gh];
    // A group reported before a restore has no output fields (not saved): its next
    // observation gives them, for a catch-up's output.
    if (grp.reported && grp.output_fields.size() != s.output.field_count())
        s.output.field_texts(ctx, grp.output_fields);
    if (grp.first_seen == 0) grp.first_seen = t;
    grp.last_seen = std::max(grp.last_seen, t);
    ++grp.observations;
    const auto& o = ctx.observation();
    grp.volume += Volume{o.cadence.requests, o.cadence.client_bytes, o.cadence.server_bytes};
    if (account != AccountTable::kNoAccount) {
        const uint32_t cap = grp.reported ? opt_.finding_accounts : kPreReportAccounts;
        if (grp.accounts.size() < cap) grp.accounts.insert(account);
    }
    // Measures of a large group (distinct counts from a sketch) are costly and move slowly:
    // a small group is evaluated on every observation, so it fires exactly at its threshold;
    // a large one every 64th observation or once per second of event time.
    if (grp.observations > kEvalEveryObservation && grp.observations % 64 != 0 &&
        t - grp.evaluated_ns < 1'000'000'000)
        return;
    grp.evaluated_ns = t;
    const int64_t now = r.agg->now();
    measure_aggregate(r, g);
    if (!s.threshold.eval(r.measures)) return;
    const double level = r.account_measure >= 0 ? r.measures[r.account_measure]
                                                : static_cast<double>(r.agg->count(g, now));
    if (grp.reported && level < grp.level * opt_.update_factor) return;
    report_aggregate(r, *gh, g, level, &ctx);
}

void Engine::measure_aggregate(Runtime& r, uint32_t g) {
    const int64_t now = r.agg->now();
    for (size_t i = 0; i < r.measure_src.size(); ++i) {
        const auto [src, idx] = r.measure_src[i];
        switch (src) {
            case Runtime::Src::Count:
                r.measures[i] = static_cast<double>(r.agg->count(g, now));
                break;
            case Runtime::Src::Rate:
                r.measures[i] = r.agg->rate(g, now);
                break;
            case Runtime::Src::Distinct:
                r.measures[i] = r.agg->distinct(g, idx, now);
                break;
            case Runtime::Src::Sum:
                r.measures[i] = r.agg->sum(g, idx, now);
                break;
        }
    }
}

void Engine::report_aggregate(Runtime& r, uint64_t gh, uint32_t g, double level,
                              const EvalContext* ctx) {
    const RuleSpec& s = *r.spec;
    Runtime::Group& grp = r.groups[gh];
    const std::string_view text = r.agg->info(g).text;
    Finding& f = scratch_;
    start_finding(r, std::to_string(gh), f);
    f.activity = grp.reported ? FindingActivity::Update : FindingActivity::Create;
    f.revision = grp.reported ? grp.revision + 1 : 0;
    grp.revision = f.revision;
    grp.reported = true;
    grp.level = level;
    grp.reported_at = now_;
    if (!s.group_by.empty()) {
        f.group.emplace_back(key_name(s.group_by), text);
        f.keys.push_back(
            {key_name(s.group_by), std::string(text),
             static_cast<uint64_t>(r.account_measure >= 0 ? r.measures[r.account_measure]
                                                          : grp.accounts.size())});
    }
    for (size_t i = 0; i < s.measures.size(); ++i)
        f.measures.emplace_back(measure_name(s.measures[i]), r.measures[i]);
    const uint64_t total = r.account_measure >= 0
                               ? static_cast<uint64_t>(std::llround(r.measures[r.account_measure]))
                               : grp.accounts.size();
    const std::vector<uint32_t> ids = grp.accounts.sorted();
    add_members(ids, total, f);
    f.observations = grp.observations;
    f.requests = grp.volume.requests;
    f.client_bytes = grp.volume.client_bytes;
    f.server_bytes = grp.volume.server_bytes;
    f.first_seen_ns = grp.first_seen;
    f.last_seen_ns = grp.last_seen;
    if (s.output.empty()) {
        f.output = s.desc;
    } else if (ctx) {
        s.output.field_texts(*ctx, grp.output_fields);
        s.output.render(ctx, r.measures, f.output);
    } else {
        s.output.render_with(grp.output_fields, r.measures, f.output);
    }
    emit(f);
}

void Engine::catch_up_aggregates(Runtime& r, int64_t quiet_ns) {
    // Growth the update factor held back (a group of 100 accounts that reaches 120 raises no
    // update at factor 1.5) is reported once the finding has been quiet for quiet_ns, so the
    // last finding of a farm shows its whole size, as drain_cluster_events() does for clusters.
    // A group is looked at once per quiet time, not on every advance: its measures may come
    // from sketches, and a busy pack has thousands of reported groups.
    for (auto& [gh, grp] : r.groups) {
        if (!grp.reported || now_ - std::max(grp.reported_at, grp.checked_at) < quiet_ns) continue;
        grp.checked_at = now_;
        const uint32_t g = r.agg->find(gh);
        if (g == AggregateState::kNoGroup) continue;
        measure_aggregate(r, g);
        if (!r.spec->threshold.eval(r.measures)) continue;
        const double level = r.account_measure >= 0
                                 ? r.measures[r.account_measure]
                                 : static_cast<double>(r.agg->count(g, r.agg->now()));
        // Whole accounts: a sketch's estimate moves by fractions without anyone new.
        if (std::llround(level) <= std::llround(grp.level)) continue;
        report_aggregate(r, gh, g, level, nullptr);
    }
}

void Engine::prepare_link(Runtime& r, const EvalContext& ctx) {
    const RuleSpec& s = *r.spec;
    r.link_keys.clear();
    for (size_t i = 0; i < s.link_on.size() && r.link_keys.size() < kMaxLinkKeys; ++i) {
        if (const auto h = tuple_hash(ctx, s.link_on[i]))
            r.link_keys.push_back(LinkKey{static_cast<uint8_t>(i), *h, {}});
    }
}

void Engine::on_link(Runtime& r, const EvalContext& ctx, uint32_t account, int64_t t) {
    if (account == AccountTable::kNoAccount) return;  // accounts are the nodes
    if (r.link_keys.empty()) return;
    const RuleSpec& s = *r.spec;
    if (link_texts_.size() < s.link_on.size()) link_texts_.resize(s.link_on.size());
    for (LinkKey& k : r.link_keys) {
        // A key's text is kept when the key is new: formatted only then.
        if (r.link->has_key(k.spec, k.hash)) continue;
        std::string& text = link_texts_[k.spec];
        text.clear();
        append_key_text(ctx, s.link_on[k.spec], text);
        k.text = text;
    }
    const auto& o = ctx.observation();
    r.link->observe(t, account, r.link_keys,
                    Volume{o.cadence.requests, o.cadence.client_bytes, o.cadence.server_bytes});
    drain_cluster_events(r);
}

void Engine::drain_cluster_events(Runtime& r, int64_t quiet_ns) {
    const RuleSpec& s = *r.spec;
    auto events = r.link ? r.link->take_events() : r.sync->take_events();
    const size_t from_state = events.size();
    if (quiet_ns >= 0) {
        // Growth the update factor held back is reported once the cluster has been quiet in
        // findings for quiet_ns, so the last finding of a farm shows its whole size.
        for (const auto& [id, rep] : r.revisions) {
            if (now_ - rep.at_ns < quiet_ns) continue;
            ClusterEvent ev;
            ev.change = ClusterChange::Updated;
            ev.cluster_id = id;
            if (r.link) {
                LinkState::ClusterInfo info;
                if (!r.link->cluster(id, info) || info.accounts == rep.accounts) continue;
                ev.accounts = info.accounts;
                ev.volume = info.volume;
                ev.first_seen = info.first_seen;
                ev.last_seen = info.last_seen;
            } else {
                SynchronyState::ClusterInfo info;
                if (!r.sync->cluster(id, info) || info.accounts == rep.accounts) continue;
                ev.accounts = info.accounts;
                ev.first_seen = info.first_seen;
                ev.last_seen = info.last_seen;
            }
            events.push_back(ev);
        }
    }
    for (size_t i = 0; i < events.size(); ++i) {
        const ClusterEvent& ev = events[i];
        const bool forced = i >= from_state;
        Finding& f = scratch_;
        start_finding(r, std::to_string(ev.cluster_id), f);
        auto rev = r.revisions.find(ev.cluster_id);
        switch (ev.change) {
            case ClusterChange::Created:
                f.activity = FindingActivity::Create;
                f.revision = 0;
                r.revisions[ev.cluster_id] = {0, ev.accounts, now_};
                break;
            case ClusterChange::Updated:
                // A growing farm changes size often; investigators get an update when it grew
                // by the update factor, not for every account.
                if (!forced && rev != r.revisions.end() &&
                    ev.accounts < rev->second.accounts * opt_.update_factor)
                    continue;
                f.activity = FindingActivity::Update;
                f.revision = rev == r.revisions.end() ? 1 : rev->second.revision + 1;
                r.revisions[ev.cluster_id] = {f.revision, ev.accounts, now_};
                break;
            case ClusterChange::Closed:
                f.activity = FindingActivity::Close;
                f.revision = rev == r.revisions.end() ? 1 : rev->second.revision + 1;
                if (rev != r.revisions.end()) r.revisions.erase(rev);
                break;
        }
        std::vector<uint32_t> ids = r.link ? r.link->accounts(ev.cluster_id, opt_.finding_accounts)
                                           : r.sync->accounts(ev.cluster_id, opt_.finding_accounts);
        add_members(ids, ev.accounts, f);
        f.group.emplace_back("cluster", std::to_string(ev.cluster_id));
        if (r.link) {
            for (const auto& k : r.link->keys(ev.cluster_id, kFindingKeys))
                f.keys.push_back({key_name(s.link_on[k.spec]), std::string(k.text), k.accounts});
        } else {
            SynchronyState::ClusterInfo info;
            if (r.sync->cluster(ev.cluster_id, info))
                f.measures.emplace_back("min_similarity", info.min_similarity);
        }
        f.requests = ev.volume.requests;
        f.client_bytes = ev.volume.client_bytes;
        f.server_bytes = ev.volume.server_bytes;
        f.first_seen_ns = ev.first_seen;
        f.last_seen_ns = ev.last_seen;
        // Templates of cluster rules see the cluster's measures: accounts and volume.
        std::vector<double> m(s.measures.size(), 0);
        for (size_t i = 0; i < s.measures.size(); ++i) {
            const auto& ref = s.measures[i];
            if (ref.kind == MeasureRef::Kind::Distinct && ref.field == FieldId::Account)
                m[i] = static_cast<double>(ev.accounts);
            else if (ref.kind == MeasureRef::Kind::Count)
                m[i] = static_cast<double>(ev.volume.requests);
            else if (ref.kind == MeasureRef::Kind::Sum && ref.field == FieldId::Requests)
                m[i] = static_cast<double>(ev.volume.requests);
            else if (ref.kind == MeasureRef::Kind::Sum && ref.field == FieldId::ClientBytes)
                m[i] = static_cast<double>(ev.volume.client_bytes);
            else if (ref.kind == MeasureRef::Kind::Sum && ref.field == FieldId::ServerBytes)
                m[i] = static_cast<double>(ev.volume.server_bytes);
            f.measures.emplace_back(measure_name(ref), m[i]);
        }
        if (!s.output.empty())
            s.output.render(nullptr, m, f.output);
        else
            f.output = s.desc;
        if (ev.change == ClusterChange::Closed && ev.merged_into != 0)
            f.output += " (merged into " + finding_id(s.id, std::to_string(ev.merged_into)) + ")";
        emit(f);
    }
}

void Engine::close_aggregate_groups(Runtime& r, std::span<const uint64_t> closed) {
    for (uint64_t h : closed) {
        const Runtime::Group* g = r.groups.find(h);
        if (!g) continue;
        if (g->reported) {
            Finding& f = scratch_;
            start_finding(r, std::to_string(h), f);
            f.activity = FindingActivity::Close;
            f.revision = g->revision + 1;
            f.account_count = g->accounts.size();
            f.first_seen_ns = g->first_seen;
            f.last_seen_ns = g->last_seen;
            f.output = "window expired";
            emit(f);
        }
        r.groups.erase(h);
    }
}

void Engine::advance(int64_t now_ns) {
    now_ = std::max(now_, now_ns);
    std::vector<uint64_t> closed;
    int64_t horizon = 3600'000'000'000;
    for (auto& rp : runtimes_) {
        Runtime& r = *rp;
        horizon = std::max(horizon, 2 * r.spec->window_ns);
        if (r.agg) {
            closed.clear();
            r.agg->expire(now_, &closed);
            close_aggregate_groups(r, closed);
            catch_up_aggregates(r, opt_.catch_up_ns);
        } else if (r.link) {
            r.link->advance(now_);
            drain_cluster_events(r, opt_.catch_up_ns);
        } else if (r.sync) {
            r.sync->advance(now_);
            drain_cluster_events(r, opt_.catch_up_ns);
        }
    }
    // Accounts unseen for twice the longest window (at least an hour) are forgotten; every
    // state has let go of them by then (see AccountTable).
    if (now_ >= next_account_expiry_) {
        accounts_.expire(now_, horizon);
        next_account_expiry_ = now_ + 60'000'000'000;
    }
}

void Engine::flush() {
    advance(now_);  // rebuilds the clusters with what was observed since the last advance
    for (auto& rp : runtimes_) {
        if (rp->link || rp->sync) drain_cluster_events(*rp, 0);
        if (rp->agg) catch_up_aggregates(*rp, 0);
    }
}

std::vector<uint8_t> Engine::save() const {
    std::vector<RuleStateRef> refs;
    for (const auto& rp : runtimes_) {
        if (rp->agg) refs.push_back({rp->spec->id, rp->agg.get()});
        if (rp->link) refs.push_back({rp->spec->id, rp->link.get()});
        if (rp->sync) refs.push_back({rp->spec->id, rp->sync.get()});
    }
    std::vector<uint8_t> states = save_state(accounts_, refs);
    // The engine's own bookkeeping: which findings are open, at which revision, so updates
    // after a restart keep their finding_id and count on.
    std::vector<uint8_t> out;
    StateWriter w(out);
    w.u64(states.size());
    w.bytes(states);
    w.u32(static_cast<uint32_t>(runtimes_.size()));
    for (const auto& rp : runtimes_) {
        w.str(rp->spec->id);
        w.u64(rp->signature);
        w.u32(static_cast<uint32_t>(rp->revisions.size()));
        for (const auto& [id, rep] : rp->revisions) {
            w.u64(id);
            w.u32(rep.revision);
            w.u32(rep.accounts);
            w.i64(rep.at_ns);
        }
        uint32_t reported = 0;
        for (const auto& [h, g] : rp->groups)
            reported += g.reported;
        w.u32(reported);
        for (const auto& [h, g] : rp->groups) {
            if (!g.reported) continue;
            w.u64(h);
            w.u32(g.revision);
            w.f64(g.level);
            w.i64(g.first_seen);
            w.i64(g.last_seen);
            w.u64(g.observations);
            w.u32(static_cast<uint32_t>(g.accounts.size()));
            for (uint32_t a : g.accounts.sorted())
                w.u32(a);
        }
    }
    return out;
}

StateIoResult Engine::restore(std::span<const uint8_t> bytes) {
    StateReader r(bytes);
    const uint64_t n = r.u64();
    if (!r.ok() || n > r.remaining()) return {false, "engine state truncated", {}, 0};
    const auto states = r.bytes(static_cast<size_t>(n));
    std::vector<RuleStateRef> refs;
    for (const auto& rp : runtimes_) {
        if (rp->agg) refs.push_back({rp->spec->id, rp->agg.get()});
        if (rp->link) refs.push_back({rp->spec->id, rp->link.get()});
        if (rp->sync) refs.push_back({rp->spec->id, rp->sync.get()});
    }
    StateIoResult res = restore_state(states, accounts_, refs);
    if (!res.ok) return res;
    const uint32_t rules = r.count(12);
    for (uint32_t i = 0; i < rules && r.ok(); ++i) {
        const std::string id = r.str(256);
        const uint64_t sig = r.u64();
        Runtime* rt = nullptr;
        for (auto& rp : runtimes_)
            if (rp->spec->id == id && rp->signature == sig) rt = rp.get();
        const uint32_t nrev = r.count(24);
        for (uint32_t k = 0; k < nrev && r.ok(); ++k) {
            const uint64_t cid = r.u64();
            Runtime::Reported rep;
            rep.revision = r.u32();
            rep.accounts = r.u32();
            rep.at_ns = r.i64();
            if (rt) rt->revisions[cid] = rep;
        }
        const uint32_t ngroups = r.count(44);
        for (uint32_t k = 0; k < ngroups && r.ok(); ++k) {
            Runtime::Group g;
            const uint64_t h = r.u64();
            g.reported = true;
            g.revision = r.u32();
            g.level = r.f64();
            g.first_seen = r.i64();
            g.last_seen = r.i64();
            g.observations = r.u64();
            g.reported_at = g.last_seen;  // not saved: the catch-up counts from the last event
            const uint32_t na = r.count(4, opt_.finding_accounts);
            for (uint32_t j = 0; j < na && r.ok(); ++j) {
                const uint32_t a = r.u32();
                if (a < accounts_.id_limit()) g.accounts.insert(a);
            }
            if (rt && rt->agg) rt->groups[h] = std::move(g);
        }
    }
    if (!r.ok()) res.skipped.push_back("(finding bookkeeping truncated)");
    return res;
}

StateIoResult Engine::merge(std::span<const uint8_t> bytes) {
    StateReader r(bytes);
    const uint64_t n = r.u64();
    if (!r.ok() || n > r.remaining()) return {false, "engine state truncated", {}, 0};
    const auto states = r.bytes(static_cast<size_t>(n));
    std::vector<RuleStateRef> refs;
    for (const auto& rp : runtimes_) {
        if (rp->agg) refs.push_back({rp->spec->id, rp->agg.get()});
        if (rp->link) refs.push_back({rp->spec->id, rp->link.get()});
        if (rp->sync) refs.push_back({rp->spec->id, rp->sync.get()});
    }
    return merge_state(states, accounts_, refs);
}

EngineMemory Engine::memory() const {
    EngineMemory m;
    m.accounts = accounts_.memory_bytes();
    m.bookkeeping = samples_.memory_bytes() + ja4_texts_.capacity() * sizeof(std::string) +
                    ja4_ids_.memory_bytes();
    for (const std::string& j : ja4_texts_)
        m.bookkeeping += j.capacity() > 15 ? j.capacity() + 1 : 0;
    for (const auto& rp : runtimes_) {
        if (rp->agg) m.aggregate += rp->agg->memory_bytes();
        if (rp->link) m.link += rp->link->memory_bytes();
        if (rp->sync) m.synchrony += rp->sync->memory_bytes();
        m.bookkeeping += rp->dedup.size() * 32 + rp->revisions.size() * 32;
        for (const auto& [h, g] : rp->groups)
            m.bookkeeping += 96 + g.accounts.memory_bytes();
    }
    return m;
}

}  // namespace sybilwatch::rules
