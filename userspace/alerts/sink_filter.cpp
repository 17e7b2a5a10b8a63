#include "alerts/sink_filter.hpp"

#include <algorithm>

namespace sybilwatch::alerts {
namespace {

bool contains(const std::vector<std::string>& v, const std::string& s) {
    return std::find(v.begin(), v.end(), s) != v.end();
}

}  // namespace

bool SinkFilter::pass(const rules::Finding& f) const {
    if (f.severity < min_severity) return false;
    if (!closes && f.activity == rules::FindingActivity::Close) return false;
    if (!include_rules.empty() && !contains(include_rules, f.rule)) return false;
    if (contains(exclude_rules, f.rule)) return false;
    for (const auto& t : f.tags)
        if (contains(exclude_tags, t)) return false;
    if (!include_tags.empty() &&
        std::none_of(f.tags.begin(), f.tags.end(),
                     [&](const std::string& t) { return contains(include_tags, t); }))
        return false;
    return true;
}

}  // namespace sybilwatch::alerts
