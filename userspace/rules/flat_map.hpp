// FlatMap: values under 64-bit keys (already hashes), kept in one dense vector and found
// through a HashIndex. For per-observation lookups in maps of a few thousand entries (an
// aggregate rule's reported groups): one probe in a flat index and one record, where
// std::unordered_map divides by its bucket count and chases a node per lookup. Erasing moves
// the last record into the hole, so iteration order is not insertion order.
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "rules/hash_index.hpp"

namespace sybilwatch::rules {

template <typename V>
class FlatMap {
  public:
    using Entry = std::pair<uint64_t, V>;

    V* find(uint64_t key) {
        const uint32_t i = index_.find(key);
        return i == HashIndex::kNone ? nullptr : &entries_[i].second;
    }
    const V* find(uint64_t key) const { return const_cast<FlatMap*>(this)->find(key); }
    bool contains(uint64_t key) const { return index_.find(key) != HashIndex::kNone; }
    // Starts loading key's record (the index is small and mostly cached already).
    void prefetch(uint64_t key) const {
        const uint32_t i = index_.find(key);
        if (i != HashIndex::kNone) __builtin_prefetch(&entries_[i]);
    }
    // The value under key, default-constructed first if absent.
    V& operator[](uint64_t key) {
        if (const uint32_t i = index_.find(key); i != HashIndex::kNone) return entries_[i].second;
        // The record first: if that throws, the index still names only records that exist.
        entries_.emplace_back(key, V{});
        index_.insert(key, static_cast<uint32_t>(entries_.size() - 1));
        return entries_.back().second;
    }
    bool erase(uint64_t key) {
        const uint32_t i = index_.find(key);
        if (i == HashIndex::kNone) return false;
        remove_at(i);
        return true;
    }
    // Erases the entries for which pred(key, value) holds; returns how many.
    template <typename Pred>
    size_t erase_if(Pred pred) {
        size_t n = 0;
        for (size_t i = 0; i < entries_.size();) {
            if (pred(entries_[i].first, entries_[i].second)) {
                remove_at(static_cast<uint32_t>(i));  // brings the last entry to i: look again
                ++n;
            } else {
                ++i;
            }
        }
        return n;
    }
    void clear() {
        entries_.clear();
        index_.clear();
    }
    size_t size() const { return entries_.size(); }
    bool empty() const { return entries_.empty(); }
    size_t memory_bytes() const {
        return entries_.capacity() * sizeof(Entry) + index_.memory_bytes();
    }

    auto begin() { return entries_.begin(); }
    auto end() { return entries_.end(); }
    auto begin() const { return entries_.begin(); }
    auto end() const { return entries_.end(); }

  private:
    void remove_at(uint32_t i) {
        index_.erase(entries_[i].first);
        const auto last = static_cast<uint32_t>(entries_.size() - 1);
        if (i != last) {
            entries_[i] = std::move(entries_[last]);
            index_.assign(entries_[i].first, i);
        }
        entries_.pop_back();
    }

    std::vector<Entry> entries_;
    HashIndex index_;
};

}  // namespace sybilwatch::rules
