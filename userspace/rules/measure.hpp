// Measures: the numbers an aggregate (or link, synchrony) runtime keeps per group, which
// thresholds test and output templates print. A rule lists the measures it needs once
// (RuleSpec::measures); thresholds and templates refer to them by slot, and the runtime passes
// their current values as a span in that order.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "rules/field.hpp"

namespace sybilwatch::rules {

struct MeasureRef {
    enum class Kind : uint8_t {
        Count,     // observations in the window (link/synchrony: behind the finding)
        Distinct,  // distinct values of `field` (distinct(account): the account count)
        Sum,       // sum of a numeric `field`
        Rate,      // count per second over the window
    };
    Kind kind = Kind::Count;
    FieldId field = FieldId::Account;  // Distinct and Sum only

    bool operator==(const MeasureRef& o) const {
        return kind == o.kind && (field == o.field || kind == Kind::Count || kind == Kind::Rate);
    }
};

// "count", "rate", "distinct(net24)", "sum(requests)" (the names of Finding::measures).
std::string measure_name(const MeasureRef& m);

// The measures of one rule, each once; index = slot.
class MeasureTable {
  public:
    uint32_t intern(const MeasureRef& m) {
        for (uint32_t i = 0; i < refs_.size(); ++i)
            if (refs_[i] == m) return i;
        refs_.push_back(m);
        return static_cast<uint32_t>(refs_.size() - 1);
    }
    const std::vector<MeasureRef>& refs() const { return refs_; }

  private:
    std::vector<MeasureRef> refs_;
};

}  // namespace sybilwatch::rules
