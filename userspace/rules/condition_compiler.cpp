#include "rules/condition_compiler.hpp"

#include <re2/re2.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <optional>

#include "rules/did_you_mean.hpp"

namespace sybilwatch::rules {

namespace {

std::optional<double> parse_number(std::string_view s) {
    if (!s.empty() && s.front() == '+') s.remove_prefix(1);
    double d = 0;
    const auto r = std::from_chars(s.data(), s.data() + s.size(), d);
    if (s.empty() || r.ec != std::errc() || r.ptr != s.data() + s.size() || !std::isfinite(d))
        return std::nullopt;
    return d;
}

}  // namespace

// Friend of Condition: builds its node array.
class ConditionBuilder {
  public:
    ConditionBuilder(const ConditionSymbols& syms, std::vector<CompileError>& errors)
        : syms_(syms), errors_(errors) {}

    bool build(const AstNode& ast, std::string_view self, Condition& out) {
        const size_t before = errors_.size();
        if (!self.empty()) stack_.emplace_back(self);
        c_ = Condition();
        c_.nodes_.clear();
        c_.root_ = node(ast, 0);
        if (errors_.size() != before) return false;
        out = compact(std::move(c_));
        return true;
    }

  private:
    using Op = Condition::Op;

    // The program reachable from the root alone, children before parents, with its own side
    // tables: folding leaves nodes behind, and same_as() must see equal programs as equal.
    static Condition compact(Condition c) {
        Condition out;
        out.nodes_.clear();
        const auto copy = [&](auto& self, uint32_t i) -> uint32_t {
            Node n = c.nodes_[i];
            const auto take = [&](auto& from, auto& to) {
                to.push_back(std::move(from[n.a]));
                n.a = static_cast<uint32_t>(to.size() - 1);
            };
            switch (n.op) {
                case Op::And:
                case Op::Or: {
                    std::vector<uint32_t> kids;
                    for (uint32_t k = n.a; k < n.b; ++k)
                        kids.push_back(self(self, c.kids_[k]));
                    n.a = static_cast<uint32_t>(out.kids_.size());
                    out.kids_.insert(out.kids_.end(), kids.begin(), kids.end());
                    n.b = static_cast<uint32_t>(out.kids_.size());
                    break;
                }
                case Op::Not:
                    n.a = self(self, n.a);
                    break;
                case Op::StrCmp:
                case Op::StartsWith:
                case Op::EndsWith:
                case Op::Contains:
                case Op::IContains:
                    take(c.strings_, out.strings_);
                    break;
                case Op::StrIn:
                    take(c.string_sets_, out.string_sets_);
                    break;
                case Op::PMatch:
                    take(c.prefix_lists_, out.prefix_lists_);
                    break;
                case Op::Regex:
                    take(c.regexes_, out.regexes_);
                    break;
                case Op::NumIn:
                    take(c.num_sets_, out.num_sets_);
                    break;
                case Op::CidrIn:
                    take(c.cidr_sets_, out.cidr_sets_);
                    break;
                default:
                    break;
            }
            out.nodes_.push_back(n);
            return static_cast<uint32_t>(out.nodes_.size() - 1);
        };
        out.root_ = copy(copy, c.root_);
        return out;
    }
    using Node = Condition::Node;

    void error(SourcePos pos, std::string message) {
        if (macro_depth_ > 0) {
            // Inside an inlined macro: the macro reports its own errors; the reference says
            // only that it has some (see node() for Name).
            ++swallowed_;
            return;
        }
        errors_.push_back({pos, std::move(message)});
    }

    uint32_t push(const Node& n) {
        if (c_.nodes_.size() >= kMaxConditionNodes) {
            if (!too_big_) errors_.push_back({at_, "condition too large after macro expansion"});
            too_big_ = true;
            return 0;
        }
        c_.nodes_.push_back(n);
        return static_cast<uint32_t>(c_.nodes_.size() - 1);
    }

    uint32_t constant(bool v) {
        Node n;
        n.op = v ? Op::True : Op::False;
        return push(n);
    }

