// Which findings a sink takes: a minimum severity, tags, rule ids.
#pragma once

#include <string>
#include <vector>

#include "rules/finding.hpp"

namespace sybilwatch::alerts {

struct SinkFilter {
    rules::Severity min_severity = rules::Severity::Info;
    std::vector<std::string> include_tags;   // non-empty: the finding needs one of them
    std::vector<std::string> exclude_tags;   // a finding with any of them is filtered out
    std::vector<std::string> include_rules;  // non-empty: only these rule ids
    std::vector<std::string> exclude_rules;
    bool closes = true;  // false: Close activities (a finding's window expired) are not sent

    bool pass(const rules::Finding& f) const;
};

}  // namespace sybilwatch::alerts
