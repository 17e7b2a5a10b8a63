#include "rules/huge_page_allocator.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <numeric>

namespace sybilwatch::rules {
namespace {

TEST(HugePageAllocator, LargeArraysAreMappedOnHugePageBoundaries) {
    HugeVector<uint32_t> v(1'000'000);  // 4 MB: mapped (on the heap under ASan)
    const auto aligned = [](const void* p) {
        return !kHugeArraysMapped || reinterpret_cast<uintptr_t>(p) % kHugePage == 0;
    };
    EXPECT_TRUE(aligned(v.data()));
    std::iota(v.begin(), v.end(), 0u);
    v.resize(3'000'000);  // grows into a new mapping, the contents moved
    EXPECT_TRUE(aligned(v.data()));
    EXPECT_EQ(v[999'999], 999'999u);
    EXPECT_EQ(v[2'999'999], 0u);
    HugeVector<uint32_t> moved = std::move(v);
    EXPECT_EQ(moved[123'456], 123'456u);
    HugeVector<uint64_t> small(16, 7);  // from the heap
    EXPECT_EQ(small[15], 7u);
}

TEST(HugePageAllocator, BlocksAreAlignedAndMovable) {
    HugeBlock a;
    EXPECT_EQ(reinterpret_cast<uintptr_t>(a.data()) % kHugePage, 0u);
    a.data()[kHugePage - 1] = std::byte{1};  // the whole block is ours
    a.data()[10] = std::byte{42};
    HugeBlock b = std::move(a);
    EXPECT_EQ(b.data()[10], std::byte{42});
    EXPECT_EQ(a.data(), nullptr);
}

}  // namespace
}  // namespace sybilwatch::rules
