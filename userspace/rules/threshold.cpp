#include "rules/threshold.hpp"

#include <charconv>
#include <cmath>

#include "rules/condition_ast.hpp"
#include "rules/did_you_mean.hpp"

namespace sybilwatch::rules {

std::string measure_name(const MeasureRef& m) {
    switch (m.kind) {
        case MeasureRef::Kind::Count:
            return "count";
        case MeasureRef::Kind::Rate:
            return "rate";
        case MeasureRef::Kind::Distinct:
            return "distinct(" + std::string(field_info(m.field).name) + ")";
        case MeasureRef::Kind::Sum:
            return "sum(" + std::string(field_info(m.field).name) + ")";
    }
    return "count";
}

namespace {

struct Failure {
    size_t offset;
    std::string message;
};

bool ident_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

}  // namespace

class ThresholdParser {
  public:
    ThresholdParser(std::string_view text, Threshold& t, MeasureTable& table)
        : s_(text), t_(t), table_(table) {
        lex();
    }

    void parse() {
        const auto [root, is_bool] = expr(0, 0);
        if (kind_ != Tok::End) fail("unexpected '" + std::string(tok_) + "'");
        if (!is_bool) throw Failure{0, "a threshold must be a comparison, e.g. 'count >= 10'"};
        t_.root_ = root;
    }

  private:
    using Op = Threshold::Op;
    enum class Tok { Ident, Number, Sym, End };

    [[noreturn]] void fail(std::string m) { throw Failure{start_, std::move(m)}; }

