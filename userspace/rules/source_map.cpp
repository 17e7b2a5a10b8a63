#include "rules/source_map.hpp"

#include <algorithm>

namespace sybilwatch::rules {

SourceFile::SourceFile(uint32_t index, std::string name, std::string text)
    : index_(index), name_(std::move(name)), text_(std::move(text)) {
    line_starts_.push_back(0);
    for (size_t i = 0; i < text_.size(); ++i)
        if (text_[i] == '\n') line_starts_.push_back(i + 1);
}

SourcePos SourceFile::from_offset(size_t off) const {
    off = std::min(off, text_.size());
    const auto it = std::upper_bound(line_starts_.begin(), line_starts_.end(), off);
    const size_t line = static_cast<size_t>(it - line_starts_.begin());  // 1-based
    return {index_, static_cast<int>(line), static_cast<int>(off - line_starts_[line - 1] + 1)};
}

SourcePos SourceFile::at(const YAML::Mark& m) const {
    if (m.is_null() || m.pos < 0) return {index_, 1, 1};
    // yaml-cpp counts lines and columns from 0; editors from 1.
    return {index_, m.line + 1, m.column + 1};
}

SourcePos SourceFile::at(const YAML::Mark& m, std::string_view value, size_t offset) const {
    if (m.is_null() || m.pos < 0 || static_cast<size_t>(m.pos) > text_.size()) return at(m);
    size_t p = static_cast<size_t>(m.pos);
    // Each value character is found at or after the previous one's source position: what is
    // skipped is quoting, indentation and block headers. A folded line break reads as a blank.
    auto find = [&](char c) {
        while (p < text_.size()) {
            const char s = text_[p];
            if (s == c || (c == ' ' && s == '\n')) return true;
            ++p;
        }
        return false;
    };
    const size_t n = std::min(offset, value.size());
    for (size_t i = 0; i < n; ++i) {
        if (!find(value[i])) return at(m);
        ++p;
    }
    if (offset < value.size() && !find(value[offset])) return at(m);
    return from_offset(p);
}

}  // namespace sybilwatch::rules
