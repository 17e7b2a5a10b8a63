// Threshold expressions of aggregate rules, e.g.
//   distinct(account) >= 20 and distinct(net24) >= 10
//   sum(requests) / count > 50 or rate > 5
// Arithmetic (+ - * /, parentheses) over numbers and measures (count, rate, distinct(F),
// sum(F)), compared with = != < <= > >=, combined with and, or, not. Division by zero makes
// the comparison false. Compiled once; eval() reads measure values by slot and allocates
// nothing.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "rules/measure.hpp"

namespace sybilwatch::rules {

class Threshold {
  public:
    // Always true: an aggregate rule without a threshold would fire on every observation.
    Threshold() = default;

    // Compiles `text`, interning its measures in `table`. On failure returns false with the
    // offset in `text` and the problem.
    bool compile(std::string_view text, MeasureTable& table, size_t& err_offset, std::string& err);

    // `measures[slot]` is the current value of table.refs()[slot].
    bool eval(std::span<const double> measures) const;

    bool empty() const { return nodes_.empty(); }
    const std::string& text() const { return text_; }

  private:
    enum class Op : uint8_t { Num, Measure, Add, Sub, Mul, Div, Neg, Cmp, And, Or, Not };
    struct Node {
        Op op = Op::Num;
        uint8_t cmp = 0;  // CmpOp
        uint32_t a = 0, b = 0;
        double value = 0;  // Num; Measure: slot in `a`
    };
    double num(uint32_t i, std::span<const double> m) const;
    bool test(uint32_t i, std::span<const double> m) const;

    friend class ThresholdParser;
    std::vector<Node> nodes_;
    uint32_t root_ = 0;
    std::string text_;
};

}  // namespace sybilwatch::rules
