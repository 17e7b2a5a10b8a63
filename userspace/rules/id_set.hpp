// IdSet: a set of account ids (uint32, never UINT32_MAX) for an aggregate group's accounts.
// Membership is tested on every observation of the group, so it is an open-addressing table
// (one probe, usually one cache line) rather than a sorted list (a binary search across
// thousands of ids, most of them cache misses). 5-8 bytes per id; sorted() for findings.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "rules/hash_index.hpp"

namespace sybilwatch::rules {

class IdSet {
  public:
    bool contains(uint32_t id) const {
        if (slots_.empty()) return false;
        for (size_t i = mix64(id) & mask_;; i = (i + 1) & mask_) {
            if (slots_[i] == id) return true;
            if (slots_[i] == kEmpty) return false;
        }
    }
    // Adds id; false when it was already in.
    bool insert(uint32_t id) {
        if ((size_ + 1) * 4 > slots_.size() * 3) grow();
        for (size_t i = mix64(id) & mask_;; i = (i + 1) & mask_) {
            if (slots_[i] == id) return false;
            if (slots_[i] == kEmpty) {
                slots_[i] = id;
                ++size_;
                return true;
            }
        }
    }
    size_t size() const { return size_; }
    std::vector<uint32_t> sorted() const {
        std::vector<uint32_t> out;
        out.reserve(size_);
        for (uint32_t s : slots_)
            if (s != kEmpty) out.push_back(s);
        std::sort(out.begin(), out.end());
        return out;
    }
    size_t memory_bytes() const { return slots_.capacity() * 4; }

  private:
    static constexpr uint32_t kEmpty = UINT32_MAX;
    void grow() {
        std::vector<uint32_t> old = std::move(slots_);
        slots_.assign(old.empty() ? 8 : old.size() * 2, kEmpty);
        mask_ = slots_.size() - 1;
        size_ = 0;
        for (uint32_t s : old)
            if (s != kEmpty) insert(s);
    }

    std::vector<uint32_t> slots_;
    size_t mask_ = 0;
    size_t size_ = 0;
};

}  // namespace sybilwatch::rules
