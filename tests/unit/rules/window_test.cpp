#include "rules/window.hpp"

#include <gtest/gtest.h>

#include "rules/aggregate_state.hpp"
#include "rules/distinct_counter.hpp"

namespace sybilwatch::rules {
namespace {

constexpr int64_t kSec = 1'000'000'000;
constexpr int64_t kT0 = 1'795'773'579 * kSec;  // an ordinary event time (2026)

TEST(Window, ExactBoundaryAtNanosecondResolution) {
    const Window w = Window::exact(60 * kSec);
    const int64_t t = kT0 + 123'456'789;
    EXPECT_TRUE(w.live(t, t));
    EXPECT_TRUE(w.live(t, t + 60 * kSec - 1));  // last nanosecond inside
    EXPECT_FALSE(w.live(t, t + 60 * kSec));     // now == t + W: gone
    EXPECT_EQ(w.expires_at(t), t + 60 * kSec);
}

TEST(Window, SlicedExpiresAtTheSliceStartPlusWindow) {
    const Window w = Window::sliced(60 * kSec, 60);  // 1 s slices
    ASSERT_EQ(w.resolution_ns, kSec);
    const int64_t t = kT0 + 400'000'000;  // 0.4 s into a slice
    EXPECT_EQ(w.quantize(t), kT0);
    EXPECT_TRUE(w.live(t, kT0 + 60 * kSec - 1));
    // Up to one resolution early, never late.
    EXPECT_FALSE(w.live(t, kT0 + 60 * kSec));
    EXPECT_LE(w.expires_at(t), t + 60 * kSec);
    EXPECT_GT(w.expires_at(t), t + 59 * kSec);
}

TEST(Window, FloorSlicesForNegativeTimes) {
    const Window w{10, 3};
    EXPECT_EQ(w.slice(-1), -1);
    EXPECT_EQ(w.slice(-3), -1);
    EXPECT_EQ(w.slice(-4), -2);
    EXPECT_EQ(w.slice(2), 0);
    // first_live_slice agrees with live() for every slice start around now.
    for (int64_t now = -20; now <= 20; ++now) {
        const int64_t k = w.first_live_slice(now);
        EXPECT_TRUE(w.live(k * 3, now)) << now;
        EXPECT_FALSE(w.live((k - 1) * 3, now)) << now;
    }
}

TEST(Window, AggregateCountExpiresExactlyAtBoundary) {
    AggregateConfig cfg;
    cfg.window_ns = 60 * kSec;
    cfg.slices = 60;
    AggregateState s(cfg);
    const uint32_t g = s.observe(kT0, AggregateInput{7, "g", {}, {}});
    s.observe(kT0 + 30 * kSec, AggregateInput{7, "g", {}, {}});
    EXPECT_EQ(s.count(g, kT0 + 60 * kSec - 1), 2u);
    EXPECT_EQ(s.count(g, kT0 + 60 * kSec), 1u);
    EXPECT_EQ(s.count(g, kT0 + 90 * kSec - 1), 1u);
    EXPECT_EQ(s.count(g, kT0 + 90 * kSec), 0u);
}

TEST(Window, DistinctExpiresExactlyAtBoundary) {
    DistinctConfig cfg{Window::exact(3600 * kSec)};
    DistinctCounter d;
    const int64_t t = kT0 + 17;
    d.add(1, t, t, cfg);
    d.add(2, t + kSec, t + kSec, cfg);
    EXPECT_EQ(d.estimate(t + 3600 * kSec - 1, cfg), 2.0);
    EXPECT_EQ(d.estimate(t + 3600 * kSec, cfg), 1.0);
    EXPECT_EQ(d.estimate(t + 3601 * kSec, cfg), 0.0);
    // A value seen again stays in for a full window from its latest time.
    d.add(1, t + 1800 * kSec, t + 1800 * kSec, cfg);
    EXPECT_EQ(d.estimate(t + 3600 * kSec, cfg), 2.0);
    EXPECT_EQ(d.estimate(t + 5400 * kSec - 1, cfg), 1.0);
}

}  // namespace
}  // namespace sybilwatch::rules
