#include "rules/huge_page_allocator.hpp"

#include <sys/mman.h>

#include <cstdint>

namespace sybilwatch::rules {

void* map_huge(size_t bytes) {
    // Over-map by one huge page and trim, so the mapping starts on a 2 MiB boundary (where
    // the kernel can back it with huge pages from the first byte).
    const size_t span = bytes + kHugePage;
    void* raw = ::mmap(nullptr, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED) return nullptr;
    const auto base = reinterpret_cast<uintptr_t>(raw);
    const uintptr_t aligned = (base + kHugePage - 1) & ~(uintptr_t{kHugePage} - 1);
    if (aligned > base) ::munmap(raw, aligned - base);
    const uintptr_t end = base + span;
    if (end > aligned + bytes)
        ::munmap(reinterpret_cast<void*>(aligned + bytes), end - aligned - bytes);
    void* p = reinterpret_cast<void*>(aligned);
    ::madvise(p, bytes, MADV_HUGEPAGE);  // advice: without THP it is plain memory
    return p;
}

void unmap_huge(void* p, size_t bytes) noexcept {
    if (p) ::munmap(p, bytes);
}

}  // namespace sybilwatch::rules
