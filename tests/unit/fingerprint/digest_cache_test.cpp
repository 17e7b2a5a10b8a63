// ListCache: a hit is always the value stored for exactly that key.
#include "fingerprint/digest_cache.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace sybilwatch::fingerprint {
namespace {

using Cache = ListCache<int, 8, 4>;

TEST(ListCache, HitsOnlyTheWholeKey) {
    Cache c;
    const std::vector<uint16_t> k1{1, 2, 3}, k2{1, 2, 4}, k3{1, 2};
    const uint64_t h1 = Cache::hash(k1);
    EXPECT_EQ(c.find(k1, h1), nullptr);
    c.store(k1, h1, 7);
    ASSERT_NE(c.find(k1, h1), nullptr);
    EXPECT_EQ(*c.find(k1, h1), 7);
    // Another key given the same hash (a collision) lands in the same entry and misses.
    EXPECT_EQ(c.find(k2, h1), nullptr);
    EXPECT_EQ(c.find(k3, h1), nullptr);
    EXPECT_NE(Cache::hash(k1), Cache::hash(k2));
    EXPECT_NE(Cache::hash(k1), Cache::hash(k3));
}

TEST(ListCache, RepeatedKeysOnly) {
    Cache c;
    const std::vector<uint16_t> k{9, 8, 7, 6, 5};
    const uint64_t h = Cache::hash(k);
    c.store_repeated(k, h, 1);
    EXPECT_EQ(c.find(k, h), nullptr);  // first miss: remembered, not stored
    c.store_repeated(k, h, 1);
    ASSERT_NE(c.find(k, h), nullptr);
    // A one-off key that falls in the same entry (4 entries: the hash's low 2 bits) does not
    // evict it.
    std::vector<uint16_t> other{0};
    while ((Cache::hash(other) & 3) != (h & 3))
        ++other[0];
    c.store_repeated(other, Cache::hash(other), 2);
    EXPECT_EQ(c.find(other, Cache::hash(other)), nullptr);
    ASSERT_NE(c.find(k, h), nullptr);
    EXPECT_EQ(*c.find(k, h), 1);
}

TEST(ListCache, LongKeysAreNotCached) {
    Cache c;
    const std::vector<uint16_t> k(9, 1);  // MaxKey is 8
    const uint64_t h = Cache::hash(k);
    c.store(k, h, 3);
    c.store_repeated(k, h, 3);
    c.store_repeated(k, h, 3);
    EXPECT_EQ(c.find(k, h), nullptr);
}

TEST(DigestCache, KeyBuiltValueByValue) {
    DigestCache<4> c;
    DigestCache<4>::Key k;
    k.put(std::vector<uint16_t>{1, 2});
    const uint64_t h = k.hash();
    EXPECT_EQ(c.find(k, h), nullptr);
    c.store(k, h, "abcd");
    ASSERT_NE(c.find(k, h), nullptr);
    EXPECT_EQ(std::string_view(c.find(k, h)->data(), 4), "abcd");
    k.reset();
    k.put(std::vector<uint16_t>{1, 3});
    EXPECT_EQ(c.find(k, k.hash()), nullptr);
}

}  // namespace
}  // namespace sybilwatch::fingerprint
