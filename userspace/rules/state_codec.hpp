// StateWriter / StateReader: the little-endian byte encoding every rule state saves itself
// with. The reader is bounds-checked and sticky: after the first short or invalid read every
// further read returns zero and ok() stays false, so loaders check once at the end and never
// read past the buffer whatever the bytes are (saved state files may be truncated or corrupt).
#pragma once

#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace sybilwatch::rules {

class StateWriter {
  public:
    explicit StateWriter(std::vector<uint8_t>& out) : out_(out) {}
    void u8(uint8_t v) { out_.push_back(v); }
    void u32(uint32_t v) { raw(&v, 4); }
    void u64(uint64_t v) { raw(&v, 8); }
    void i64(int64_t v) { raw(&v, 8); }
    void f64(double v) { raw(&v, 8); }
    void str(std::string_view s) {
        u32(static_cast<uint32_t>(s.size()));
        out_.insert(out_.end(), s.begin(), s.end());
    }
    void bytes(std::span<const uint8_t> b) { out_.insert(out_.end(), b.begin(), b.end()); }

  private:
    // The project targets little-endian hosts (x86-64, arm64); the format is little-endian.
    void raw(const void* p, size_t n) {
        const auto* b = static_cast<const uint8_t*>(p);
        out_.insert(out_.end(), b, b + n);
    }
    std::vector<uint8_t>& out_;
};

class StateReader {
  public:
    explicit StateReader(std::span<const uint8_t> in) : in_(in) {}
    uint8_t u8() {
        uint8_t v = 0;
        raw(&v, 1);
        return v;
    }
    uint32_t u32() {
        uint32_t v = 0;
        raw(&v, 4);
        return v;
    }
    uint64_t u64() {
        uint64_t v = 0;
        raw(&v, 8);
        return v;
    }
    int64_t i64() {
        int64_t v = 0;
        raw(&v, 8);
        return v;
    }
    double f64() {
        double v = 0;
        raw(&v, 8);
        return v;
    }
    std::string str(size_t max_len = 4096) {
        const uint32_t n = u32();
        if (!ok_ || n > max_len || n > remaining()) {
            ok_ = false;
            return {};
        }
        std::string s(reinterpret_cast<const char*>(in_.data() + pos_), n);
        pos_ += n;
        return s;
    }
    std::span<const uint8_t> bytes(size_t n) {
        if (!ok_ || n > remaining()) {
            ok_ = false;
            return {};
        }
        auto s = in_.subspan(pos_, n);
        pos_ += n;
        return s;
    }
    // A count of records that each take at least min_record_bytes: rejects counts the rest of
    // the input cannot hold, so a corrupt count never drives a huge allocation.
    uint32_t count(size_t min_record_bytes, uint32_t max_count = UINT32_MAX) {
        const uint32_t n = u32();
        if (!ok_ || n > max_count ||
            (min_record_bytes != 0 && n > remaining() / min_record_bytes)) {
            ok_ = false;
            return 0;
        }
        return n;
    }
    void fail() { ok_ = false; }
    bool ok() const { return ok_; }
    size_t remaining() const { return in_.size() - pos_; }

  private:
    void raw(void* p, size_t n) {
        if (!ok_ || n > remaining()) {
            ok_ = false;
            return;
        }
        std::memcpy(p, in_.data() + pos_, n);
        pos_ += n;
    }
    std::span<const uint8_t> in_;
    size_t pos_ = 0;
    bool ok_ = true;
};

}  // namespace sybilwatch::rules