    uint32_t node(const AstNode& a, int depth) {
        if (too_big_) return 0;
        if (macro_depth_ == 0) at_ = a.pos;
        if (depth > kMaxExpandedDepth) {
            error(a.pos, "condition nested too deeply after macro expansion");
            return constant(false);
        }
        switch (a.kind) {
            case AstNode::Kind::And:
            case AstNode::Kind::Or: {
                // Folded as it is built: constants (an empty local list makes `account in
                // (farm_exempt_accounts)` false) are dropped or decide the whole node, and a
                // nested node of the same kind lends its children, so what runs per
                // observation is only what can change the result.
                const Op op = a.kind == AstNode::Kind::And ? Op::And : Op::Or;
                const Op absorbing = op == Op::And ? Op::False : Op::True;
                const Op neutral = op == Op::And ? Op::True : Op::False;
                std::vector<uint32_t> kids;
                kids.reserve(a.children.size());
                bool decided = false;
                for (const AstNode& ch : a.children) {
                    // Every child is compiled, even after one decided the node: its errors
                    // (an unknown field, a bad regex) are reported whatever the lists hold.
                    const uint32_t k = node(ch, depth + 1);
                    if (too_big_) return 0;
                    const Node& kn = c_.nodes_[k];
                    if (kn.op == absorbing) decided = true;
                    if (decided || kn.op == neutral) continue;
                    if (kn.op == op) {
                        kids.insert(kids.end(), c_.kids_.begin() + kn.a, c_.kids_.begin() + kn.b);
                        continue;
                    }
                    kids.push_back(k);
                }
                if (decided) return constant(absorbing == Op::True);
                if (kids.empty()) return constant(neutral == Op::True);
                if (kids.size() == 1) return kids[0];
                Node n;
                n.op = op;
                n.a = static_cast<uint32_t>(c_.kids_.size());
                c_.kids_.insert(c_.kids_.end(), kids.begin(), kids.end());
                n.b = static_cast<uint32_t>(c_.kids_.size());
                return push(n);
            }
            case AstNode::Kind::Not: {
                const uint32_t k =
                    a.children.empty() ? constant(false) : node(a.children[0], depth + 1);
                if (too_big_) return 0;
                const Node& kn = c_.nodes_[k];
                if (kn.op == Op::True || kn.op == Op::False) return constant(kn.op == Op::False);
                if (kn.op == Op::Not) return kn.a;
                Node n;
                n.op = Op::Not;
                n.a = k;
                return push(n);
            }
            case AstNode::Kind::Name:
                return macro(a, depth);
            case AstNode::Kind::Predicate:
                return predicate(a);
        }
        return constant(false);
    }

    std::vector<std::string_view> names_for_hint() const {
        std::vector<std::string_view> names;
        for (const FieldInfo& f : fields())
            names.push_back(f.name);
        if (syms_.macros)
            for (const auto& [k, v] : *syms_.macros)
                names.push_back(k);
        return names;
    }

    uint32_t macro(const AstNode& a, int depth) {
        const MacroDef* m = nullptr;
        if (syms_.macros) {
            const auto it = syms_.macros->find(a.name);
            if (it != syms_.macros->end()) m = &it->second;
        }
        if (!m) {
            if (find_field(a.name))
                error(a.pos, "field '" + a.name + "' needs an operator, e.g. '" + a.name +
                                 " exists' or '" + a.name + " = VALUE'");
            else
                error(a.pos, "unknown macro or field '" + a.name + "'" +
                                 did_you_mean(a.name, names_for_hint()));
            return constant(false);
        }
        if (const auto it = std::find(stack_.begin(), stack_.end(), a.name); it != stack_.end()) {
            std::string path;
            for (auto p = it; p != stack_.end(); ++p)
                path += *p + " -> ";
            cycle_ = "macro cycle: " + path + a.name;
            error(a.pos, cycle_);
            if (macro_depth_ == 0) cycle_.clear();
            return constant(false);
        }
        if (!m->parsed) {
            error(a.pos, "macro '" + a.name + "' has errors (see its definition)");
            return constant(false);
        }
        const size_t swallowed = swallowed_;
        stack_.push_back(a.name);
        ++macro_depth_;
        const uint32_t idx = node(m->ast, depth + 1);
        --macro_depth_;
        stack_.pop_back();
        if (macro_depth_ == 0 && swallowed_ != swallowed) {
            errors_.push_back({a.pos, cycle_.empty()
                                          ? "macro '" + a.name + "' has errors (see its definition)"
                                          : cycle_});
            cycle_.clear();
            swallowed_ = swallowed;
        }
        return idx;
    }

