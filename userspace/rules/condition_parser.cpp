#include "rules/condition_parser.hpp"

#include <array>
#include <optional>
#include <utility>

#include "rules/condition_lexer.hpp"

namespace sybilwatch::rules {

const char* to_string(CmpOp op) {
    switch (op) {
        case CmpOp::Eq:
            return "=";
        case CmpOp::Ne:
            return "!=";
        case CmpOp::Lt:
            return "<";
        case CmpOp::Le:
            return "<=";
        case CmpOp::Gt:
            return ">";
        case CmpOp::Ge:
            return ">=";
    }
    return "=";
}

const char* to_string(PredOp op) {
    switch (op) {
        case PredOp::Cmp:
            return "comparison";
        case PredOp::In:
            return "in";
        case PredOp::NotIn:
            return "not in";
        case PredOp::StartsWith:
            return "startswith";
        case PredOp::EndsWith:
            return "endswith";
        case PredOp::Contains:
            return "contains";
        case PredOp::IContains:
            return "icontains";
        case PredOp::PMatch:
            return "pmatch";
        case PredOp::Regex:
            return "regex";
        case PredOp::Exists:
            return "exists";
    }
    return "?";
}

namespace {

constexpr std::array<std::pair<std::string_view, PredOp>, 7> kWordOps{{
    {"startswith", PredOp::StartsWith},
    {"endswith", PredOp::EndsWith},
    {"contains", PredOp::Contains},
    {"icontains", PredOp::IContains},
    {"pmatch", PredOp::PMatch},
    {"regex", PredOp::Regex},
    {"exists", PredOp::Exists},
}};

std::optional<PredOp> word_op(std::string_view w) {
    for (const auto& [name, op] : kWordOps)
        if (name == w) return op;
    if (w == "in") return PredOp::In;
    return std::nullopt;
}

std::optional<CmpOp> cmp_op(std::string_view s) {
    if (s == "=" || s == "==") return CmpOp::Eq;
    if (s == "!=") return CmpOp::Ne;
    if (s == "<") return CmpOp::Lt;
    if (s == "<=") return CmpOp::Le;
    if (s == ">") return CmpOp::Gt;
    if (s == ">=") return CmpOp::Ge;
    return std::nullopt;
}

// Thrown inside the parser only, caught by parse_condition.
struct Failure {
    size_t offset;
    std::string message;
};

class Parser {
  public:
    Parser(std::string_view text, const PositionMap& pos) : lex_(text), pos_(pos) { advance(); }

    AstNode parse() {
        AstNode n = parse_or(0);
        if (tok_.kind != Token::Kind::End)
            fail("unexpected " + describe(tok_) + " (expected 'and', 'or' or the end)");
        return n;
    }

  private:
    [[noreturn]] void fail(std::string message) { throw Failure{tok_.offset, std::move(message)}; }

    void advance() {
        tok_ = lex_.next();
        if (tok_.kind == Token::Kind::Error) fail(tok_.value);
    }

    bool is_word(std::string_view w) const {
        return tok_.kind == Token::Kind::Word && tok_.raw == w;
    }

    static std::string describe(const Token& t) {
        switch (t.kind) {
            case Token::Kind::End:
                return "end of condition";
            case Token::Kind::String:
                return "string " + std::string(t.raw);
            default:
                return "'" + std::string(t.raw) + "'";
        }
    }

    void check_depth(int depth) {
        if (depth > kMaxConditionDepth)
            fail("nested more than " + std::to_string(kMaxConditionDepth) + " levels deep");
    }

    AstNode list_node(AstNode::Kind kind, AstNode first, SourcePos pos, const char* word,
                      int depth) {
        if (!is_word(word)) return first;
        AstNode n;
        n.kind = kind;
        n.pos = pos;
        n.children.push_back(std::move(first));
        while (is_word(word)) {
            advance();
            n.children.push_back(kind == AstNode::Kind::Or ? parse_and(depth) : parse_not(depth));
        }
        return n;
    }

    AstNode parse_or(int depth) {
        const SourcePos p = pos_(tok_.offset);
        return list_node(AstNode::Kind::Or, parse_and(depth), p, "or", depth);
    }

    AstNode parse_and(int depth) {
        const SourcePos p = pos_(tok_.offset);
        return list_node(AstNode::Kind::And, parse_not(depth), p, "and", depth);
    }

