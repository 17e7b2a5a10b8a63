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

// The per-account memo (AggregateInput::account) skips distinct values an account already
// added to the group in the current slice. It must change no measure: a state fed with
// account ids and one fed without agree at every step, exact sets and sketches alike, through
// accounts moving between groups and networks, out-of-order times, evictions at the group cap
// (a group recreated within a slice) and, once the stream stops, expiry slice by slice.
void expect_memo_changes_nothing(uint32_t max_groups) {
    AggregateConfig cfg;
    cfg.window_ns = 600 * kSec;  // slices of 9.375 s
    cfg.distinct_fields = 2;     // account, network
    cfg.exact_limit = 24;        // the busiest group turns into a sketch
    cfg.max_groups = max_groups;
    AggregateState memo(cfg), plain(cfg);
    uint64_t rng = 7;
    auto next = [&] { return rng = mix64(rng + 0x9e3779b97f4a7c15ULL); };
    int64_t t = kT0;
    for (int i = 0; i < 30000; ++i) {
        t += static_cast<int64_t>(next() % (kSec / 20));  // 30,000 over ~750 s
        const uint64_t r = next();
        // 200 accounts; half of them stop half-way, so values expire at many times.
        const uint32_t account = static_cast<uint32_t>(r % (i < 15000 ? 200 : 100));
        // Group 0 is busy (most accounts), 1-3 small; an account mostly keeps its group and
        // its network.
        const uint64_t home = account % 8 < 5 ? 0 : 1 + account % 3;
        const uint64_t group = (r >> 8) % 10 == 0 ? (r >> 12) % 4 : home;
        const uint64_t net = (r >> 16) % 16 == 0 ? 5000 + (r >> 20) % 50 : 9000 + account / 4;
        const uint64_t d[2] = {100 + account, net};
        const int64_t at = (r >> 24) % 20 == 0 ? t - 5 * kSec : t;  // some arrive late
        memo.observe(at, AggregateInput{group, "g", d, {}, account});
        plain.observe(at, AggregateInput{group, "g", d, {}});
        if (i % 97 == 0 || i > 29900) {
            for (uint64_t k = 0; k < 4; ++k) {
                const uint32_t gm = memo.find(k), gp = plain.find(k);
                ASSERT_EQ(gm == AggregateState::kNoGroup, gp == AggregateState::kNoGroup);
                if (gm == AggregateState::kNoGroup) continue;
                ASSERT_EQ(memo.count(gm, memo.now()), plain.count(gp, plain.now())) << i;
                for (size_t f = 0; f < 2; ++f)
                    ASSERT_EQ(memo.distinct(gm, f, memo.now()), plain.distinct(gp, f, plain.now()))
                        << "group " << k << " field " << f << " at " << i;
            }
        }
    }
    EXPECT_GT(memo.memo_skips(), 2'000u);  // repeats within a slice
    EXPECT_EQ(plain.memo_skips(), 0u);
    EXPECT_TRUE(max_groups >= 4 || memo.evicted() > 0);
    bool dropped = false;
    double at_stop[4][2] = {};
    for (int64_t dt = 0; dt <= 610 * kSec; dt += kSec) {
        for (uint64_t k = 0; k < 4; ++k) {
            const uint32_t gm = memo.find(k), gp = plain.find(k);
            if (gm == AggregateState::kNoGroup) continue;
            for (size_t f = 0; f < 2; ++f) {
                const double m = memo.distinct(gm, f, t + dt);
                ASSERT_EQ(m, plain.distinct(gp, f, t + dt))
                    << "group " << k << " field " << f << " at +" << dt / kSec << " s";
                if (dt == 0) at_stop[k][f] = m;
                dropped |= dt < 500 * kSec && m < at_stop[k][f];
            }
        }
    }
    EXPECT_TRUE(dropped || max_groups < 4);  // values did expire at many times
}

TEST(AggregateState, AccountMemoChangesNoMeasure) {
    expect_memo_changes_nothing(4);
}

TEST(AggregateState, AccountMemoChangesNoMeasureWithEvictions) {
    expect_memo_changes_nothing(3);
}

}  // namespace
}  // namespace sybilwatch::rules
