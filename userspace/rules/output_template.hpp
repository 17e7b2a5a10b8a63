// A rule's output text with placeholders, compiled once:
//   "%account_count accounts on %ja4 from %distinct_net24 networks"
// %FIELD prints the field of the observation that raised (or last updated) the finding;
// %count, %rate, %account_count (= distinct(account)), %distinct_FIELD and %sum_FIELD print
// measures. %{name} delimits a name that is followed by letters; %% is a percent sign. An
// absent field prints as <NA>.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "rules/eval_context.hpp"
#include "rules/measure.hpp"

namespace sybilwatch::rules {

class OutputTemplate {
  public:
    // Which measures the rule's kind offers to its template (match rules have none).
    enum class Measures : uint8_t { None, CountOnly, All };

    // Compiles `text`; measures are interned in `table`. On failure returns false with the
    // offset of the bad placeholder and the problem.
    bool compile(std::string_view text, Measures allowed, MeasureTable& table, size_t& err_offset,
                 std::string& err);

    // Appends the rendered text to `out` (e.g. Finding::output). `ctx` may be null (a finding
    // closed by time alone): fields then print as <NA>. `measures[slot]` as for Threshold.
    void render(const EvalContext* ctx, std::span<const double> measures, std::string& out) const;
    // The text of each %FIELD placeholder for `ctx`, in order (absent: <NA>), and render() with
    // such texts in place of an observation: a finding updated later (a catch-up of growth the
    // update factor held back) keeps the field values of the observation that last raised it.
    void field_texts(const EvalContext& ctx, std::vector<std::string>& out) const;
    void render_with(std::span<const std::string> fields, std::span<const double> measures,
                     std::string& out) const;

    const std::string& text() const { return text_; }
    bool empty() const { return pieces_.empty(); }
    size_t field_count() const { return fields_; }  // %FIELD placeholders

  private:
    void render_impl(const EvalContext* ctx, std::span<const std::string> fields,
                     std::span<const double> measures, std::string& out) const;
    struct Piece {
        enum class Kind : uint8_t { Text, Field, Measure };
        Kind kind = Kind::Text;
        FieldId field = FieldId::Account;
        uint32_t begin = 0, end = 0;  // Text: range of literal_; Measure: slot in begin
    };
    std::vector<Piece> pieces_;
    size_t fields_ = 0;
    std::string literal_;
    std::string text_;
};

}  // namespace sybilwatch::rules
