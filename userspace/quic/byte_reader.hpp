// Bounds-checked cursor over untrusted QUIC bytes: fixed-width big-endian integers and the
// variable-length integers of RFC 9000 §16. Every read either succeeds in full or fails and
// leaves the cursor where it was, so callers can simply stop at the first false.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace sybilwatch::quic {

// Largest value a QUIC varint can carry (2^62 - 1).
inline constexpr uint64_t kMaxVarint = (uint64_t{1} << 62) - 1;

class ByteReader {
  public:
    explicit ByteReader(std::span<const uint8_t> bytes) : bytes_(bytes) {}

    size_t offset() const { return pos_; }
    size_t remaining() const { return bytes_.size() - pos_; }
    bool empty() const { return pos_ == bytes_.size(); }
    std::span<const uint8_t> rest() const { return bytes_.subspan(pos_); }

    bool u8(uint8_t& out) {
        if (remaining() < 1) return false;
        out = bytes_[pos_++];
        return true;
    }

    bool u32(uint32_t& out) {
        if (remaining() < 4) return false;
        out = uint32_t{bytes_[pos_]} << 24 | uint32_t{bytes_[pos_ + 1]} << 16 |
              uint32_t{bytes_[pos_ + 2]} << 8 | uint32_t{bytes_[pos_ + 3]};
        pos_ += 4;
        return true;
    }

    // The two high bits of the first byte give the encoded length (1, 2, 4 or 8 bytes).
    bool varint(uint64_t& out) {
        if (remaining() < 1) return false;
        const size_t len = size_t{1} << (bytes_[pos_] >> 6);
        if (remaining() < len) return false;
        uint64_t v = bytes_[pos_] & 0x3f;
        for (size_t i = 1; i < len; ++i)
            v = v << 8 | bytes_[pos_ + i];
        pos_ += len;
        out = v;
        return true;
    }

    bool bytes(size_t n, std::span<const uint8_t>& out) {
        if (remaining() < n) return false;
        out = bytes_.subspan(pos_, n);
        pos_ += n;
        return true;
    }

    bool skip(size_t n) {
        if (remaining() < n) return false;
        pos_ += n;
        return true;
    }

  private:
    std::span<const uint8_t> bytes_;
    size_t pos_ = 0;
};

}  // namespace sybilwatch::quic
