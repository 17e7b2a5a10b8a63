#include "rules/condition_lexer.hpp"

namespace sybilwatch::rules {

namespace {

bool blank(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

bool word_char(char c) {
    return !blank(c) && c != '(' && c != ')' && c != ',' && c != '\'' && c != '"' && c != '=' &&
           c != '<' && c != '>' && c != '!';
}

}  // namespace

Token ConditionLexer::next() {
    while (pos_ < text_.size() && blank(text_[pos_]))
        ++pos_;
    Token t;
    t.offset = pos_;
    if (pos_ >= text_.size()) return t;
    const char c = text_[pos_];
    auto single = [&](Token::Kind k) {
        t.kind = k;
        t.raw = text_.substr(pos_++, 1);
        return t;
    };
    switch (c) {
        case '(':
            return single(Token::Kind::LParen);
        case ')':
            return single(Token::Kind::RParen);
        case ',':
            return single(Token::Kind::Comma);
        case '=':
        case '<':
        case '>':
        case '!': {
            size_t len = 1;
            if (pos_ + 1 < text_.size() && text_[pos_ + 1] == '=') len = 2;
            t.raw = text_.substr(pos_, len);
            pos_ += len;
            if (t.raw == "!") {
                t.kind = Token::Kind::Error;
                t.value = "'!' is not an operator (use 'not' or '!=')";
                return t;
            }
            t.kind = Token::Kind::Op;
            return t;
        }
        case '\'':
        case '"': {
            const size_t start = pos_++;
            while (pos_ < text_.size() && text_[pos_] != c) {
                if (text_[pos_] == '\\' && pos_ + 1 < text_.size() && text_[pos_ + 1] == c) ++pos_;
                t.value += text_[pos_++];
            }
            if (pos_ >= text_.size()) {
                t.kind = Token::Kind::Error;
                t.value = std::string("unterminated string: missing closing ") + c;
                t.raw = text_.substr(start);
                return t;
            }
            ++pos_;
            t.kind = Token::Kind::String;
            t.raw = text_.substr(start, pos_ - start);
            return t;
        }
        default:
            break;
    }
    const size_t start = pos_;
    while (pos_ < text_.size() && word_char(text_[pos_]))
        ++pos_;
    t.kind = Token::Kind::Word;
    t.raw = text_.substr(start, pos_ - start);
    return t;
}

}  // namespace sybilwatch::rules
