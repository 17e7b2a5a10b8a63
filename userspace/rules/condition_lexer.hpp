// Tokens of the condition language. Words are bare runs of anything but blanks, parentheses,
// commas, quotes and comparison characters, so JA4 strings, addresses and CIDRs
// (2001:db8::/32) need no quotes. Quoted strings take ' or "; a backslash escapes only the
// quote itself, so regexes keep their backslashes.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace sybilwatch::rules {

struct Token {
    enum class Kind : uint8_t { Word, String, LParen, RParen, Comma, Op, End, Error };
    Kind kind = Kind::End;
    std::string_view raw;  // the source text of the token
    std::string value;     // String: the unquoted text; Error: the problem
    size_t offset = 0;     // of the token's first character in the condition
};

class ConditionLexer {
  public:
    explicit ConditionLexer(std::string_view text) : text_(text) {}
    Token next();

  private:
    std::string_view text_;
    size_t pos_ = 0;
};

}  // namespace sybilwatch::rules
