// HashIndex: an open-addressing map from 64-bit keys (already hashes) to 32-bit slots. The
// rule states keep their records in dense vectors and use this only to find a record's index,
// so one entry costs 12 bytes over the table's slots instead of a node allocation per entry
// (std::unordered_map would add ~40 B per tracked account or key). Key and value share a slot
// so a lookup touches one cache line.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "rules/huge_page_allocator.hpp"

namespace sybilwatch::rules {

// splitmix64's finaliser: callers may pass weak hashes (small integers), so positions and
// HyperLogLog ranks always go through this.
inline uint64_t mix64(uint64_t x) {
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}

// wyhash's default secret (final version 4): the odd constants its mixes xor in, used as seeds
// by every fold_mul hash here (hash_bytes, StringSet, the aggregate memo). Changing them changes
// saved key hashes.
inline constexpr uint64_t kWySecret[4] = {0x2d358dccaa6c78a5ull, 0x8bb84b93962eacc9ull,
                                          0x4b33a62ed433d4a3ull, 0x4d5a2da51de1aa47ull};

// wyhash's mix: a 64x64->128-bit product folded (low ^ high). Combines two words in one
// multiply, where mix64(a ^ mix64(b)) chains four.
inline uint64_t fold_mul(uint64_t a, uint64_t b) {
    const unsigned __int128 r = static_cast<unsigned __int128>(a) * b;
    return static_cast<uint64_t>(r) ^ static_cast<uint64_t>(r >> 64);
}

class HashIndex {
  public:
    static constexpr uint32_t kNone = UINT32_MAX;

    // The value stored for key, or kNone.
    uint32_t find(uint64_t key) const {
        if (slots_.empty()) return kNone;
        for (size_t i = pos(key);; i = (i + 1) & mask_) {
            if (slots_[i].val == kNone) return kNone;
            if (slots_[i].key == key) return slots_[i].val;
        }
    }
    // Starts loading the slot find(key) reads first.
    void prefetch(uint64_t key) const {
        if (!slots_.empty()) __builtin_prefetch(&slots_[pos(key)]);
    }
    // Inserts key -> value unless key is present; returns the present value or kNone.
    uint32_t insert(uint64_t key, uint32_t value) {
        if ((size_ + 1) * 4 > slots_.size() * 3) grow();
        size_t i = pos(key);
        for (; slots_[i].val != kNone; i = (i + 1) & mask_) {
            if (slots_[i].key == key) return slots_[i].val;
        }
        slots_[i] = Slot{key, value};
        ++size_;
        return kNone;
    }
    // Replaces the value of a present key; returns false if absent.
    bool assign(uint64_t key, uint32_t value) {
        if (slots_.empty()) return false;
        for (size_t i = pos(key);; i = (i + 1) & mask_) {
            if (slots_[i].val == kNone) return false;
            if (slots_[i].key == key) {
                slots_[i].val = value;
                return true;
            }
        }
    }
    // Removes key (backward-shift deletion: no tombstones, so probes stay short).
    bool erase(uint64_t key) {
        if (slots_.empty()) return false;
        size_t i = pos(key);
        for (;; i = (i + 1) & mask_) {
            if (slots_[i].val == kNone) return false;
            if (slots_[i].key == key) break;
        }
        for (size_t j = (i + 1) & mask_;; j = (j + 1) & mask_) {
            if (slots_[j].val == kNone) break;
            const size_t home = pos(slots_[j].key);
            // Move j back into the hole at i unless its home lies cyclically in (i, j].
            const bool stays = (i <= j) ? (i < home && home <= j) : (i < home || home <= j);
            if (!stays) {
                slots_[i] = slots_[j];
                i = j;
            }
        }
        slots_[i].val = kNone;
        --size_;
        return true;
    }
    void clear() {
        slots_.clear();
        mask_ = 0;
        size_ = 0;
    }
    void reserve(size_t n) {
        while (n * 4 > slots_.size() * 3)
            grow();
    }
    size_t size() const { return size_; }
    size_t memory_bytes() const { return slots_.capacity() * sizeof(Slot); }

  private:
    size_t pos(uint64_t key) const { return static_cast<size_t>(mix64(key)) & mask_; }
    struct Slot {
        uint64_t key = 0;
        uint32_t val = kNone;  // kNone marks an empty slot
    };
    void grow() {
        HugeVector<Slot> old = std::move(slots_);
        const size_t cap = old.empty() ? 16 : old.size() * 2;
        slots_.assign(cap, Slot{});
        mask_ = cap - 1;
        size_ = 0;
        for (const Slot& s : old) {
            if (s.val != kNone) insert(s.key, s.val);
        }
    }

    HugeVector<Slot> slots_;
    size_t mask_ = 0;
    size_t size_ = 0;
};

}  // namespace sybilwatch::rules
