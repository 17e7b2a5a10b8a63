// HugePageAllocator: the allocator of the rule states' large arrays (the account index, the
// per-account slots and nodes, key indexes). An observation touches a few random places in
// each; with 4 KiB pages almost every one of them is also a TLB miss and a page walk, which
// costs as much as the cache miss itself. Arrays of 1 MiB and more are mapped on their own,
// aligned to 2 MiB, with MADV_HUGEPAGE (transparent huge pages in "madvise" mode, the usual
// default); smaller ones come from the heap as usual. Untouched pages cost no memory either
// way; a touched huge page is resident whole (at most 2 MiB more per array).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <utility>
#include <vector>

namespace sybilwatch::rules {

inline constexpr size_t kHugePage = size_t{2} << 20;

// Under AddressSanitizer arrays stay on the heap, where it sees reads past their end.
#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool kHugeArraysMapped = false;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
inline constexpr bool kHugeArraysMapped = false;
#else
inline constexpr bool kHugeArraysMapped = true;
#endif
#else
inline constexpr bool kHugeArraysMapped = true;
#endif
// Smaller arrays (or all, under ASan): the heap.
inline constexpr size_t kHugeMapMin = kHugeArraysMapped ? size_t{1} << 20 : SIZE_MAX;

// Maps `bytes` (a multiple of kHugePage) at a kHugePage-aligned address and advises huge
// pages; nullptr when the mapping fails. unmap_huge() takes the same size back.
void* map_huge(size_t bytes);
void unmap_huge(void* p, size_t bytes) noexcept;

inline size_t huge_round(size_t bytes) {
    return (bytes + kHugePage - 1) & ~(kHugePage - 1);
}

template <class T>
struct HugePageAllocator {
    using value_type = T;
    HugePageAllocator() = default;
    template <class U>
    HugePageAllocator(const HugePageAllocator<U>&) noexcept {}

    T* allocate(size_t n) {
        if (n > SIZE_MAX / sizeof(T)) throw std::bad_array_new_length();
        const size_t bytes = n * sizeof(T);
        if (bytes < kHugeMapMin) return std::allocator<T>{}.allocate(n);
        void* p = map_huge(huge_round(bytes));
        if (!p) throw std::bad_alloc();
        return static_cast<T*>(p);
    }
    void deallocate(T* p, size_t n) noexcept {
        const size_t bytes = n * sizeof(T);
        if (bytes < kHugeMapMin) {
            std::allocator<T>{}.deallocate(p, n);
        } else {
            unmap_huge(p, huge_round(bytes));
        }
    }
    template <class U>
    bool operator==(const HugePageAllocator<U>&) const noexcept {
        return true;
    }
};

template <class T>
using HugeVector = std::vector<T, HugePageAllocator<T>>;

// A block of kHugePage bytes on a kHugePage boundary (an arena chunk), its contents unset:
// mapped, so untouched until written (on the heap under ASan).
class HugeBlock {
  public:
    HugeBlock() : p_(allocate()) {}
    ~HugeBlock() { release(p_); }
    HugeBlock(HugeBlock&& o) noexcept : p_(o.p_) { o.p_ = nullptr; }
    HugeBlock& operator=(HugeBlock&& o) noexcept {
        std::swap(p_, o.p_);
        return *this;
    }
    HugeBlock(const HugeBlock&) = delete;
    HugeBlock& operator=(const HugeBlock&) = delete;
    std::byte* data() const { return p_; }

  private:
    static std::byte* allocate() {
        if constexpr (!kHugeArraysMapped) {
            return static_cast<std::byte*>(::operator new (kHugePage, std::align_val_t{kHugePage}));
        }
        auto* p = static_cast<std::byte*>(map_huge(kHugePage));
        if (!p) throw std::bad_alloc();
        return p;
    }
    static void release(std::byte* p) noexcept {
        if (!p) return;
        if constexpr (!kHugeArraysMapped) {
            ::operator delete (p, std::align_val_t{kHugePage});
        } else {
            unmap_huge(p, kHugePage);
        }
    }

    std::byte* p_;
};

}  // namespace sybilwatch::rules
