// A loaded, validated rule: everything the engine and the kind runtimes need, compiled.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "rules/condition.hpp"
#include "rules/field.hpp"
#include "rules/finding.hpp"
#include "rules/measure.hpp"
#include "rules/output_template.hpp"
#include "rules/threshold.hpp"

namespace sybilwatch::rules {

enum class RuleKind : uint8_t { Match, Aggregate, Link, Synchrony };
const char* to_string(RuleKind k);

struct RuleSpec {
    std::string id;
    std::string desc;
    RuleKind kind = RuleKind::Match;
    Severity severity = Severity::Medium;
    std::vector<std::string> tags;
    bool enabled = true;

    Condition condition;
    // The rule's exceptions as one condition: true when some exception matches, which
    // suppresses the observation. Constant false when the rule has none.
    Condition exceptions = Condition::constant(false);
    std::vector<std::string> exception_names;

    OutputTemplate output;  // empty text: the engine uses desc
    // Every measure the threshold and the output use, each once; a runtime keeps these per
    // group and passes their values, in this order, to threshold.eval and output.render.
    std::vector<MeasureRef> measures;

    // aggregate
    std::vector<KeyItem> group_by;  // empty: one group for the whole stream
    Threshold threshold;            // empty: always true
    // aggregate and link: the sliding window / how long a key incidence lives; synchrony:
    // the span over which activity is compared.
    int64_t window_ns = 0;

    // link
    std::vector<std::vector<KeyItem>> link_on;  // each entry one key (a tuple of items)
    uint32_t max_accounts_per_key = 200;

    // link and synchrony
    uint32_t min_accounts = 2;
    uint64_t min_requests = 0;
    uint64_t min_bytes = 0;

    // synchrony
    int64_t bucket_ns = 0;
    double min_similarity = 0.7;
    uint32_t min_active_buckets = 8;

    // The rule's YAML item, normalised: what "unchanged" means on reload.
    std::string definition;

    // Where it was defined (for messages).
    std::string file;
    int line = 0;

    // The condition holds and no exception does.
    bool matches(const EvalContext& ctx) const {
        return condition.eval(ctx) && !exceptions.eval(ctx);
    }
};

}  // namespace sybilwatch::rules
