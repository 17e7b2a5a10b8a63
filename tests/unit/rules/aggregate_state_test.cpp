#include "rules/aggregate_state.hpp"

#include <gtest/gtest.h>

#include <string>

#include "rules/hash_index.hpp"

namespace sybilwatch::rules {
namespace {

constexpr int64_t kSec = 1'000'000'000;
constexpr int64_t kT0 = 1'795'773'579 * kSec;

// The example: >= 20 distinct accounts from >= 10 distinct /24s on one ja4+ja4t in 1 h.
TEST(AggregateState, ProxyRotationMeasures) {
    AggregateConfig cfg;
    cfg.window_ns = 3600 * kSec;
    cfg.distinct_fields = 2;  // account, net24
    cfg.sum_fields = 1;       // requests
    AggregateState s(cfg);
    uint32_t g = 0;
    for (uint64_t i = 0; i < 60; ++i) {
        const uint64_t d[2] = {1000 + i % 25, 7000 + i % 12};  // 25 accounts, 12 networks
        const double sums[1] = {3.0};
        g = s.observe(kT0 + static_cast<int64_t>(i) * 10 * kSec,
                      AggregateInput{0xfeed, "t13d1516h2_8daaf6152771_02713d6af862", d, sums});
    }
    const int64_t now = s.now();
    EXPECT_EQ(s.count(g, now), 60u);
    EXPECT_EQ(s.distinct(g, 0, now), 25.0);
    EXPECT_EQ(s.distinct(g, 1, now), 12.0);
    EXPECT_EQ(s.sum(g, 0, now), 180.0);
    EXPECT_DOUBLE_EQ(s.rate(g, now), 60.0 / 3600.0);
    EXPECT_EQ(s.info(g).text, "t13d1516h2_8daaf6152771_02713d6af862");
    EXPECT_EQ(s.info(g).first_seen, kT0);
    EXPECT_EQ(s.find(0xfeed), g);
}

TEST(AggregateState, GroupsAreSeparate) {
    AggregateConfig cfg;
    cfg.distinct_fields = 1;
    AggregateState s(cfg);
    for (uint64_t i = 0; i < 100; ++i) {
        const uint64_t d[1] = {i + 1};  // 0 means "absent"
        s.observe(kT0 + static_cast<int64_t>(i), AggregateInput{i % 4, "g", d, {}});
    }
    EXPECT_EQ(s.groups(), 4u);
    for (uint64_t k = 0; k < 4; ++k) {
        EXPECT_EQ(s.count(s.find(k), s.now()), 25u);
        EXPECT_EQ(s.distinct(s.find(k), 0, s.now()), 25.0);
    }
}

TEST(AggregateState, EvictsLeastRecentlyUpdatedAtTheCap) {
    AggregateConfig cfg;
    cfg.max_groups = 3;
    AggregateState s(cfg);
    s.observe(kT0, AggregateInput{1, "a", {}, {}});
    s.observe(kT0 + 1, AggregateInput{2, "b", {}, {}});
    s.observe(kT0 + 2, AggregateInput{3, "c", {}, {}});
    s.observe(kT0 + 3, AggregateInput{1, "a", {}, {}});  // 1 is fresh again; 2 is the oldest
    s.observe(kT0 + 4, AggregateInput{4, "d", {}, {}});
    EXPECT_EQ(s.groups(), 3u);
    EXPECT_EQ(s.evicted(), 1u);
    EXPECT_EQ(s.find(2), AggregateState::kNoGroup);
    EXPECT_NE(s.find(1), AggregateState::kNoGroup);
    EXPECT_EQ(s.count(s.find(1), s.now()), 2u);
}

TEST(AggregateState, ExpireDropsGroupsWithNothingLeft) {
    AggregateConfig cfg;
    cfg.window_ns = 60 * kSec;
    cfg.slices = 60;  // 1 s slices: kT0 is on a slice boundary, so expiry is exact
    AggregateState s(cfg);
    s.observe(kT0, AggregateInput{1, "a", {}, {}});
    s.observe(kT0 + 30 * kSec, AggregateInput{2, "b", {}, {}});
    std::vector<uint64_t> closed;
    EXPECT_EQ(s.expire(kT0 + 60 * kSec - 1, &closed), 0u);
    EXPECT_EQ(s.expire(kT0 + 60 * kSec, &closed), 1u);
    ASSERT_EQ(closed.size(), 1u);
    EXPECT_EQ(closed[0], 1u);
    EXPECT_EQ(s.groups(), 1u);
}

TEST(AggregateState, MergeAddsCountsAndUnionsDistinct) {
    AggregateConfig cfg;
    cfg.distinct_fields = 1;
    cfg.sum_fields = 1;
    AggregateState a(cfg), b(cfg);
    for (uint64_t i = 0; i < 30; ++i) {
        const uint64_t d[1] = {i + 1};
        const double v[1] = {1.0};
        a.observe(kT0 + static_cast<int64_t>(i) * kSec, AggregateInput{9, "g", d, v});
        const uint64_t e[1] = {i + 21};
        b.observe(kT0 + static_cast<int64_t>(i) * kSec, AggregateInput{9, "g", e, v});
        b.observe(kT0 + static_cast<int64_t>(i) * kSec, AggregateInput{10, "h", e, v});
    }
    a.merge(b);
    EXPECT_EQ(a.count(a.find(9), a.now()), 60u);
    EXPECT_EQ(a.sum(a.find(9), 0, a.now()), 60.0);
    EXPECT_EQ(a.distinct(a.find(9), 0, a.now()), 50.0);
    EXPECT_EQ(a.count(a.find(10), a.now()), 30u);
}

TEST(AggregateState, SaveLoadRoundTripKeepsMeasuresAndLruOrder) {
    AggregateConfig cfg;
    cfg.distinct_fields = 1;
    cfg.max_groups = 3;
    AggregateState a(cfg);
    for (uint64_t i = 0; i < 90; ++i) {
        const uint64_t d[1] = {i + 1};
        a.observe(kT0 + static_cast<int64_t>(i) * kSec,
                  AggregateInput{i % 3, std::to_string(i % 3), d, {}});
    }
    std::vector<uint8_t> buf;
    StateWriter w(buf);
    a.save(w);
    AggregateState b(cfg);
    StateReader r(buf);
    ASSERT_TRUE(b.load(r));
    for (uint64_t k = 0; k < 3; ++k) {
        EXPECT_EQ(b.count(b.find(k), b.now()), 30u);
        EXPECT_EQ(b.distinct(b.find(k), 0, b.now()), 30.0);
        EXPECT_EQ(b.info(b.find(k)).text, std::to_string(k));
    }
    // Group 0 was updated least recently in both: a new group evicts it.
    b.observe(b.now(), AggregateInput{77, "new", {}, {}});
    EXPECT_EQ(b.find(0), AggregateState::kNoGroup);
    // A state of another shape refuses the record.
    AggregateConfig other = cfg;
    other.distinct_fields = 2;
    AggregateState c(other);
    StateReader r2(buf);
    EXPECT_FALSE(c.load(r2));
}

}  // namespace
}  // namespace sybilwatch::rules
