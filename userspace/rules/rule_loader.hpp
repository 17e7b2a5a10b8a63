// Loading rule files: YAML items (list, macro, rule) from files and directories into a
// validated RuleSet. Every problem is found here, never at run time, and all of a pack's
// problems are reported at once, each as "FILE:LINE:COL: rule ID: message".
//
// Lists and macros are shared by all files of a load, whatever their order; a later file may
// redefine one (replacing it) or extend it with `append: true`. Rule ids are unique. An item
// `- rule: ID` with only `enabled:` switches an earlier rule on or off (local overrides).
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "rules/rule_spec.hpp"

namespace sybilwatch::rules {

struct Diagnostic {
    std::string file;
    int line = 0;      // 1-based; 0 when the file itself could not be read
    int column = 0;    // 1-based
    std::string item;  // "rule", "macro", "list", or "" for the file
    std::string name;  // the item's id
    std::string message;

    // "FILE:LINE:COL: rule ID: message" ("FILE: message" without a position).
    std::string to_string() const;
};

class RuleSet {
  public:
    // Every rule, in load order, disabled ones included (the engine skips them).
    const std::vector<RuleSpec>& rules() const { return rules_; }
    const RuleSpec* find(std::string_view id) const;
    size_t list_count() const { return lists_; }
    size_t macro_count() const { return macros_; }
    const std::vector<std::string>& files() const { return files_; }

  private:
    friend class RuleLoader;
    std::vector<RuleSpec> rules_;
    size_t lists_ = 0, macros_ = 0;
    std::vector<std::string> files_;
};

struct LoadResult {
    RuleSet rules;                   // empty unless errors is
    std::vector<Diagnostic> errors;  // sorted by file, line and column
    bool ok() const { return errors.empty(); }
};

struct RuleSource {
    std::string name;  // stands for the file in messages
    std::string text;
};

// Files and directories (a directory's *.yaml and *.yml files, by name), in the order given.
LoadResult load_rules(std::span<const std::string> paths);
// The same from text in memory (tests, the fuzzer).
LoadResult load_rules_text(std::span<const RuleSource> sources);

}  // namespace sybilwatch::rules
