// Fixed-capacity flow table: open addressing over slot numbers, slots reused through a free
// list and kept in least-recently-used order. Memory is bounded by the capacity; the table
// never allocates once every slot has been used once. Callers expire the oldest flows.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "net/flow_key.hpp"

namespace sybilwatch::net {

template <typename Value>
class FlowTable {
public:
    static constexpr uint32_t kNone = UINT32_MAX;

    explicit FlowTable(uint32_t capacity) : capacity_(capacity ? capacity : 1) {
        uint32_t n = 2;
        while (n < capacity_ * 2) n <<= 1;  // load factor at most 1/2
        index_.assign(n, kNone);
        mask_ = n - 1;
        slots_.reserve(capacity_);  // address space only: pages are touched as slots fill
    }

    uint32_t size() const { return size_; }
    uint32_t capacity() const { return capacity_; }
    bool full() const { return size_ == capacity_; }

    // Flows are named by slot number (stable while the flow lives); kNone when absent.
    uint32_t find(const FlowKey& k) const {
        const uint64_t h = std::hash<FlowKey>{}(k);
        for (uint32_t i = h & mask_;; i = (i + 1) & mask_) {
            const uint32_t s = index_[i];
            if (s == kNone) return kNone;
            if (slots_[s].hash == h && slots_[s].key == k) return s;
        }
    }
    Value& at(uint32_t s) { return slots_[s].value; }
    const FlowKey& key(uint32_t s) const { return slots_[s].key; }

    // Inserts a new flow (the key must not be present and the table must not be full). The
    // slot's value keeps whatever a previous flow left there: the caller resets it (so buffers
    // keep their capacity). Marks it most recently used.
    uint32_t insert(const FlowKey& k) {
        const uint64_t h = std::hash<FlowKey>{}(k);
        uint32_t s;
        if (!free_.empty()) {
            s = free_.back();
            free_.pop_back();
        } else {
            s = static_cast<uint32_t>(slots_.size());
            slots_.emplace_back();
        }
        Slot& slot = slots_[s];
        slot.key = k;
        slot.hash = h;
        slot.live = true;
        uint32_t i = h & mask_;
        while (index_[i] != kNone) i = (i + 1) & mask_;
        index_[i] = s;
        link_tail(s);
        ++size_;
        return s;
    }

    // Marks the flow most recently used.
    void touch(uint32_t s) {
        unlink(s);
        link_tail(s);
    }

    // Removes the flow; its value object stays allocated for reuse.
    void erase(uint32_t s) {
        unlink(s);
        slots_[s].live = false;
        // Backward-shift deletion keeps probe chains intact without tombstones.
        uint32_t i = slots_[s].hash & mask_;
        while (index_[i] != s) i = (i + 1) & mask_;
        for (uint32_t j = (i + 1) & mask_;; j = (j + 1) & mask_) {
            const uint32_t t = index_[j];
            if (t == kNone) break;
            const uint32_t home = slots_[t].hash & mask_;
            // Move t back into the hole at i if its home is not in (i, j].
            if (((j - home) & mask_) >= ((j - i) & mask_)) {
                index_[i] = t;
                i = j;
            }
        }
        index_[i] = kNone;
        free_.push_back(s);
        --size_;
    }

    // The least recently used flow, or kNone when empty.
    uint32_t oldest() const { return head_; }

private:
    struct Slot {
        Value value{};
        FlowKey key;
        uint64_t hash = 0;
        uint32_t prev = kNone, next = kNone;
        bool live = false;
    };

    void unlink(uint32_t s) {
        Slot& x = slots_[s];
        if (x.prev != kNone) slots_[x.prev].next = x.next;
        else head_ = x.next;
        if (x.next != kNone) slots_[x.next].prev = x.prev;
        else tail_ = x.prev;
        x.prev = x.next = kNone;
    }
    void link_tail(uint32_t s) {
        Slot& x = slots_[s];
        x.prev = tail_;
        x.next = kNone;
        if (tail_ != kNone) slots_[tail_].next = s;
        else head_ = s;
        tail_ = s;
    }

    uint32_t capacity_;
    uint32_t mask_ = 0;
    uint32_t size_ = 0;
    uint32_t head_ = kNone, tail_ = kNone;
    std::vector<uint32_t> index_;
    std::vector<Slot> slots_;
    std::vector<uint32_t> free_;
};

}  // namespace sybilwatch::net
