// StringSet: the strings of an `in` list, for membership tests on every observation (`ja4 in
// (popular_browser_ja4, ...)` runs once per connection). Open addressing over indexes into the
// sorted strings, hashed from the length and the first and last eight bytes (one folded multiply),
// where std::unordered_set hashes every byte, divides by its bucket count and follows a node.
// Inputs chosen to collide only lengthen probes within the set's own size; a hit is always
// confirmed by comparing the whole string.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sybilwatch::rules {

class StringSet {
  public:
    StringSet() = default;
    explicit StringSet(std::vector<std::string> items);

    bool contains(std::string_view s) const {
        if (strings_.empty()) return false;
        for (size_t i = hash(s) & mask_;; i = (i + 1) & mask_) {
            const uint32_t k = slots_[i];
            if (k == kEmpty) return false;
            if (strings_[k] == s) return true;
        }
    }
    size_t size() const { return strings_.size(); }
    // Same members (both keep them sorted).
    bool operator==(const StringSet& o) const { return strings_ == o.strings_; }

  private:
    static constexpr uint32_t kEmpty = UINT32_MAX;
    static uint64_t hash(std::string_view s);

    std::vector<std::string> strings_;  // sorted, unique
    std::vector<uint32_t> slots_;       // indexes into strings_; kEmpty when free
    size_t mask_ = 0;
};

}  // namespace sybilwatch::rules
