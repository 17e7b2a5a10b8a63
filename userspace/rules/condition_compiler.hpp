// Syntax tree to compiled Condition: resolves macros (inlined, cycles refused) and lists
// (expanded, lists may name lists), checks every predicate against the field's type, parses
// literals (numbers, addresses, CIDRs), and compiles regexes. Every problem is reported with
// its position; compilation goes on after a type error so one pass reports them all.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "rules/condition.hpp"
#include "rules/condition_ast.hpp"

namespace sybilwatch::rules {

struct ListDef {
    std::vector<AstValue> items;
    SourcePos pos;
};

struct MacroDef {
    AstNode ast;
    SourcePos pos;
    bool parsed = false;  // false: its condition did not parse (already reported)
};

struct ConditionSymbols {
    const std::map<std::string, ListDef, std::less<>>* lists = nullptr;
    const std::map<std::string, MacroDef, std::less<>>* macros = nullptr;
};

struct CompileError {
    SourcePos pos;
    std::string message;
};

// A compiled condition is refused when macro expansion makes it larger or deeper than this.
constexpr size_t kMaxConditionNodes = 100'000;
constexpr int kMaxExpandedDepth = 1000;

// Compiles `ast`. `self` names the macro being compiled (so that a reference to itself is a
// cycle), or is empty for a rule. Returns false (errors appended) when anything is wrong.
bool compile_condition(const AstNode& ast, const ConditionSymbols& syms, std::string_view self,
                       Condition& out, std::vector<CompileError>& errors);

}  // namespace sybilwatch::rules
