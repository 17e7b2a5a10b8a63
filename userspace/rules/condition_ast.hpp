// The syntax tree of a condition (and of exceptions, which the loader builds as one), with the
// file position of every node so that the compiler's type errors point into the rule file.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace sybilwatch::rules {

// 1-based line and column in file number `file` (an index the loader keeps).
struct SourcePos {
    uint32_t file = 0;
    int line = 0;
    int column = 0;
};

enum class CmpOp : uint8_t { Eq, Ne, Lt, Le, Gt, Ge };
const char* to_string(CmpOp op);

enum class PredOp : uint8_t {
    Cmp,         // = != < <= > >=
    In,          // in (a, b, list_name)
    NotIn,       // not in (...)
    StartsWith,  // startswith V
    EndsWith,    // endswith V
    Contains,    // contains V
    IContains,   // icontains V (ASCII case-insensitive)
    PMatch,      // pmatch (a, b): starts with any of the items
    Regex,       // regex 'RE2' (unanchored search)
    Exists,      // exists
};
const char* to_string(PredOp op);

struct AstValue {
    std::string text;
    bool quoted = false;  // quoted text is never taken as a list name
    SourcePos pos;
};

struct AstNode {
    enum class Kind : uint8_t { And, Or, Not, Predicate, Name };
    Kind kind = Kind::Predicate;
    SourcePos pos;
    std::vector<AstNode> children;  // And, Or (2+), Not (1)
    std::string name;               // Predicate: the field; Name: a macro (or a misspelling)
    PredOp op = PredOp::Exists;
    CmpOp cmp = CmpOp::Eq;
    std::vector<AstValue> values;  // Cmp, StartsWith, ...: one; In, NotIn, PMatch: the items
};

}  // namespace sybilwatch::rules
