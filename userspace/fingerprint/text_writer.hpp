// Appends text to a fixed buffer without allocating; fingerprints are formatted per connection.
#pragma once

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>

#include "fingerprint/short_copy.hpp"

namespace sybilwatch::fingerprint {

class TextWriter {
  public:
    explicit TextWriter(std::span<char> buf) : buf_(buf) {}
    TextWriter& put(char c) {
        if (len_ < buf_.size())
            buf_[len_++] = c;
        else
            overflow_ = true;
        return *this;
    }
    // One copy per piece, not a bounds check per character: SYN signatures are formatted for
    // every connection. What does not fit is cut and marks the text as overflowed.
    TextWriter& put(std::string_view s) {
        const size_t n = std::min(s.size(), buf_.size() - len_);
        copy_short(buf_.data() + len_, s.data(), n);
        len_ += n;
        if (n < s.size()) overflow_ = true;
        return *this;
    }
    template <typename T>
    TextWriter& num(T v, int min_digits = 1) {
        char tmp[24] = {};
        const char* const end = std::to_chars(tmp, tmp + sizeof tmp, v).ptr;
        for (int pad = min_digits - static_cast<int>(end - tmp); pad > 0; --pad)
            put('0');
        return put(std::string_view(tmp, static_cast<size_t>(end - tmp)));
    }
    std::string_view view() const { return {buf_.data(), len_}; }
    bool overflow() const { return overflow_; }

  private:
    std::span<char> buf_;
    size_t len_ = 0;
    bool overflow_ = false;
};

}  // namespace sybilwatch::fingerprint
