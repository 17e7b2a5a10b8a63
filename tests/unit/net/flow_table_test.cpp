#include "net/flow_table.hpp"

#include <gtest/gtest.h>

#include <random>
#include <unordered_map>

namespace sybilwatch::net {
namespace {

FlowKey key(uint32_t n) {
    FlowKey k;
    k.a.family = k.b.family = 4;
    k.a.bytes[0] = 10;
    k.a.bytes[1] = static_cast<uint8_t>(n >> 16);
    k.a.bytes[2] = static_cast<uint8_t>(n >> 8);
    k.a.bytes[3] = static_cast<uint8_t>(n);
    k.b.bytes[0] = 192;
    k.a_port = static_cast<uint16_t>(n * 7);
    k.b_port = 443;
    k.proto = 6;
    return k;
}

TEST(FlowTable, InsertFindErase) {
    FlowTable<int> t(8);
    const uint32_t s = t.insert(key(1));
    t.at(s) = 42;
    EXPECT_EQ(t.find(key(1)), s);
    EXPECT_EQ(t.at(t.find(key(1))), 42);
    EXPECT_EQ(t.find(key(2)), FlowTable<int>::kNone);
    t.erase(s);
    EXPECT_EQ(t.find(key(1)), FlowTable<int>::kNone);
    EXPECT_EQ(t.size(), 0u);
}

TEST(FlowTable, OldestFollowsUse) {
    FlowTable<int> t(4);
    const uint32_t a = t.insert(key(1)), b = t.insert(key(2)), c = t.insert(key(3));
    EXPECT_EQ(t.oldest(), a);
    t.touch(a);
    EXPECT_EQ(t.oldest(), b);
    t.erase(b);
    EXPECT_EQ(t.oldest(), c);
    EXPECT_EQ(t.size(), 2u);
}

TEST(FlowTable, CapacityIsAHardBound) {
    FlowTable<int> t(3);
    t.insert(key(1));
    t.insert(key(2));
    t.insert(key(3));
    EXPECT_TRUE(t.full());
    t.erase(t.oldest());
    EXPECT_FALSE(t.full());
    const uint32_t s = t.insert(key(4));
    EXPECT_LT(s, 3u);  // a freed slot is reused, no growth
}

// Against std::unordered_map under random inserts and erases (backward-shift deletion).
TEST(FlowTable, MatchesModelUnderChurn) {
    std::mt19937 rng(1);
    FlowTable<uint32_t> t(1000);
    std::unordered_map<uint32_t, uint32_t> model;  // key id -> slot
    for (int i = 0; i < 200000; ++i) {
        const uint32_t id = rng() % 3000;
        const uint32_t s = t.find(key(id));
        ASSERT_EQ(s != FlowTable<uint32_t>::kNone, model.count(id) == 1) << i;
        if (s != FlowTable<uint32_t>::kNone) {
            ASSERT_EQ(t.at(s), id);
            if (rng() % 2) {
                t.erase(s);
                model.erase(id);
            } else {
                t.touch(s);
            }
        } else if (!t.full()) {
            const uint32_t n = t.insert(key(id));
            t.at(n) = id;
            model[id] = n;
        } else {
            const uint32_t old = t.oldest();
            const uint32_t old_id = t.at(old);
            t.erase(old);
            model.erase(old_id);
        }
        ASSERT_EQ(t.size(), model.size());
    }
}

}  // namespace
}  // namespace sybilwatch::net
