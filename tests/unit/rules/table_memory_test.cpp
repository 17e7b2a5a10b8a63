#include "rules/table_memory.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "rules/aggregate_state.hpp"
#include "rules/hash_index.hpp"
#include "rules/huge_page_allocator.hpp"
#include "rules/state_codec.hpp"

namespace sybilwatch::rules {
namespace {

constexpr int64_t kSec = 1'000'000'000;
constexpr int64_t kT0 = 1'795'773'579 * kSec;

TEST(TableMemory, TablesComeFromHugePagesAndFreedBlocksAreReused) {
    TableMemory mem;
    std::pmr::memory_resource* r = mem.resource();
    std::vector<void*> blocks;
    for (int i = 0; i < 200; ++i)
        blocks.push_back(r->allocate(8192, 8));  // 1.6 MB of 8 KiB tables
    if (kHugeArraysMapped) {
        EXPECT_GE(mem.mapped_bytes(), kHugePage);
        EXPECT_EQ(mem.mapped_bytes() % kHugePage, 0u);
    } else {
        EXPECT_EQ(mem.mapped_bytes(), 0u);  // ASan: the heap
    }
    for (void* p : blocks)
        static_cast<char*>(p)[8191] = 1;  // each block is whole
    const size_t mapped = mem.mapped_bytes();
    for (void* p : blocks)
        r->deallocate(p, 8192, 8);
    blocks.clear();
    for (int i = 0; i < 200; ++i)
        blocks.push_back(r->allocate(8192, 8));
    EXPECT_EQ(mem.mapped_bytes(), mapped);  // the same blocks again, nothing new mapped
    for (void* p : blocks)
        r->deallocate(p, 8192, 8);
}

// Groups whose exact sets live in a TableMemory count exactly as those on the heap, through
// growth, expiry (purge), eviction, a sketch switch, save/load and merge.
TEST(TableMemory, AggregateStatesCountTheSameAsOnTheHeap) {
    TableMemory mem;
    AggregateConfig heap_cfg;
    heap_cfg.window_ns = 600 * kSec;
    heap_cfg.distinct_fields = 2;
    heap_cfg.max_groups = 40;
    heap_cfg.exact_limit = 64;
    AggregateConfig pool_cfg = heap_cfg;
    pool_cfg.table_memory = mem.resource();
    AggregateState heap(heap_cfg), pool(pool_cfg);
    uint64_t rng = 7;
    for (int i = 0; i < 60'000; ++i) {
        rng = mix64(rng + 1);
        const uint64_t group = rng % 50;
        const uint64_t d[2] = {1 + (rng >> 8) % (group < 5 ? 400 : 30), 1 + (rng >> 20) % 9};
        const AggregateInput in{group, "g", d, {}};
        const int64_t t = kT0 + static_cast<int64_t>(i) * (kSec / 20);
        heap.observe(t, in);
        pool.observe(t, in);
    }
    std::vector<uint8_t> bytes;
    StateWriter w(bytes);
    pool.save(w);
    StateReader rd(bytes);
    AggregateState loaded(pool_cfg);
    ASSERT_TRUE(loaded.load(rd));
    loaded.merge(pool);  // a union with itself: the same distinct values
    const int64_t now = heap.now();
    ASSERT_EQ(heap.groups(), pool.groups());
    ASSERT_EQ(heap.groups(), loaded.groups());
    for (uint64_t g = 0; g < 50; ++g) {
        const uint32_t h = heap.find(g), p = pool.find(g), l = loaded.find(g);
        ASSERT_EQ(h == AggregateState::kNoGroup, p == AggregateState::kNoGroup);
        if (h == AggregateState::kNoGroup) continue;
        for (size_t f = 0; f < 2; ++f) {
            EXPECT_EQ(heap.distinct(h, f, now), pool.distinct(p, f, now)) << g << " " << f;
            EXPECT_EQ(heap.distinct(h, f, now), loaded.distinct(l, f, now)) << g << " " << f;
        }
    }
    EXPECT_GT(heap.evicted(), 0u);
    EXPECT_EQ(heap.evicted(), pool.evicted());
}

}  // namespace
}  // namespace sybilwatch::rules
