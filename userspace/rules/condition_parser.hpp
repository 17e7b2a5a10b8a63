// Condition text to syntax tree. Precedence, loosest first: or, and, not, then predicates
// (FIELD OP VALUE, FIELD in (...), FIELD exists, ...) and macro names; parentheses group.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

#include "rules/condition_ast.hpp"

namespace sybilwatch::rules {

// Where offset `off` of the condition text lies in its file (the loader maps it through the
// YAML scalar's position).
using PositionMap = std::function<SourcePos(size_t off)>;

struct ParseError {
    SourcePos pos;
    std::string message;
};

// Parentheses and `not`s nested deeper than this are an error, not a stack overflow.
constexpr int kMaxConditionDepth = 100;

// Parses `text`; on failure returns false with the first error (parsing stops there).
bool parse_condition(std::string_view text, const PositionMap& pos, AstNode& out, ParseError& err);

// "startswith" etc.: the words with a meaning in conditions, which cannot name macros.
bool is_condition_keyword(std::string_view word);

}  // namespace sybilwatch::rules
