#include "rules/synchrony_state.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <set>

namespace sybilwatch::rules {
namespace {

constexpr int64_t kSec = 1'000'000'000;
constexpr int64_t kMin = 60 * kSec;
constexpr int64_t kT0 = 29'929'559 * kMin;  // a whole minute in 2026

SynchronyConfig config() {
    SynchronyConfig c;
    c.bucket_ns = kMin;
    c.window_ns = 360 * kMin;
    c.min_similarity = 0.7;
    c.min_active_buckets = 8;
    c.min_accounts = 5;
    return c;
}

struct Event {
    int64_t t;
    uint32_t account;
    bool operator<(const Event& o) const { return t < o.t; }
};

// 5,000 accounts active in 30 random minutes each, and 50 accounts driven by one scheduler:
// 40 shared minutes, each account missing ~5% of them and adding one minute of its own.
std::vector<Event> planted_workload(uint32_t random_accounts, uint32_t farm, uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::uniform_int_distribution<int64_t> minute(0, 359), second(0, 59);
    std::vector<Event> ev;
    for (uint32_t a = 0; a < random_accounts; ++a) {
        for (int i = 0; i < 30; ++i)
            ev.push_back({kT0 + minute(rng) * kMin + second(rng) * kSec, a});
    }
    std::vector<int64_t> schedule;
    while (schedule.size() < 40) {
        const int64_t m = minute(rng);
        if (std::find(schedule.begin(), schedule.end(), m) == schedule.end()) schedule.push_back(m);
    }
    std::bernoulli_distribution keep(0.95);
    for (uint32_t i = 0; i < farm; ++i) {
        const uint32_t a = random_accounts + i;
        for (int64_t m : schedule) {
            if (keep(rng)) ev.push_back({kT0 + m * kMin + second(rng) * kSec, a});
        }
        ev.push_back({kT0 + minute(rng) * kMin + second(rng) * kSec, a});
    }
    std::sort(ev.begin(), ev.end());
    return ev;
}

TEST(SynchronyState, FindsAPlantedLockStepGroup) {
    constexpr uint32_t kRandom = 5000, kFarm = 50;
    SynchronyState s(config());
    for (const Event& e : planted_workload(kRandom, kFarm, 42))
        s.observe(e.t, e.account);
    const int64_t end = kT0 + 360 * kMin - 1;
    s.scan(end);
    // The farm: recall > 95%, and no random account in any cluster.
    std::set<uint64_t> farm_clusters;
    uint32_t found = 0;
    for (uint32_t i = 0; i < kFarm; ++i) {
        const uint64_t id = s.cluster_of(kRandom + i);
        if (id != 0) {
            ++found;
            farm_clusters.insert(id);
        }
    }
    EXPECT_GT(found, kFarm * 95 / 100);
    EXPECT_EQ(farm_clusters.size(), 1u);
    for (uint32_t a = 0; a < kRandom; ++a)
        ASSERT_EQ(s.cluster_of(a), 0u) << a;
    // Far fewer checks than the 12.6 million pairs.
    EXPECT_LT(s.candidates_checked(), 200'000u);
    auto ev = s.take_events();
    ASSERT_EQ(ev.size(), 1u);
    EXPECT_EQ(ev[0].change, ClusterChange::Created);
    EXPECT_EQ(ev[0].accounts, found);
    SynchronyState::ClusterInfo info;
    ASSERT_TRUE(s.cluster(*farm_clusters.begin(), info));
    EXPECT_GE(info.min_similarity, 0.7);
    EXPECT_GE(info.first_seen, kT0);
    EXPECT_LE(info.last_seen, end);
}

TEST(SynchronyState, SimilarityIsExactJaccard) {
    SynchronyState s(config());
    // a: minutes 0..9, b: minutes 5..14 -> 5 shared of 15.
    for (int64_t m = 0; m < 10; ++m)
        s.observe(kT0 + m * kMin, 1);
    for (int64_t m = 5; m < 15; ++m)
        s.observe(kT0 + m * kMin + 59 * kSec, 2);
    EXPECT_DOUBLE_EQ(s.similarity(1, 2, kT0 + 15 * kMin), 5.0 / 15.0);
    EXPECT_EQ(s.active_buckets(1, kT0 + 15 * kMin), 10u);
    // Minute 0 leaves the 6 h window exactly at kT0 + 360 min.
    EXPECT_EQ(s.active_buckets(1, kT0 + 360 * kMin - 1), 10u);
    EXPECT_EQ(s.active_buckets(1, kT0 + 360 * kMin), 9u);
}

TEST(SynchronyState, IdsStableAcrossScansAndClosedOnExpiry) {
    SynchronyState s(config());
    for (int64_t m = 0; m < 10; ++m) {
        for (uint32_t a = 0; a < 6; ++a)
            s.observe(kT0 + m * kMin + a * kSec, a);
    }
    s.scan(kT0 + 10 * kMin);
    const uint64_t id = s.cluster_of(0);
    ASSERT_NE(id, 0u);
    s.take_events();
    // A seventh account joins the schedule for the next 30 minutes (Jaccard 30/40 with the
    // others): same id, an Update.
    for (int64_t m = 10; m < 40; ++m) {
        for (uint32_t a = 0; a < 7; ++a)
            s.observe(kT0 + m * kMin + a * kSec, a);
    }
    s.scan(kT0 + 40 * kMin);
    EXPECT_EQ(s.cluster_of(6), id);
    auto ev = s.take_events();
    ASSERT_EQ(ev.size(), 1u);
    EXPECT_EQ(ev[0].change, ClusterChange::Updated);
    EXPECT_EQ(ev[0].accounts, 7u);
    // Nothing more: after the window everything is gone and the cluster closes.
    s.scan(kT0 + 400 * kMin);
    EXPECT_EQ(s.cluster_of(0), 0u);
    EXPECT_EQ(s.tracked_accounts(), 0u);
    ev = s.take_events();
    ASSERT_EQ(ev.size(), 1u);
    EXPECT_EQ(ev[0].change, ClusterChange::Closed);
    EXPECT_EQ(ev[0].cluster_id, id);
}

TEST(SynchronyState, MergeOfTwoHostsSeesTheWholeSchedule) {
    // Each host sees every other minute of the same 3 accounts: alone each has 10 buckets, a
    // union of 20; merged, the accounts are identical.
    SynchronyState a(config()), b(config());
    for (int64_t m = 0; m < 20; ++m) {
        for (uint32_t x = 0; x < 5; ++x)
            (m % 2 ? a : b).observe(kT0 + m * kMin, x);
    }
    const std::vector<uint32_t> same = {0, 1, 2, 3, 4};
    a.merge(b, same);
    EXPECT_EQ(a.active_buckets(0, kT0 + 20 * kMin), 20u);
    a.scan(kT0 + 20 * kMin);
    EXPECT_NE(a.cluster_of(0), 0u);
    EXPECT_EQ(a.cluster_of(4), a.cluster_of(0));
}

// Up to three buckets are held inline, more in a pooled bitset; a scan moves an account
// back inline when its window keeps three or fewer. Answers and saved bytes are the same
// either way.
TEST(SynchronyState, FewBucketsInlineManyPooledTheSameAnswers) {
    SynchronyState s(config());
    // Account 1: minutes 0, 100, 200 (inline); account 2: minutes 0..9 and 200 (pooled).
    for (int64_t m : {0, 100, 200})
        s.observe(kT0 + m * kMin, 1);
    for (int64_t m = 0; m < 10; ++m)
        s.observe(kT0 + m * kMin + kSec, 2);
    s.observe(kT0 + 200 * kMin + kSec, 2);
    const int64_t now = kT0 + 201 * kMin;
    EXPECT_EQ(s.active_buckets(1, now), 3u);
    EXPECT_EQ(s.active_buckets(2, now), 11u);
    EXPECT_DOUBLE_EQ(s.similarity(1, 2, now), 2.0 / 12.0);  // minutes 0 and 200 shared
    EXPECT_EQ(s.bitsets(), 1u);                             // account 2's
    for (uint32_t a = 10; a < 1010; ++a)
        s.observe(kT0 + 200 * kMin, a);  // one bucket each: inline
    EXPECT_EQ(s.bitsets(), 1u);
    // Saved, loaded, saved: the same bytes, the same answers.
    std::vector<uint8_t> a, b;
    StateWriter wa(a), wb(b);
    s.save(wa);
    SynchronyState t(config());
    StateReader r(a);
    ASSERT_TRUE(t.load(r, 2000));
    t.save(wb);
    EXPECT_EQ(a, b);
    EXPECT_DOUBLE_EQ(t.similarity(1, 2, now), 2.0 / 12.0);
    // At 6 h past minute 9, account 2 keeps only minute 200 (and a new one): inline again,
    // still answering.
    s.observe(kT0 + 370 * kMin, 2);
    s.scan(kT0 + 370 * kMin);
    EXPECT_EQ(s.bitsets(), 0u);
    EXPECT_EQ(s.active_buckets(2, kT0 + 370 * kMin), 2u);
    EXPECT_EQ(s.active_buckets(1, kT0 + 370 * kMin), 2u);  // minute 0 left the window
    EXPECT_DOUBLE_EQ(s.similarity(1, 2, kT0 + 370 * kMin), 1.0 / 3.0);
    s.observe(kT0 + 371 * kMin, 2);
    s.observe(kT0 + 372 * kMin, 2);  // four: pooled again
    EXPECT_EQ(s.bitsets(), 1u);
    EXPECT_EQ(s.active_buckets(2, kT0 + 372 * kMin), 4u);
    // Merged into an empty state: the same buckets.
    SynchronyState m(config());
    std::vector<uint32_t> same(2000);
    for (uint32_t i = 0; i < same.size(); ++i)
        same[i] = i;
    m.merge(s, same);
    EXPECT_EQ(m.active_buckets(2, kT0 + 372 * kMin), 4u);
    EXPECT_EQ(m.active_buckets(1, kT0 + 372 * kMin), 2u);
}

// A pooled account remembers in its slot that its newest bucket is set, so repeats in that
// bucket skip the bitset. Against a reference set: repeats, a late event into an older bucket,
// a gap past the window, a scan in between; every bucket set exactly once, none lost.
TEST(SynchronyState, RepeatsInTheNewestBucketKeepTheExactSet) {
    SynchronyState s(config());
    std::mt19937_64 rng(7);
    std::set<int64_t> ref;  // minutes observed, all within the window of the checks below
    int64_t minute = 0;
    for (int step = 0; step < 3000; ++step) {
        const uint64_t r = rng() % 10;
        int64_t m = minute;
        if (r < 3)
            m = ++minute;  // the next bucket
        else if (r == 3 && minute >= 5)
            m = minute - 1 - rng() % 5;  // late, older bucket
        if (step == 1500) {
            minute += 400;  // idle past the 6 h window: everything before expires
            m = minute;
            ref.clear();
        }
        s.observe(kT0 + m * kMin + static_cast<int64_t>(rng() % 60) * kSec, 3);
        ref.insert(m);
        while (!ref.empty() && *ref.begin() <= minute - 360)
            ref.erase(ref.begin());
        // Scans now and then, and right after the gap (the account goes inline, then pooled
        // again as buckets come back).
        if (step % 700 == 0 || step == 1500) s.scan(kT0 + minute * kMin);
        const int64_t now = kT0 + minute * kMin;
        ASSERT_EQ(s.active_buckets(3, now), ref.size()) << "step " << step;
    }
    EXPECT_EQ(s.bitsets(), 1u);
    // Merged into a state where the account is pooled with its newest bucket set (so flagged):
    // the union, with the repeats still answered right afterwards.
    SynchronyState t(config());
    std::set<int64_t> mine;
    for (int64_t m = minute - 20; m <= minute; m += 4) {
        t.observe(kT0 + m * kMin, 3);
        t.observe(kT0 + m * kMin + 30 * kSec, 3);  // a repeat in the newest bucket
        mine.insert(m);
    }
    std::vector<uint32_t> same(8);
    for (uint32_t i = 0; i < same.size(); ++i)
        same[i] = i;
    t.merge(s, same);
    std::set<int64_t> both = ref;
    both.insert(mine.begin(), mine.end());
    EXPECT_EQ(t.active_buckets(3, kT0 + minute * kMin), both.size());
    t.observe(kT0 + minute * kMin + 50 * kSec, 3);
    t.observe(kT0 + (minute + 1) * kMin, 3);
    both.insert(minute + 1);
    both.erase(minute + 1 - 360);  // left the window
    EXPECT_EQ(t.active_buckets(3, kT0 + (minute + 1) * kMin), both.size());
    EXPECT_DOUBLE_EQ(s.similarity(3, 3, kT0 + minute * kMin), 1.0);
}

TEST(SynchronyState, BandsFollowTheThreshold) {
    SynchronyConfig c = config();
    SynchronyState s(c);
    EXPECT_EQ(s.rows(), 5u);  // 19 bands of 5: 97% at J = 0.7
    c.min_similarity = 0.5;
    EXPECT_EQ(SynchronyState(c).rows(), 3u);
}

}  // namespace
}  // namespace sybilwatch::rules
