// A compiled condition: a flat array of nodes evaluated against an EvalContext. Everything a
// node needs is built at load time (StringSets for in-lists, prefix tables for CIDR lists,
// compiled RE2 programs, lower-cased needles), so eval() allocates nothing.
//
// A predicate on an absent field is false, whatever the operator: `ja4 != x` and
// `ja4 not in (...)` are false when the observation has no JA4 (test with `exists`).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "rules/cidr_set.hpp"
#include "rules/condition_ast.hpp"
#include "rules/eval_context.hpp"
#include "rules/field.hpp"
#include "rules/string_set.hpp"

namespace re2 {
class RE2;
}

namespace sybilwatch::rules {

class Condition {
  public:
    // Always true (a rule without a condition would match everything).
    Condition();
    static Condition constant(bool value);
    ~Condition();
    Condition(Condition&&) noexcept;
    Condition& operator=(Condition&&) noexcept;

    bool eval(const EvalContext& ctx) const { return eval(root_, ctx); }

    // True when the condition is the constant `value` (e.g. "no exceptions").
    bool is_constant(bool value) const;
    // True when both were compiled to the same program (so they agree on every observation):
    // rules sharing a condition (the default pack's farm rules do) evaluate it once.
    bool same_as(const Condition& other) const;
    size_t node_count() const { return nodes_.size(); }

  private:
    friend class ConditionBuilder;

    enum class Op : uint8_t {
        True,
        False,
        And,  // kids_[a .. b)
        Or,
        Not,  // nodes_[a]
        Exists,
        StrCmp,      // strings_[a], cmp (= or !=)
        StrIn,       // string_sets_[a]; negate for not in
        StartsWith,  // strings_[a]
        EndsWith,
        Contains,
        IContains,  // strings_[a], lower-cased
        PMatch,     // prefix_lists_[a]
        Regex,      // regexes_[a]
        NumCmp,     // num, cmp
        NumIn,      // num_sets_[a] (sorted)
        IpCmp,      // ip, cmp (= or !=)
        NetCmp,     // ip + prefix, cmp (= or !=)
        CidrIn,     // cidr_sets_[a]: contains the address or the network
    };
    struct Node {
        Op op = Op::True;
        CmpOp cmp = CmpOp::Eq;
        FieldId field = FieldId::Ja4;
        bool negate = false;
        uint8_t prefix = 0;
        uint32_t a = 0, b = 0;
        double num = 0;
        net::IpAddress ip;
        bool operator==(const Node&) const = default;
    };

    bool eval(uint32_t i, const EvalContext& ctx) const;
    bool predicate(const Node& n, const FieldValue& v) const;

    std::vector<Node> nodes_;
    std::vector<uint32_t> kids_;
    uint32_t root_ = 0;
    std::vector<std::string> strings_;
    std::vector<StringSet> string_sets_;
    std::vector<std::vector<std::string>> prefix_lists_;
    std::vector<std::vector<double>> num_sets_;
    std::vector<CidrSet> cidr_sets_;
    std::vector<std::unique_ptr<re2::RE2>> regexes_;
};

}  // namespace sybilwatch::rules
