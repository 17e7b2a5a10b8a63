// TableMemory: where an engine's rule states keep their small tables (an aggregate group's
// exact distinct sets, up to 32 KiB each). They are probed at random on every observation,
// thousands of them, and from the heap's 4 KiB pages each probe is also a TLB miss and a page
// walk (costly under virtualisation); from 2 MiB pages it is not (+13% through the default
// pack, bench/compare_rules.sh). Large arrays already get huge pages (HugePageAllocator); a
// mapping per small table would waste most of a huge page, so here the standard library's
// pool (size classes, freed blocks reused) is fed from huge-page blocks carved in turn.
//
// Memory: a freed table's block stays with its size class for the next table of that size,
// so an engine holds its peak of table memory until it is destroyed, plus at most one
// partly carved 2 MiB block. Not thread-safe: one per engine. Under AddressSanitizer the
// tables stay on the heap (resource() is new/delete), where it sees reads past their end.
#pragma once

#include <cstddef>
#include <memory_resource>

namespace sybilwatch::rules {

class TableMemory {
  public:
    TableMemory();
    TableMemory(const TableMemory&) = delete;
    TableMemory& operator=(const TableMemory&) = delete;

    std::pmr::memory_resource* resource() { return top_; }
    size_t mapped_bytes() const { return chunks_.mapped; }  // huge pages mapped so far

  private:
    // Whole huge pages, mapped per request (requests are 2 MiB and up, from the carver).
    struct HugeChunks final : std::pmr::memory_resource {
        size_t mapped = 0;
        void* do_allocate(size_t bytes, size_t align) override;
        void do_deallocate(void* p, size_t bytes, size_t align) override;
        bool do_is_equal(const std::pmr::memory_resource& o) const noexcept override {
            return this == &o;
        }
    };
    HugeChunks chunks_;
    std::pmr::monotonic_buffer_resource carve_;
    std::pmr::unsynchronized_pool_resource pool_;
    std::pmr::memory_resource* top_;
};

}  // namespace sybilwatch::rules
