// Appends text to a fixed buffer without allocating; fingerprints are formatted per connection.
#pragma once

#include <charconv>
#include <cstdint>
#include <span>
#include <string_view>

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
    TextWriter& put(std::string_view s) {
        for (char c : s)
            put(c);
        return *this;
    }
    template <typename T>
    TextWriter& num(T v, int min_digits = 1) {
        char tmp[24];
        auto [end, ec] = std::to_chars(tmp, tmp + sizeof tmp, v);
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