    AstNode parse_not(int depth) {
        check_depth(depth);
        if (is_word("not")) {
            AstNode n;
            n.kind = AstNode::Kind::Not;
            n.pos = pos_(tok_.offset);
            advance();
            n.children.push_back(parse_not(depth + 1));
            return n;
        }
        return parse_primary(depth);
    }

    AstNode parse_primary(int depth) {
        if (tok_.kind == Token::Kind::LParen) {
            const size_t open = tok_.offset;
            advance();
            AstNode n = parse_or(depth + 1);
            if (tok_.kind != Token::Kind::RParen) {
                if (tok_.kind == Token::Kind::End)
                    throw Failure{open, "unbalanced '(': no matching ')'"};
                fail("unexpected " + describe(tok_) + " (expected ')')");
            }
            advance();
            return n;
        }
        if (tok_.kind != Token::Kind::Word || tok_.raw == "and" || tok_.raw == "or" ||
            word_op(tok_.raw))
            fail("expected a field, a macro, 'not' or '(' but found " + describe(tok_));
        AstNode n;
        n.pos = pos_(tok_.offset);
        n.name = std::string(tok_.raw);
        advance();
        return parse_predicate(std::move(n));
    }

    AstValue value(const char* after) {
        if (tok_.kind != Token::Kind::Word && tok_.kind != Token::Kind::String)
            fail(std::string("expected a value after '") + after + "' but found " + describe(tok_));
        AstValue v;
        v.quoted = tok_.kind == Token::Kind::String;
        v.text = v.quoted ? tok_.value : std::string(tok_.raw);
        // Quoted values point at their first character, inside the quote.
        v.pos = pos_(tok_.offset + (v.quoted ? 1 : 0));
        advance();
        return v;
    }

    void items(AstNode& n, const char* op) {
        if (tok_.kind != Token::Kind::LParen)
            fail(std::string("expected '(' after '") + op +
                 "': a list is written (a, b, list_name)");
        advance();
        if (tok_.kind == Token::Kind::RParen) {
            advance();
            return;
        }
        for (;;) {
            n.values.push_back(value(op));
            if (tok_.kind == Token::Kind::Comma) {
                advance();
                continue;
            }
            if (tok_.kind == Token::Kind::RParen) {
                advance();
                return;
            }
            fail("expected ',' or ')' in the list but found " + describe(tok_));
        }
    }

    AstNode parse_predicate(AstNode n) {
        n.kind = AstNode::Kind::Predicate;
        if (tok_.kind == Token::Kind::Op) {
            const auto c = cmp_op(tok_.raw);
            if (!c) fail("unknown operator '" + std::string(tok_.raw) + "'");
            n.op = PredOp::Cmp;
            n.cmp = *c;
            const std::string op(tok_.raw);
            advance();
            n.values.push_back(value(op.c_str()));
            return n;
        }
        if (is_word("not")) {
            advance();
            if (!is_word("in")) fail("expected 'in' after '" + n.name + " not'");
            advance();
            n.op = PredOp::NotIn;
            items(n, "not in");
            return n;
        }
        if (tok_.kind == Token::Kind::Word) {
            if (const auto op = word_op(tok_.raw)) {
                n.op = *op;
                advance();
                switch (*op) {
                    case PredOp::In:
                        items(n, "in");
                        break;
                    case PredOp::PMatch:
                        items(n, "pmatch");
                        break;
                    case PredOp::Exists:
                        break;
                    default:
                        n.values.push_back(value(to_string(*op)));
                        break;
                }
                return n;
            }
        }
        // No operator follows: a macro name (the compiler checks it is one).
        if (tok_.kind == Token::Kind::End || tok_.kind == Token::Kind::RParen || is_word("and") ||
            is_word("or")) {
            n.kind = AstNode::Kind::Name;
            return n;
        }
        fail("expected an operator after '" + n.name +
             "' (=, !=, <, <=, >, >=, in, not in, startswith, endswith, contains, icontains, "
             "pmatch, regex, exists) but found " +
             describe(tok_));
    }

    ConditionLexer lex_;
    const PositionMap& pos_;
    Token tok_;
};

}  // namespace

bool is_condition_keyword(std::string_view w) {
    return w == "and" || w == "or" || w == "not" || word_op(w).has_value();
}

bool parse_condition(std::string_view text, const PositionMap& pos, AstNode& out, ParseError& err) {
    try {
        Parser p(text, pos);
        out = p.parse();
        return true;
    } catch (const Failure& f) {
        err.pos = pos(f.offset);
        err.message = f.message;
        return false;
    }
}

}  // namespace sybilwatch::rules
