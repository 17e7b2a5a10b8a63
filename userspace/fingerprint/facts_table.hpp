// Interned byte strings with reference counts: the engine keeps one copy of each distinct set of
// handshake facts (a client stack's fingerprints are the same over very many connections), and
// its flows hold 32-bit ids. An entry lives while a flow refers to it, so the table never holds
// more entries than references; freed entries keep their string's capacity for reuse, so the
// allocator is called only while the number of distinct values climbs to a new high.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sybilwatch::fingerprint {

class FactsTable {
  public:
    static constexpr uint32_t kNone = UINT32_MAX;

    FactsTable() { index_.assign(64, kEmpty); }

    // The id of `value`, stored on first sight; one more reference to it.
    uint32_t acquire(std::string_view value);
    // One reference less; the entry is freed with its last.
    void release(uint32_t id);
    std::string_view get(uint32_t id) const { return entries_[id].value; }

    uint32_t size() const { return size_; }
    uint32_t refs(uint32_t id) const { return entries_[id].refs; }
    // Heap bytes held: entries, index and the strings' capacity beyond the inline buffer.
    size_t memory_bytes() const;

  private:
    static constexpr uint64_t kEmpty = UINT64_MAX;
    struct Entry {
        std::string value;
        uint32_t hash = 0;
        uint32_t refs = 0;
    };

    static uint32_t hash(std::string_view v);
    static uint32_t tag(uint64_t e) { return static_cast<uint32_t>(e >> 32); }
    static uint32_t id(uint64_t e) { return static_cast<uint32_t>(e); }
    void place(uint32_t h, uint32_t i);
    void grow();

    std::vector<Entry> entries_;
    std::vector<uint32_t> free_;
    std::vector<uint64_t> index_;  // (hash, id) pairs, open addressing, load at most 1/2
    uint32_t size_ = 0;
};

}  // namespace sybilwatch::fingerprint
