#include "fingerprint/facts_table.hpp"

#include <functional>

#include "net/slot_reuse.hpp"

namespace sybilwatch::fingerprint {

uint32_t FactsTable::hash(std::string_view v) {
    const uint64_t h = std::hash<std::string_view>{}(v);
    return static_cast<uint32_t>(h ^ (h >> 32));
}

uint32_t FactsTable::acquire(std::string_view value) {
    const uint32_t h = hash(value);
    const uint32_t mask = static_cast<uint32_t>(index_.size() - 1);
    for (uint32_t i = h & mask;; i = (i + 1) & mask) {
        const uint64_t e = index_[i];
        if (e == kEmpty) break;
        if (tag(e) == h && entries_[id(e)].value == value) {
            ++entries_[id(e)].refs;
            return id(e);
        }
    }
    const uint32_t n = net::take_slot(free_, entries_);
    Entry& en = entries_[n];
    en.value.assign(value);
    en.hash = h;
    en.refs = 1;
    ++size_;
    if (size_ * 2 > index_.size()) grow();
    place(h, n);
    return n;
}

void FactsTable::release(uint32_t n) {
    Entry& en = entries_[n];
    if (--en.refs > 0) return;
    const uint32_t mask = static_cast<uint32_t>(index_.size() - 1);
    uint32_t i = en.hash & mask;
    while (id(index_[i]) != n)
        i = (i + 1) & mask;
    // Backward-shift deletion, as in net::FlowTable: probe chains stay intact without tombstones.
    for (uint32_t j = (i + 1) & mask;; j = (j + 1) & mask) {
        const uint64_t e = index_[j];
        if (e == kEmpty) break;
        const uint32_t home = tag(e) & mask;
        if (((j - home) & mask) >= ((j - i) & mask)) {
            index_[i] = e;
            i = j;
        }
    }
    index_[i] = kEmpty;
    en.value.clear();  // keeps its capacity for the next value stored here
    free_.push_back(n);
    --size_;
}

void FactsTable::place(uint32_t h, uint32_t n) {
    const uint32_t mask = static_cast<uint32_t>(index_.size() - 1);
    uint32_t i = h & mask;
    while (index_[i] != kEmpty)
        i = (i + 1) & mask;
    index_[i] = (uint64_t{h} << 32) | n;
}

void FactsTable::grow() {
    std::vector<uint64_t> old = std::move(index_);
    index_.assign(old.size() * 2, kEmpty);
    for (uint64_t e : old)
        if (e != kEmpty) place(tag(e), id(e));
}

size_t FactsTable::memory_bytes() const {
    size_t n = entries_.capacity() * sizeof(Entry) + index_.capacity() * sizeof(uint64_t) +
               free_.capacity() * sizeof(uint32_t);
    const size_t inline_capacity = std::string().capacity();
    for (const Entry& e : entries_)
        if (e.value.capacity() > inline_capacity) n += e.value.capacity() + 1;
    return n;
}

}  // namespace sybilwatch::fingerprint
