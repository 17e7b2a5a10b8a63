#include "rules/hll.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "rules/hash_index.hpp"

namespace sybilwatch::rules {
namespace {

double rel_error(double est, double n) {
    return std::abs(est - n) / n;
}

TEST(Hll, EmptyIsZero) {
    Hll h;
    EXPECT_EQ(h.estimate(), 0.0);
    EXPECT_TRUE(h.is_sparse());
}

TEST(Hll, SmallSetsAreNearlyExactWhileSparse) {
    Hll h;
    for (uint64_t i = 1; i <= 1000; ++i) {
        h.add(i);
        h.add(i);  // duplicates change nothing
    }
    EXPECT_TRUE(h.is_sparse());
    EXPECT_NEAR(h.estimate(), 1000.0, 2.0);
}

// The acceptance bound: < 2% at 1 million, and at several sizes through the sparse/dense
// switch and the small-range region.
TEST(Hll, ErrorUnderTwoPercentAcrossSizes) {
    for (uint64_t n : {100ull, 5'000ull, 20'000ull, 100'000ull, 1'000'000ull}) {
        Hll h;
        for (uint64_t i = 0; i < n; ++i)
            h.add(i * 0x9e3779b97f4a7c15ULL + n);
        EXPECT_LT(rel_error(h.estimate(), static_cast<double>(n)), 0.02) << n;
    }
}

TEST(Hll, MergeEqualsUnion) {
    Hll a, b, both;
    for (uint64_t i = 0; i < 600'000; ++i) {
        a.add(i);
        both.add(i);
    }
    for (uint64_t i = 400'000; i < 1'000'000; ++i) {
        b.add(i);
        both.add(i);
    }
    ASSERT_TRUE(a.merge(b));
    EXPECT_EQ(a.estimate(), both.estimate());  // register-wise max is exactly the union
    EXPECT_LT(rel_error(a.estimate(), 1e6), 0.02);
    Hll other(12);
    EXPECT_FALSE(a.merge(other));
}

TEST(Hll, MergeSparseIntoSparseAndDense) {
    Hll a, b, c;
    for (uint64_t i = 0; i < 300; ++i)
        a.add(i);
    for (uint64_t i = 200; i < 500; ++i)
        b.add(i);
    ASSERT_TRUE(a.merge(b));
    EXPECT_NEAR(a.estimate(), 500.0, 2.0);
    for (uint64_t i = 0; i < 50'000; ++i)
        c.add(i + 1'000'000);
    ASSERT_FALSE(c.is_sparse());
    ASSERT_TRUE(c.merge(a));
    EXPECT_LT(rel_error(c.estimate(), 50'500), 0.02);
}

TEST(Hll, SaveLoadRoundTrip) {
    for (uint64_t n : {10ull, 100'000ull}) {
        Hll h;
        for (uint64_t i = 0; i < n; ++i)
            h.add(i);
        std::vector<uint8_t> buf;
        StateWriter w(buf);
        h.save(w);
        StateReader r(buf);
        auto back = Hll::load(r);
        ASSERT_TRUE(back.has_value());
        EXPECT_EQ(back->estimate(), h.estimate());
        // Truncated input is rejected, not read past.
        StateReader shortr(std::span<const uint8_t>(buf).first(buf.size() - 1));
        EXPECT_FALSE(Hll::load(shortr).has_value());
    }
}

TEST(SlidingHll, EstimatesAndForgets) {
    constexpr int64_t kSec = 1'000'000'000;
    const int64_t t0 = 1'795'773'579 * kSec;
    SlidingHll h(Window::exact(3600 * kSec));
    // 100k values in the first half hour, 50k others in the second.
    for (uint64_t i = 0; i < 100'000; ++i) {
        const int64_t t = t0 + static_cast<int64_t>(i) * 1800 * kSec / 100'000;
        h.add(i, t, t);
    }
    for (uint64_t i = 0; i < 50'000; ++i) {
        const int64_t t = t0 + 1800 * kSec + static_cast<int64_t>(i) * 1800 * kSec / 50'000;
        h.add(1'000'000 + i, t, t);
    }
    const int64_t end = t0 + 3600 * kSec - 1;
    EXPECT_LT(rel_error(h.estimate(end), 150'000), 0.04);
    // 30 minutes later the first batch is gone.
    EXPECT_LT(rel_error(h.estimate(t0 + 5400 * kSec), 50'000), 0.05);
    EXPECT_EQ(h.estimate(t0 + 7300 * kSec), 0.0);
}

TEST(SlidingHll, MergeOfDisjointHalves) {
    constexpr int64_t kSec = 1'000'000'000;
    const int64_t t0 = 1'795'773'579 * kSec;
    const Window w = Window::exact(3600 * kSec);
    SlidingHll a(w), b(w);
    for (uint64_t i = 0; i < 200'000; ++i) {
        const int64_t t = t0 + static_cast<int64_t>(i % 3000) * kSec;
        (i % 2 ? a : b).add(mix64(i), t, t);
    }
    a.merge(b);
    EXPECT_LT(rel_error(a.estimate(t0 + 3000 * kSec), 200'000), 0.04);
}

}  // namespace
}  // namespace sybilwatch::rules
