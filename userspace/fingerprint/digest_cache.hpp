// Small direct-mapped caches from a fingerprint's input lists to its hashed text. Most
// connections come from a few client stacks, and hashing (SHA-256, MD5) is the larger part of
// fingerprinting a hello; a hit costs a hash of the key and one compare. The whole key is
// stored and compared, so a hit is always the value the lists produce; keys longer than the
// cache's MaxKey are simply not cached.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

namespace sybilwatch::fingerprint {

template <typename Value, size_t MaxKey = 160, size_t Entries = 512>
class ListCache {
    static_assert((Entries & (Entries - 1)) == 0, "Entries: a power of two");

  public:
    static constexpr size_t kMaxKey = MaxKey;

    // Four values per multiply, in two independent chains: keys are hashed for every hello,
    // 50-150 values each, and a single chain would wait on each multiply in turn.
    static uint64_t hash(std::span<const uint16_t> key) {
        uint64_t h0 = 0x9e3779b97f4a7c15ull * (key.size() + 1), h1 = 0x632be59bd9b4e019ull;
        size_t i = 0;
        for (; i + 8 <= key.size(); i += 8) {
            uint64_t w0, w1;
            std::memcpy(&w0, key.data() + i, sizeof w0);
            std::memcpy(&w1, key.data() + i + 4, sizeof w1);
            h0 = (h0 ^ w0) * 0xbf58476d1ce4e5b9ull;
            h1 = (h1 ^ w1) * 0xbf58476d1ce4e5b9ull;
            h0 ^= h0 >> 31;
            h1 ^= h1 >> 31;
        }
        uint16_t tail[8] = {};  // value by value: a memcpy of a run-time length is a call
        for (size_t t = 0; i + t < key.size(); ++t)
            tail[t] = key[i + t];
        uint64_t w[2];
        std::memcpy(w, tail, sizeof w);
        uint64_t h = (h0 ^ w[0]) * 0x94d049bb133111ebull + (h1 ^ w[1]) * 0xbf58476d1ce4e5b9ull;
        return h ^ (h >> 29);
    }

    ListCache() : entries_(Entries) {}

    const Value* find(std::span<const uint16_t> key, uint64_t h) const {
        if (key.size() > MaxKey) return nullptr;
        const Entry& e = entries_[h & (Entries - 1)];
        if (e.hash != h || e.len != key.size() ||
            std::memcmp(e.key.data(), key.data(), key.size() * sizeof(uint16_t)) != 0)
            return nullptr;
        return &e.value;
    }

    void store(std::span<const uint16_t> key, uint64_t h, const Value& value) {
        if (key.size() > MaxKey) return;
        Entry& e = entries_[h & (Entries - 1)];
        e.hash = h;
        e.len = static_cast<uint16_t>(key.size());
        std::memcpy(e.key.data(), key.data(), key.size() * sizeof(uint16_t));
        e.value = value;
    }

    // Stores only a key that missed here before (the slot remembers the last miss): a client
    // that makes every hello unique (Chromium permutes its extensions) then never evicts the
    // stacks that repeat, and costs a word written per miss instead of a whole entry.
    void store_repeated(std::span<const uint16_t> key, uint64_t h, const Value& value) {
        Entry& e = entries_[h & (Entries - 1)];
        if (e.missed != h) {
            e.missed = h;
            return;
        }
        store(key, h, value);
    }

  private:
    struct Entry {
        uint64_t hash = 0;
        uint64_t missed = 0;
        uint16_t len = UINT16_MAX;  // matches no key: empty
        std::array<uint16_t, MaxKey> key;
        Value value;
    };
    std::vector<Entry> entries_;
};

// A ListCache of fixed-length text values with a key built value by value (foxio's JA4S).
template <size_t ValueLen>
class DigestCache {
  public:
    static constexpr size_t kMaxKey = 160;  // uint16 values: a hello with ~70 ciphers+extensions

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
        uint64_t hash() const { return Cache::hash(view()); }

      private:
        std::array<uint16_t, kMaxKey> k_;
        size_t n_ = 0;
    };

    const std::array<char, ValueLen>* find(const Key& k, uint64_t h) const {
        return k.cacheable() ? cache_.find(k.view(), h) : nullptr;
    }
    void store(const Key& k, uint64_t h, const char* value) {
        if (!k.cacheable()) return;
        std::array<char, ValueLen> v;
        std::memcpy(v.data(), value, ValueLen);
        cache_.store(k.view(), h, v);
    }

  private:
    using Cache = ListCache<std::array<char, ValueLen>, kMaxKey>;
    Cache cache_;
};

}  // namespace sybilwatch::fingerprint
