// Positions in rule files: YAML marks to 1-based line:column, and offsets inside a scalar's
// value (a condition, a threshold) back to where that character sits in the file, through
// quotes, block indicators and line folding.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "rules/condition_ast.hpp"

namespace sybilwatch::rules {

class SourceFile {
  public:
    SourceFile(uint32_t index, std::string name, std::string text);

    const std::string& name() const { return name_; }
    const std::string& text() const { return text_; }
    uint32_t index() const { return index_; }

    // The position of a node (or of `fallback` when the node has no mark).
    SourcePos at(const YAML::Mark& m) const;
    // The position of character `offset` of `value`, the scalar starting at mark `m`. Past
    // the end: just after the last character. Falls back to the mark itself when the value
    // cannot be followed through the source (escapes it does not know).
    SourcePos at(const YAML::Mark& m, std::string_view value, size_t offset) const;

  private:
    SourcePos from_offset(size_t off) const;

    uint32_t index_;
    std::string name_;
    std::string text_;
    std::vector<size_t> line_starts_;
};

}  // namespace sybilwatch::rules
