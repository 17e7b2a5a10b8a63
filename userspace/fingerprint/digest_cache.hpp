// A small direct-mapped cache from a fingerprint's input lists to its hashed text. Most
// connections come from a few client stacks, and hashing (SHA-256, MD5 through OpenSSL) is
// the larger part of fingerprinting a hello; a hit costs a hash of the key and one compare.
// The whole key is stored and compared, so a hit is always the value the lists produce; keys
// longer than kMaxKey are simply not cached.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

namespace sybilwatch::fingerprint {

template <size_t ValueLen>
class DigestCache {
  public:
    static constexpr size_t kMaxKey = 160;  // uint16 values: a hello with ~70 ciphers+extensions
    static constexpr size_t kEntries = 512;

    // Builds a key by appending values; reset before each use.
    class Key {
      public:
        void reset() { n_ = 0; }
        void put(uint16_t v) {
            if (n_ < kMaxKey) k_[n_] = v;
            ++n_;
        }
        void put(std::span<const uint16_t> vs) {
            put(static_cast<uint16_t>(vs.size()));  // the length keeps lists apart
            for (uint16_t v : vs)
                put(v);
        }
        bool cacheable() const { return n_ <= kMaxKey; }
        std::span<const uint16_t> view() const { return {k_.data(), n_ <= kMaxKey ? n_ : 0}; }
        uint64_t hash() const {
            uint64_t h = 0xcbf29ce484222325ull ^ n_;
            for (size_t i = 0; i < n_ && i < kMaxKey; ++i)
                h = (h ^ k_[i]) * 0x100000001b3ull;
            return h ^ (h >> 29);
        }

      private:
        std::array<uint16_t, kMaxKey> k_;
        size_t n_ = 0;
    };

    DigestCache() : entries_(kEntries) {}

    const std::array<char, ValueLen>* find(const Key& k, uint64_t h) const {
        if (!k.cacheable()) return nullptr;
        const Entry& e = entries_[h % kEntries];
        const auto v = k.view();
        if (e.len != v.size() || e.hash != h ||
            std::memcmp(e.key.data(), v.data(), v.size() * sizeof(uint16_t)) != 0)
            return nullptr;
        return &e.value;
    }
    void store(const Key& k, uint64_t h, const char* value) {
        if (!k.cacheable()) return;
        Entry& e = entries_[h % kEntries];
        const auto v = k.view();
        e.hash = h;
        e.len = static_cast<uint16_t>(v.size());
        std::memcpy(e.key.data(), v.data(), v.size() * sizeof(uint16_t));
        std::memcpy(e.value.data(), value, ValueLen);
    }

  private:
    struct Entry {
        uint64_t hash = 0;
        uint16_t len = UINT16_MAX;  // matches no key: empty
        std::array<uint16_t, kMaxKey> key;
        std::array<char, ValueLen> value;
    };
    std::vector<Entry> entries_;
};

}  // namespace sybilwatch::fingerprint
