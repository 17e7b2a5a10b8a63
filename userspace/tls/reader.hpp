// Bounds-checked big-endian reader over untrusted bytes. Every read past the end sets a sticky
// failure flag and yields zeros / empty spans, so parsers check ok() once per structure
// instead of after every field, and can never read outside the span.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace sybilwatch::tls {

class Reader {
  public:
    explicit Reader(std::span<const uint8_t> data) : data_(data) {}

    bool ok() const { return ok_; }
    size_t pos() const { return pos_; }
    size_t remaining() const { return ok_ ? data_.size() - pos_ : 0; }
    bool empty() const { return remaining() == 0; }

    uint8_t u8() {
        if (!need(1)) return 0;
        return data_[pos_++];
    }
    uint16_t u16() {
        if (!need(2)) return 0;
        uint16_t v = static_cast<uint16_t>(data_[pos_] << 8 | data_[pos_ + 1]);
        pos_ += 2;
        return v;
    }
    uint32_t u24() {
        if (!need(3)) return 0;
        uint32_t v = uint32_t{data_[pos_]} << 16 | uint32_t{data_[pos_ + 1]} << 8 | data_[pos_ + 2];
        pos_ += 3;
        return v;
    }
    std::span<const uint8_t> bytes(size_t n) {
        if (!need(n)) return {};
        auto s = data_.subspan(pos_, n);
        pos_ += n;
        return s;
    }
    // Length-prefixed vectors as TLS encodes them (RFC 8446 section 3.4).
    std::span<const uint8_t> vec8() { return bytes(u8()); }
    std::span<const uint8_t> vec16() { return bytes(u16()); }
    void skip(size_t n) { bytes(n); }
    std::span<const uint8_t> rest() { return bytes(remaining()); }

  private:
    bool need(size_t n) {
        if (!ok_ || data_.size() - pos_ < n) {
            ok_ = false;
            return false;
        }
        return true;
    }

    std::span<const uint8_t> data_;
    size_t pos_ = 0;
    bool ok_ = true;
};

inline uint16_t load_u16(const uint8_t* p) {
    return static_cast<uint16_t>(p[0] << 8 | p[1]);
}

}  // namespace sybilwatch::tls
