// "did you mean" hints for misspelt keys, fields, macros and lists.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace sybilwatch::rules {

// The candidate closest to `word` within 2 edits (1 for words of 3 letters; none for shorter
// words), or "".
std::string_view closest(std::string_view word, const std::vector<std::string_view>& candidates);

// " (did you mean 'x'?)" or "".
std::string did_you_mean(std::string_view word, const std::vector<std::string_view>& candidates);

}  // namespace sybilwatch::rules
