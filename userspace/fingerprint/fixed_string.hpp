// A string with inline, fixed capacity: observations are copied between stages and into
// shared-memory records, so their short fields must not own heap memory.
#pragma once

#include <array>
#include <cstddef>
#include <cstring>
#include <string_view>

#include "fingerprint/short_copy.hpp"

namespace sybilwatch::fingerprint {

template <size_t N>
class FixedString {
  public:
    static constexpr size_t capacity = N;

    FixedString() = default;
    // Stores `s`; a value longer than the capacity is not stored at all (an absent value is
    // better than a truncated fingerprint that looks valid). Returns whether it was stored.
    bool assign(std::string_view s) {
        if (s.size() > N) {
            len_ = 0;
            return false;
        }
        copy_short(buf_.data(), s.data(), s.size());  // reads nothing when empty
        len_ = static_cast<uint16_t>(s.size());
        return true;
    }
    void clear() { len_ = 0; }
    bool empty() const { return len_ == 0; }
    size_t size() const { return len_; }
    std::string_view view() const { return {buf_.data(), len_}; }
    bool operator==(std::string_view s) const { return view() == s; }

  private:
    // The length first: a short value and its length share a cache line (the JSON writer
    // reads a dozen of these per connection).
    uint16_t len_ = 0;
    std::array<char, N> buf_{};
};

}  // namespace sybilwatch::fingerprint
