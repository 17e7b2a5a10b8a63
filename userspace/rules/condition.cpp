#include "rules/condition.hpp"

#include <re2/re2.h>

#include <algorithm>

namespace sybilwatch::rules {

Condition::Condition() {
    nodes_.push_back(Node{});
}

Condition Condition::constant(bool value) {
    Condition c;
    c.nodes_[0].op = value ? Op::True : Op::False;
    return c;
}

Condition::~Condition() = default;
Condition::Condition(Condition&&) noexcept = default;
Condition& Condition::operator=(Condition&&) noexcept = default;

bool Condition::is_constant(bool value) const {
    return nodes_[root_].op == (value ? Op::True : Op::False);
}

bool Condition::same_as(const Condition& o) const {
    if (root_ != o.root_ || nodes_ != o.nodes_ || kids_ != o.kids_ || strings_ != o.strings_ ||
        string_sets_ != o.string_sets_ || prefix_lists_ != o.prefix_lists_ ||
        num_sets_ != o.num_sets_ || cidr_sets_ != o.cidr_sets_ ||
        regexes_.size() != o.regexes_.size()) {
        return false;
    }
    for (size_t i = 0; i < regexes_.size(); ++i) {
        if (regexes_[i]->pattern() != o.regexes_[i]->pattern()) return false;
    }
    return true;
}

namespace {

template <typename T>
bool compare(CmpOp op, const T& a, const T& b) {
    switch (op) {
        case CmpOp::Eq:
            return a == b;
        case CmpOp::Ne:
            return a != b;
        case CmpOp::Lt:
            return a < b;
        case CmpOp::Le:
            return a <= b;
        case CmpOp::Gt:
            return a > b;
        case CmpOp::Ge:
            return a >= b;
    }
    return false;
}

char lower(char c) {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

// `needle` is already lower-case.
bool icontains(std::string_view hay, std::string_view needle) {
    if (needle.size() > hay.size()) return false;
    for (size_t i = 0; i + needle.size() <= hay.size(); ++i) {
        size_t k = 0;
        while (k < needle.size() && lower(hay[i + k]) == needle[k])
            ++k;
        if (k == needle.size()) return true;
    }
    return false;
}

}  // namespace

bool Condition::eval(uint32_t i, const EvalContext& ctx) const {
    const Node& n = nodes_[i];
    switch (n.op) {
        case Op::True:
            return true;
        case Op::False:
            return false;
        case Op::And:
            for (uint32_t k = n.a; k < n.b; ++k)
                if (!eval(kids_[k], ctx)) return false;
            return true;
        case Op::Or:
            for (uint32_t k = n.a; k < n.b; ++k)
                if (eval(kids_[k], ctx)) return true;
            return false;
        case Op::Not:
            return !eval(n.a, ctx);
        default:
            break;
    }
    const FieldValue v = ctx.get(n.field);
    if (!v.present) return false;
    return predicate(n, v);
}

bool Condition::predicate(const Node& n, const FieldValue& v) const {
    switch (n.op) {
        case Op::Exists:
            return true;
        case Op::StrCmp:
            return (v.str == strings_[n.a]) == (n.cmp == CmpOp::Eq);
        case Op::StrIn:
            return string_sets_[n.a].contains(v.str) != n.negate;
        case Op::StartsWith:
            return v.str.starts_with(strings_[n.a]);
        case Op::EndsWith:
            return v.str.ends_with(strings_[n.a]);
        case Op::Contains:
            return v.str.find(strings_[n.a]) != std::string_view::npos;
        case Op::IContains:
            return icontains(v.str, strings_[n.a]);
        case Op::PMatch:
            for (const std::string& p : prefix_lists_[n.a])
                if (v.str.starts_with(p)) return true;
            return false;
        case Op::Regex:
            return re2::RE2::PartialMatch(re2::StringPiece(v.str.data(), v.str.size()),
                                          *regexes_[n.a]);
        case Op::NumCmp:
            return compare(n.cmp, v.num, n.num);
        case Op::NumIn: {
            const auto& s = num_sets_[n.a];
            return std::binary_search(s.begin(), s.end(), v.num) != n.negate;
        }
        case Op::IpCmp:
            return (v.ip == n.ip) == (n.cmp == CmpOp::Eq);
        case Op::NetCmp:
            return (v.ip == n.ip && v.prefix == n.prefix) == (n.cmp == CmpOp::Eq);
        case Op::CidrIn:
            return cidr_sets_[n.a].contains(Cidr{v.ip, v.prefix}) != n.negate;
        default:
            return false;
    }
}

}  // namespace sybilwatch::rules
