#include "rules/account_table.hpp"

#include <gtest/gtest.h>

#include <string>

namespace sybilwatch::rules {
namespace {

constexpr int64_t kSec = 1'000'000'000;
constexpr int64_t kT0 = 1'795'773'579 * kSec;

TEST(AccountTable, InternsDenseIds) {
    AccountTable t;
    EXPECT_EQ(t.intern("acct_1", kT0), 0u);
    EXPECT_EQ(t.intern("acct_2", kT0), 1u);
    EXPECT_EQ(t.intern("acct_1", kT0 + 5), 0u);
    EXPECT_EQ(t.find("acct_2"), 1u);
    EXPECT_EQ(t.find("nobody"), AccountTable::kNoAccount);
    EXPECT_EQ(t.name(1), "acct_2");
    EXPECT_EQ(t.last_seen(0), kT0 + 5);
    EXPECT_EQ(t.size(), 2u);
    EXPECT_EQ(t.intern("", kT0), AccountTable::kNoAccount);
}

TEST(AccountTable, CapacityRefusesUntilExpiryFreesIds) {
    AccountTable t(3);
    for (int i = 0; i < 3; ++i)
        EXPECT_NE(t.intern("a" + std::to_string(i), kT0 + i * kSec), AccountTable::kNoAccount);
    EXPECT_EQ(t.intern("late", kT0 + 10 * kSec), AccountTable::kNoAccount);
    EXPECT_EQ(t.refused(), 1u);
    // Horizon 10 s at kT0+11s: a0 (kT0) and a1 (kT0+1s) go, a2 (kT0+2s) stays one more ns.
    EXPECT_EQ(t.expire(kT0 + 11 * kSec, 10 * kSec), 2u);
    EXPECT_EQ(t.find("a0"), AccountTable::kNoAccount);
    EXPECT_EQ(t.find("a2"), 2u);
    const uint32_t id = t.intern("late", kT0 + 11 * kSec);
    EXPECT_LT(id, 2u);  // a freed id is reused: ids stay dense
    EXPECT_EQ(t.name(id), "late");
    EXPECT_EQ(t.id_limit(), 3u);
}

TEST(AccountTable, MergeMapsIds) {
    AccountTable a, b;
    a.intern("x", kT0);
    a.intern("y", kT0);
    b.intern("y", kT0 + 1);
    b.intern("z", kT0 + 2);
    const auto map = a.merge(b);
    ASSERT_EQ(map.size(), 2u);
    EXPECT_EQ(map[0], 1u);  // y
    EXPECT_EQ(map[1], 2u);  // z, new here
    EXPECT_EQ(a.last_seen(1), kT0 + 1);
}

TEST(AccountTable, SaveLoadKeepsIdsAndHoles) {
    AccountTable a;
    for (int i = 0; i < 100; ++i)
        a.intern("user-" + std::to_string(i) + "@example.com", kT0 + i);
    a.expire(kT0 + 50, 0);  // frees users 0..50
    std::vector<uint8_t> buf;
    StateWriter w(buf);
    a.save(w);
    AccountTable b;
    StateReader r(buf);
    ASSERT_TRUE(b.load(r));
    EXPECT_EQ(b.size(), 49u);
    EXPECT_EQ(b.find("user-77@example.com"), 77u);
    EXPECT_EQ(b.find("user-7@example.com"), AccountTable::kNoAccount);
    EXPECT_LT(b.intern("new", kT0), 51u);  // reuses a hole
    // Truncation is detected.
    AccountTable c;
    StateReader shortr(std::span<const uint8_t>(buf).first(buf.size() - 3));
    EXPECT_FALSE(c.load(shortr));
}

}  // namespace
}  // namespace sybilwatch::rules