    // The items of an in-list with list names expanded (recursively; cycles are errors).
    void expand(const std::vector<AstValue>& in, std::vector<const AstValue*>& out,
                std::vector<std::string_view>& lists) {
        const bool written_here = lists.empty();  // not the contents of a list
        for (const AstValue& v : in) {
            const ListDef* l = nullptr;
            if (!v.quoted && syms_.lists) {
                const auto it = syms_.lists->find(v.text);
                if (it != syms_.lists->end()) l = &it->second;
            }
            if (!l) {
                // A bare word one typo away from a list is almost surely that list; a value
                // that really is such a word can be quoted.
                if (written_here && !v.quoted && syms_.lists && v.text.size() >= 4) {
                    std::vector<std::string_view> names;
                    for (const auto& [k, d] : *syms_.lists)
                        names.push_back(k);
                    if (const std::string_view hint = closest(v.text, names); !hint.empty())
                        error(v.pos, "'" + v.text + "' is not a list (did you mean '" +
                                         std::string(hint) + "'? quote it to use it as a value)");
                }
                out.push_back(&v);
                continue;
            }
            if (std::find(lists.begin(), lists.end(), v.text) != lists.end()) {
                error(v.pos, "list cycle through '" + v.text + "'");
                continue;
            }
            lists.push_back(v.text);
            expand(l->items, out, lists);
            lists.pop_back();
        }
    }

    std::vector<const AstValue*> items(const AstNode& a) {
        std::vector<const AstValue*> out;
        std::vector<std::string_view> lists;
        expand(a.values, out, lists);
        return out;
    }

    void type_error(const AstNode& a, const FieldInfo& f, const char* op, const char* wants) {
        error(a.pos, "'" + std::string(op) + "' needs " + wants + ", but " + std::string(f.name) +
                         " is " + (f.type == FieldType::Int ? "an " : "a ") + to_string(f.type));
    }

    uint32_t predicate(const AstNode& a) {
        const FieldInfo* f = find_field(a.name);
        if (!f) {
            error(a.pos, "unknown field '" + a.name + "'" + did_you_mean(a.name, names_for_hint()));
            return constant(false);
        }
        Node n;
        n.field = f->id;
        n.cmp = a.cmp;
        if (a.op == PredOp::Exists) {
            n.op = Op::Exists;
            return push(n);
        }
        switch (f->type) {
            case FieldType::String:
                return string_predicate(a, *f, n);
            case FieldType::Int:
            case FieldType::Float:
                return number_predicate(a, *f, n);
            case FieldType::Ip:
            case FieldType::Net:
                return address_predicate(a, *f, n);
        }
        return constant(false);
    }

    uint32_t string_predicate(const AstNode& a, const FieldInfo& f, Node& n) {
        auto one = [&](Op op, std::string s) {
            n.op = op;
            n.a = static_cast<uint32_t>(c_.strings_.size());
            c_.strings_.push_back(std::move(s));
            return push(n);
        };
        switch (a.op) {
            case PredOp::Cmp:
                if (a.cmp != CmpOp::Eq && a.cmp != CmpOp::Ne) {
                    type_error(a, f, to_string(a.cmp), "a number");
                    return constant(false);
                }
                return one(Op::StrCmp, a.values.at(0).text);
            case PredOp::StartsWith:
                return one(Op::StartsWith, a.values.at(0).text);
            case PredOp::EndsWith:
                return one(Op::EndsWith, a.values.at(0).text);
            case PredOp::Contains:
                return one(Op::Contains, a.values.at(0).text);
            case PredOp::IContains: {
                std::string s = a.values.at(0).text;
                for (char& ch : s)
                    if (ch >= 'A' && ch <= 'Z') ch = static_cast<char>(ch - 'A' + 'a');
                return one(Op::IContains, std::move(s));
            }
            case PredOp::Regex: {
                const AstValue& v = a.values.at(0);
                RE2::Options o;
                o.set_log_errors(false);
                auto re = std::make_unique<RE2>(v.text, o);
                if (!re->ok()) {
                    error(v.pos, "bad regex '" + v.text + "': " + re->error());
                    return constant(false);
                }
                n.op = Op::Regex;
                n.a = static_cast<uint32_t>(c_.regexes_.size());
                c_.regexes_.push_back(std::move(re));
                return push(n);
            }
            case PredOp::In:
            case PredOp::NotIn: {
                std::vector<std::string> members;
                for (const AstValue* v : items(a))
                    members.push_back(v->text);
                StringSet set(std::move(members));
                if (set.size() == 0) {  // in (): never; not in (): whenever the field is there
                    if (a.op == PredOp::In) return constant(false);
                    n.op = Op::Exists;
                    return push(n);
                }
                n.op = Op::StrIn;
                n.negate = a.op == PredOp::NotIn;
                n.a = static_cast<uint32_t>(c_.string_sets_.size());
                c_.string_sets_.push_back(std::move(set));
                return push(n);
            }
            case PredOp::PMatch: {
                std::vector<std::string> prefixes;
                for (const AstValue* v : items(a))
                    prefixes.push_back(v->text);
                n.op = Op::PMatch;
                n.a = static_cast<uint32_t>(c_.prefix_lists_.size());
                c_.prefix_lists_.push_back(std::move(prefixes));
                return push(n);
            }
            case PredOp::Exists:
                break;
        }
        return constant(false);
    }