    void lex() {
        while (pos_ < s_.size() &&
               (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r'))
            ++pos_;
        start_ = pos_;
        if (pos_ >= s_.size()) {
            kind_ = Tok::End;
            tok_ = {};
            return;
        }
        const char c = s_[pos_];
        if ((c >= '0' && c <= '9') || c == '.') {
            double d = 0;
            const auto r = std::from_chars(s_.data() + pos_, s_.data() + s_.size(), d);
            if (r.ec != std::errc() || !std::isfinite(d)) fail("bad number");
            number_ = d;
            pos_ = static_cast<size_t>(r.ptr - s_.data());
            kind_ = Tok::Number;
        } else if (ident_char(c)) {
            while (pos_ < s_.size() && ident_char(s_[pos_]))
                ++pos_;
            kind_ = Tok::Ident;
        } else {
            const bool two = pos_ + 1 < s_.size() && s_[pos_ + 1] == '=' &&
                             (c == '<' || c == '>' || c == '!' || c == '=');
            pos_ += two ? 2 : 1;
            kind_ = Tok::Sym;
        }
        tok_ = s_.substr(start_, pos_ - start_);
    }

    bool sym(std::string_view s) const { return kind_ == Tok::Sym && tok_ == s; }
    bool word(std::string_view s) const { return kind_ == Tok::Ident && tok_ == s; }

    uint32_t push(Threshold::Node n) {
        if (t_.nodes_.size() > 10'000) fail("threshold too long");
        t_.nodes_.push_back(n);
        return static_cast<uint32_t>(t_.nodes_.size() - 1);
    }

    uint32_t measure(MeasureRef m) {
        Threshold::Node n;
        n.op = Op::Measure;
        n.a = table_.intern(m);
        return push(n);
    }

    FieldId field_arg(const char* fn, bool numeric) {
        lex();
        if (!sym("(")) fail(std::string("expected '(' after ") + fn);
        lex();
        const size_t at = start_;
        const FieldInfo* f = kind_ == Tok::Ident ? find_field(tok_) : nullptr;
        if (!f) {
            std::vector<std::string_view> names;
            for (const FieldInfo& i : fields())
                names.push_back(i.name);
            fail("unknown field '" + std::string(tok_) + "'" + did_you_mean(tok_, names));
        }
        if (numeric && f->type != FieldType::Int && f->type != FieldType::Float)
            throw Failure{at, std::string(fn) + "() needs a numeric field, but " +
                                  std::string(f->name) + " is a " + to_string(f->type)};
        lex();
        if (!sym(")")) fail("expected ')'");
        lex();
        return f->id;
    }

    // Returns the node and whether it is boolean (else numeric).
    std::pair<uint32_t, bool> primary(int depth) {
        if (depth > 100) fail("threshold nested too deeply");
        if (kind_ == Tok::Number) {
            Threshold::Node n;
            n.value = number_;
            lex();
            return {push(n), false};
        }
        if (sym("(")) {
            const size_t open = start_;
            lex();
            auto r = expr(0, depth + 1);
            if (!sym(")")) throw Failure{open, "unbalanced '(': no matching ')'"};
            lex();
            return r;
        }
        if (sym("-")) {
            const size_t at = start_;
            lex();
            const auto [a, b] = expr(6, depth + 1);
            if (b) throw Failure{at, "'-' needs a number"};
            Threshold::Node n;
            n.op = Op::Neg;
            n.a = a;
            return {push(n), false};
        }
        if (word("not")) {
            const size_t at = start_;
            lex();
            const auto [a, b] = expr(3, depth + 1);
            if (!b) throw Failure{at, "'not' needs a comparison"};
            Threshold::Node n;
            n.op = Op::Not;
            n.a = a;
            return {push(n), true};
        }
        if (word("count") || word("rate")) {
            const MeasureRef m{word("count") ? MeasureRef::Kind::Count : MeasureRef::Kind::Rate,
                               FieldId::Account};
            lex();
            return {measure(m), false};
        }
        if (word("account_count")) {
            lex();
            return {measure({MeasureRef::Kind::Distinct, FieldId::Account}), false};
        }
        if (word("distinct"))
            return {measure({MeasureRef::Kind::Distinct, field_arg("distinct", false)}), false};
        if (word("sum")) return {measure({MeasureRef::Kind::Sum, field_arg("sum", true)}), false};
        if (kind_ == Tok::End) fail("expected a measure or a number but the threshold ends");
        static const std::vector<std::string_view> kWords{"count", "rate", "distinct", "sum",
                                                          "account_count"};
        fail("unknown measure '" + std::string(tok_) + "'" + did_you_mean(tok_, kWords) +
             "; measures are count, rate, distinct(FIELD), sum(FIELD)");
    }

    int precedence(Op& op, uint8_t& cmp) const {
        if (word("or")) return op = Op::Or, 1;
        if (word("and")) return op = Op::And, 2;
        if (kind_ != Tok::Sym) return 0;
        static constexpr std::pair<std::string_view, CmpOp> kCmp[] = {
            {"=", CmpOp::Eq},  {"==", CmpOp::Eq}, {"!=", CmpOp::Ne}, {"<", CmpOp::Lt},
            {"<=", CmpOp::Le}, {">", CmpOp::Gt},  {">=", CmpOp::Ge}};
        for (const auto& [s, c] : kCmp)
            if (tok_ == s) return op = Op::Cmp, cmp = static_cast<uint8_t>(c), 4;
        if (tok_ == "+") return op = Op::Add, 5;
        if (tok_ == "-") return op = Op::Sub, 5;
        if (tok_ == "*") return op = Op::Mul, 6;
        if (tok_ == "/") return op = Op::Div, 6;
        return 0;
    }

    // Precedence climbing: binds operators tighter than `min`.
    std::pair<uint32_t, bool> expr(int min, int depth) {
        auto lhs = primary(depth);
        for (;;) {
            Op op = Op::Num;
            uint8_t cmp = 0;
            const int p = precedence(op, cmp);
            if (p == 0 || p <= min) return lhs;
            const size_t at = start_;
            const std::string o(tok_);
            lex();
            const auto rhs = expr(p, depth + 1);
            const bool logic = op == Op::And || op == Op::Or;
            if (logic && (!lhs.second || !rhs.second))
                throw Failure{at, "'" + o + "' joins comparisons, e.g. 'count > 5 and rate > 1'"};
            if (!logic && (lhs.second || rhs.second))
                throw Failure{at, "'" + o + "' needs numbers on both sides"};
            if (op == Op::Cmp && p == 4) {
                Op next = Op::Num;
                uint8_t c2 = 0;
                if (precedence(next, c2) == 4) fail("comparisons do not chain; use 'and'");
            }
            Threshold::Node n;
            n.op = op;
            n.cmp = cmp;
            n.a = lhs.first;
            n.b = rhs.first;
            lhs = {push(n), logic || op == Op::Cmp};
        }
    }

    std::string_view s_;
    Threshold& t_;
    MeasureTable& table_;
    size_t pos_ = 0, start_ = 0;
    Tok kind_ = Tok::End;
    std::string_view tok_;
    double number_ = 0;
};

bool Threshold::compile(std::string_view text, MeasureTable& table, size_t& err_offset,
                        std::string& err) {
    nodes_.clear();
    text_ = std::string(text);
    try {
        ThresholdParser(text, *this, table).parse();
        return true;
    } catch (const Failure& f) {
        nodes_.clear();
        err_offset = f.offset;
        err = f.message;
        return false;
    }
}

double Threshold::num(uint32_t i, std::span<const double> m) const {
    const Node& n = nodes_[i];
    switch (n.op) {
        case Op::Num:
            return n.value;
        case Op::Measure:
            return n.a < m.size() ? m[n.a] : std::nan("");
        case Op::Add:
            return num(n.a, m) + num(n.b, m);
        case Op::Sub:
            return num(n.a, m) - num(n.b, m);
        case Op::Mul:
            return num(n.a, m) * num(n.b, m);
        case Op::Div: {
            const double d = num(n.b, m);
            return d == 0 ? std::nan("") : num(n.a, m) / d;  // NaN: every comparison false
        }
        case Op::Neg:
            return -num(n.a, m);
        default:
            return std::nan("");
    }
}

bool Threshold::test(uint32_t i, std::span<const double> m) const {
    const Node& n = nodes_[i];
    switch (n.op) {
        case Op::And:
            return test(n.a, m) && test(n.b, m);
        case Op::Or:
            return test(n.a, m) || test(n.b, m);
        case Op::Not:
            return !test(n.a, m);
        case Op::Cmp: {
            const double a = num(n.a, m), b = num(n.b, m);
            if (std::isnan(a) || std::isnan(b)) return false;
            switch (static_cast<CmpOp>(n.cmp)) {
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
        default:
            return false;
    }
}

bool Threshold::eval(std::span<const double> measures) const {
    return nodes_.empty() || test(root_, measures);
}

}  // namespace sybilwatch::rules
