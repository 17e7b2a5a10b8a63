#include "rules/distinct_counter.hpp"

#include <gtest/gtest.h>

#include <cmath>

namespace sybilwatch::rules {
namespace {

constexpr int64_t kSec = 1'000'000'000;
constexpr int64_t kT0 = 1'795'773'579 * kSec;

TEST(DistinctCounter, ExactWhileSmall) {
    DistinctConfig cfg{Window::exact(3600 * kSec), 128};
    DistinctCounter d;
    for (uint64_t i = 0; i < 128; ++i) {
        for (int rep = 0; rep < 3; ++rep)
            d.add(1000 + i, kT0 + rep, kT0 + rep, cfg);
    }
    EXPECT_TRUE(d.is_exact());
    EXPECT_EQ(d.estimate(kT0 + 10, cfg), 128.0);
    EXPECT_LE(d.memory_bytes(), 256u * 16u);
}

TEST(DistinctCounter, SwitchesToSketchPastTheLimit) {
    DistinctConfig cfg{Window::exact(3600 * kSec), 128};
    DistinctCounter d;
    for (uint64_t i = 0; i < 100'000; ++i)
        d.add(i, kT0 + static_cast<int64_t>(i), kT0 + static_cast<int64_t>(i), cfg);
    EXPECT_FALSE(d.is_exact());
    EXPECT_LT(std::abs(d.estimate(kT0 + 100'000, cfg) - 100'000) / 100'000, 0.04);
}

TEST(DistinctCounter, ExpiredValuesDoNotCountTowardTheLimit) {
    // 1000 values, each alone in its window: never more than a few live, so it stays exact.
    DistinctConfig cfg{Window::exact(10 * kSec), 16};
    DistinctCounter d;
    for (uint64_t i = 0; i < 1000; ++i) {
        const int64_t t = kT0 + static_cast<int64_t>(i) * 5 * kSec;
        d.add(i, t, t, cfg);
        EXPECT_LE(d.estimate(t, cfg), 2.0);
    }
    EXPECT_TRUE(d.is_exact());
}

TEST(DistinctCounter, MergeExactAndSketch) {
    DistinctConfig cfg{Window::exact(3600 * kSec), 64};
    DistinctCounter a, b, c;
    for (uint64_t i = 1; i <= 40; ++i)
        a.add(i, kT0, kT0, cfg);
    for (uint64_t i = 21; i <= 60; ++i)
        b.add(i, kT0, kT0, cfg);
    a.merge(b, kT0, cfg);
    EXPECT_TRUE(a.is_exact());
    EXPECT_EQ(a.estimate(kT0, cfg), 60.0);
    for (uint64_t i = 0; i < 10'000; ++i)
        c.add(i + 500, kT0, kT0, cfg);
    a.merge(c, kT0, cfg);
    EXPECT_FALSE(a.is_exact());
    EXPECT_LT(std::abs(a.estimate(kT0, cfg) - 10'060) / 10'060, 0.04);
}

TEST(DistinctCounter, SaveLoadBothModes) {
    DistinctConfig cfg{Window::exact(3600 * kSec), 64};
    for (uint64_t n : {30ull, 5000ull}) {
        DistinctCounter d;
        for (uint64_t i = 0; i < n; ++i)
            d.add(i, kT0, kT0, cfg);
        std::vector<uint8_t> buf;
        StateWriter w(buf);
        d.save(w);
        DistinctCounter back;
        StateReader r(buf);
        ASSERT_TRUE(back.load(r, cfg));
        EXPECT_EQ(back.estimate(kT0, cfg), d.estimate(kT0, cfg));
        EXPECT_EQ(back.is_exact(), d.is_exact());
    }
}

}  // namespace
}  // namespace sybilwatch::rules
