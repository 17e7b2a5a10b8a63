#include "rules/table_memory.hpp"

#include <new>

#include "rules/huge_page_allocator.hpp"

namespace sybilwatch::rules {

namespace {
// Pools up to the largest exact set a state may load (4 x 1,024 live values at 3/4 load:
// 8,192 slots of 16 B); larger blocks pass through to the carver.
constexpr size_t kLargestPooled = size_t{128} << 10;
}  // namespace

void* TableMemory::HugeChunks::do_allocate(size_t bytes, size_t align) {
    if (align > kHugePage) throw std::bad_alloc();
    const size_t size = huge_round(bytes);
    void* p = map_huge(size);
    if (!p) throw std::bad_alloc();
    mapped += size;
    return p;
}

void TableMemory::HugeChunks::do_deallocate(void* p, size_t bytes, size_t) {
    unmap_huge(p, huge_round(bytes));
    mapped -= huge_round(bytes);
}

TableMemory::TableMemory()
    : carve_(kHugePage, &chunks_),
      pool_(std::pmr::pool_options{0, kLargestPooled}, &carve_),
      top_(kHugeArraysMapped ? static_cast<std::pmr::memory_resource*>(&pool_)
                             : std::pmr::new_delete_resource()) {}

}  // namespace sybilwatch::rules