    std::optional<double> number(const AstValue& v, const FieldInfo& f) {
        const auto d = parse_number(v.text);
        if (!d)
            error(v.pos, "expected a number for " + std::string(f.name) + ", got '" + v.text + "'" +
                             (syms_.lists && syms_.lists->contains(v.text) && !v.quoted
                                  ? " (a list is used as 'in (" + v.text + ")')"
                                  : ""));
        return d;
    }

    uint32_t number_predicate(const AstNode& a, const FieldInfo& f, Node& n) {
        switch (a.op) {
            case PredOp::Cmp: {
                const auto d = number(a.values.at(0), f);
                if (!d) return constant(false);
                n.op = Op::NumCmp;
                n.num = *d;
                return push(n);
            }
            case PredOp::In:
            case PredOp::NotIn: {
                std::vector<double> set;
                for (const AstValue* v : items(a))
                    if (const auto d = number(*v, f)) set.push_back(*d == 0 ? 0.0 : *d);
                std::sort(set.begin(), set.end());
                n.op = Op::NumIn;
                n.negate = a.op == PredOp::NotIn;
                n.a = static_cast<uint32_t>(c_.num_sets_.size());
                c_.num_sets_.push_back(std::move(set));
                return push(n);
            }
            default:
                type_error(a, f, to_string(a.op), "a string field");
                return constant(false);
        }
    }

    uint32_t address_predicate(const AstNode& a, const FieldInfo& f, Node& n) {
        const bool is_net = f.type == FieldType::Net;
        switch (a.op) {
            case PredOp::Cmp: {
                if (a.cmp != CmpOp::Eq && a.cmp != CmpOp::Ne) {
                    type_error(a, f, to_string(a.cmp), "a number");
                    return constant(false);
                }
                const AstValue& v = a.values.at(0);
                std::string why;
                const auto c = parse_cidr(v.text, why);
                if (!c) {
                    error(v.pos, why);
                    return constant(false);
                }
                const bool host = c->prefix == (c->addr.family == 4 ? 32 : 128);
                if (!is_net && !host) {
                    error(v.pos, "'" + v.text + "' is a network: use '" + std::string(f.name) +
                                     " in (" + v.text + ")' to match addresses inside it");
                    return constant(false);
                }
                if (is_net && c->prefix != (c->addr.family == 4 ? 24 : 48)) {
                    error(v.pos, std::string(f.name) +
                                     " is a /24 (IPv4) or /48 (IPv6) network: compare it with "
                                     "one, e.g. 203.0.113.0/24, or use '" +
                                     std::string(f.name) + " in (" + v.text + ")'");
                    return constant(false);
                }
                n.op = is_net ? Op::NetCmp : Op::IpCmp;
                n.ip = c->addr;
                n.prefix = c->prefix;
                return push(n);
            }
            case PredOp::In:
            case PredOp::NotIn: {
                CidrSet set;
                for (const AstValue* v : items(a)) {
                    std::string why;
                    if (const auto c = parse_cidr(v->text, why))
                        set.add(*c);
                    else
                        error(v->pos, why);
                }
                if (set.empty()) {
                    if (a.op == PredOp::In) return constant(false);
                    n.op = Op::Exists;
                    return push(n);
                }
                n.op = Op::CidrIn;
                n.negate = a.op == PredOp::NotIn;
                n.a = static_cast<uint32_t>(c_.cidr_sets_.size());
                c_.cidr_sets_.push_back(std::move(set));
                return push(n);
            }
            default:
                type_error(a, f, to_string(a.op), "a string field");
                return constant(false);
        }
    }

    const ConditionSymbols& syms_;
    std::vector<CompileError>& errors_;
    Condition c_;
    std::vector<std::string> stack_;
    int macro_depth_ = 0;
    size_t swallowed_ = 0;
    std::string cycle_;
    bool too_big_ = false;
    SourcePos at_;
};

bool compile_condition(const AstNode& ast, const ConditionSymbols& syms, std::string_view self,
                       Condition& out, std::vector<CompileError>& errors) {
    ConditionBuilder b(syms, errors);
    return b.build(ast, self, out);
}

}  // namespace sybilwatch::rules
