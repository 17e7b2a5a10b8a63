#include "rules/did_you_mean.hpp"

#include <algorithm>

namespace sybilwatch::rules {

namespace {

size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<size_t> row(b.size() + 1);
    for (size_t j = 0; j <= b.size(); ++j)
        row[j] = j;
    for (size_t i = 1; i <= a.size(); ++i) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= b.size(); ++j) {
            const size_t up = row[j];
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] != b[j - 1])});
            diag = up;
        }
    }
    return row[b.size()];
}

}  // namespace

std::string_view closest(std::string_view word, const std::vector<std::string_view>& candidates) {
    // Long fuzzed words would make this quadratic for nothing: nobody misspells 100 letters.
    if (word.size() < 3 || word.size() > 64) return {};
    const size_t limit = word.size() <= 3 ? 1 : 2;
    std::string_view best;
    size_t best_d = limit + 1;
    for (std::string_view c : candidates) {
        if (c.size() > word.size() + limit || c.size() + limit < word.size()) continue;
        const size_t d = edit_distance(word, c);
        if (d < best_d) {
            best_d = d;
            best = c;
        }
    }
    return best;
}

std::string did_you_mean(std::string_view word, const std::vector<std::string_view>& candidates) {
    const std::string_view c = closest(word, candidates);
    return c.empty() ? std::string() : " (did you mean '" + std::string(c) + "'?)";
}

}  // namespace sybilwatch::rules
