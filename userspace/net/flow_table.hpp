// Fixed-capacity flow table: open addressing over slot numbers, slots reused through a free
// list and kept in least-recently-used order. Memory is bounded by the capacity; the table
// never allocates once every slot has been used once. Callers expire the oldest flows.
//
// Layout, for the per-packet lookup: the index holds (32-bit hash tag, slot) pairs, so a probe
// touches a key only when the tags agree; keys and LRU links live in their own compact arrays,
// away from the large values. The index grows with the number of live flows (up to twice the
// capacity), so a host with a thousand open connections probes a few cache-resident kilobytes,
// not an index sized for the worst case.
#pragma once

#include <algorithm>
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
        max_index_ = 2;
        while (max_index_ < capacity_ * 2)
            max_index_ <<= 1;  // load factor at most 1/2
        resize_index(std::min<uint32_t>(max_index_, 1024));
        // Address space only: pages are touched as slots fill.
        values_.reserve(capacity_);
        keys_.reserve(capacity_);
        links_.reserve(capacity_);
    }

    uint32_t size() const { return size_; }
    uint32_t capacity() const { return capacity_; }
    bool full() const { return size_ == capacity_; }

    // Flows are named by slot number (stable while the flow lives); kNone when absent.
    uint32_t find(const FlowKey& k) const {
        const uint32_t h = hash(k);
        for (uint32_t i = h & mask_;; i = (i + 1) & mask_) {
            const uint64_t e = index_[i];
            if (e == kEmpty) return kNone;
            if (tag(e) == h) {
                // The value's first line is what the caller reads next: its load overlaps the
                // key's instead of following it (both are cache misses on a busy host).
                __builtin_prefetch(&values_[slot(e)]);
                if (keys_[slot(e)] == k) return slot(e);
            }
        }
    }
    Value& at(uint32_t s) { return values_[s]; }
    const FlowKey& key(uint32_t s) const { return keys_[s]; }

    // Inserts a new flow (the key must not be present and the table must not be full). The
    // slot's value keeps whatever a previous flow left there: the caller resets it (so buffers
    // keep their capacity). Marks it most recently used.
    uint32_t insert(const FlowKey& k) {
        if ((size_ + 1) * 2 > mask_ + 1 && mask_ + 1 < max_index_) resize_index((mask_ + 1) * 2);
        uint32_t s;
        if (!free_.empty()) {
            s = free_.back();
            free_.pop_back();
            keys_[s] = k;
        } else {
            s = static_cast<uint32_t>(values_.size());
            values_.emplace_back();
            keys_.push_back(k);
            links_.emplace_back();
        }
        place(hash(k), s);
        link_tail(s);
        ++size_;
        return s;
    }

    // Marks the flow most recently used.
    void touch(uint32_t s) {
        if (s == tail_) return;
        unlink(s);
        link_tail(s);
    }

    // Removes the flow; its value object stays allocated for reuse.
    void erase(uint32_t s) {
        unlink(s);
        const uint32_t h = hash(keys_[s]);
        uint32_t i = h & mask_;
        while (slot(index_[i]) != s)
            i = (i + 1) & mask_;
        // Backward-shift deletion keeps probe chains intact without tombstones.
        for (uint32_t j = (i + 1) & mask_;; j = (j + 1) & mask_) {
            const uint64_t e = index_[j];
            if (e == kEmpty) break;
            const uint32_t home = tag(e) & mask_;
            // Move e back into the hole at i if its home is not in (i, j].
            if (((j - home) & mask_) >= ((j - i) & mask_)) {
                index_[i] = e;
                i = j;
            }
        }
        index_[i] = kEmpty;
        free_.push_back(s);
        --size_;
    }

    // The least recently used flow, or kNone when empty.
    uint32_t oldest() const { return head_; }

  private:
    static constexpr uint64_t kEmpty = UINT64_MAX;
    struct Link {
        uint32_t prev = kNone, next = kNone;
    };

    static uint32_t hash(const FlowKey& k) {
        const uint64_t h = std::hash<FlowKey>{}(k);
        return static_cast<uint32_t>(h ^ (h >> 32));
    }
    static uint32_t tag(uint64_t e) { return static_cast<uint32_t>(e >> 32); }
    static uint32_t slot(uint64_t e) { return static_cast<uint32_t>(e); }

    void place(uint32_t h, uint32_t s) {
        uint32_t i = h & mask_;
        while (index_[i] != kEmpty)
            i = (i + 1) & mask_;
        index_[i] = (uint64_t{h} << 32) | s;
    }
    // Rebuilding allocates, but only while the live count climbs to a new high.
    void resize_index(uint32_t n) {
        std::vector<uint64_t> old = std::move(index_);
        index_.assign(n, kEmpty);
        mask_ = n - 1;
        for (uint64_t e : old)
            if (e != kEmpty) place(tag(e), slot(e));
    }
    void unlink(uint32_t s) {
        Link& x = links_[s];
        if (x.prev != kNone)
            links_[x.prev].next = x.next;
        else
            head_ = x.next;
        if (x.next != kNone)
            links_[x.next].prev = x.prev;
        else
            tail_ = x.prev;
        x.prev = x.next = kNone;
    }
    void link_tail(uint32_t s) {
        Link& x = links_[s];
        x.prev = tail_;
        x.next = kNone;
        if (tail_ != kNone)
            links_[tail_].next = s;
        else
            head_ = s;
        tail_ = s;
    }

    uint32_t capacity_;
    uint32_t max_index_ = 0;
    uint32_t mask_ = 0;
    uint32_t size_ = 0;
    uint32_t head_ = kNone, tail_ = kNone;
    std::vector<uint64_t> index_;
    std::vector<Value> values_;
    std::vector<FlowKey> keys_;
    std::vector<Link> links_;
    std::vector<uint32_t> free_;
};

}  // namespace sybilwatch::net
