#include "rules/hll.hpp"

#include <gtest/gtest.h>

#include <algorithm>
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

// The estimate from a saved sketch's registers, each settled at `now` from scratch: what the
// sketch's incrementally kept histogram must always agree with.
double recounted_estimate(const SlidingHll& h, const Window& w, int64_t now) {
    std::vector<uint8_t> buf;
    StateWriter out(buf);
    h.save(out);
    StateReader r(buf);
    const int p = r.u8();
    const int64_t tick = std::max<int64_t>(w.resolution_ns, 1'000'000'000);
    const int64_t x = now - w.length_ns;
    const int64_t expired = x / tick - ((x % tick != 0 && x < 0) ? 1 : 0);
    std::vector<uint32_t> hist(static_cast<size_t>(64 - p + 2), 0);
    for (size_t i = 0; i < (size_t{1} << p); ++i) {
        uint8_t value = 0;
        for (int k = 0; k < SlidingHll::kEntries; ++k) {
            const uint32_t t = r.u32();
            const uint8_t rank = r.u8();
            // Entries are oldest first: the register reads the first live one.
            if (value == 0 && rank != 0 && static_cast<int64_t>(t) > expired) value = rank;
        }
        ++hist[std::min<size_t>(value, hist.size() - 1)];
    }
    EXPECT_TRUE(r.ok() && r.remaining() == 0);
    return hll_estimate(hist, static_cast<double>(size_t{1} << p));
}

TEST(SlidingHll, IncrementalEstimateEqualsAFullRecount) {
    constexpr int64_t kSec = 1'000'000'000;
    const int64_t t0 = 1'795'773'579 * kSec;
    // The engine's shape: a 10-minute aggregate window in 64 slices.
    const Window w = Window::sliced(600 * kSec, 64);
    SlidingHll h(w);
    uint64_t checks = 0;
    bool was_sparse = false, was_dense = false;
    // Arrival rates rise past the sparse limit, fall, stop: registers fill, expire, empty.
    const int64_t per_second[] = {2, 5, 20, 40, 5, 1, 0, 0, 3};
    int64_t t = t0;
    uint64_t v = 0;
    for (int64_t rate : per_second) {
        for (int s = 0; s < 300; ++s, t += kSec) {
            for (int64_t i = 0; i < rate; ++i) {
                // A third of the values repeat recent ones.
                const uint64_t value = (i % 3 == 2 && v > 50) ? v - 50 : v++;
                h.add(mix64(value), t + i, t + i);
            }
            if (s % 7 == 0) {
                const double want = recounted_estimate(h, w, t + kSec - 1);
                ASSERT_EQ(h.estimate(t + kSec - 1), want) << "at second " << (t - t0) / kSec;
                ++checks;
                (h.is_sparse() ? was_sparse : was_dense) = true;
            }
        }
    }
    EXPECT_GT(checks, 300u);
    EXPECT_TRUE(was_sparse);
    EXPECT_TRUE(was_dense);
    EXPECT_EQ(h.estimate(t + 700 * kSec), 0.0);
}

TEST(SlidingHll, SparseWhileSmallAndTheSameEstimates) {
    constexpr int64_t kSec = 1'000'000'000;
    const int64_t t0 = 1'795'773'579 * kSec;
    const Window w = Window::exact(3600 * kSec);
    SlidingHll small(w), big(w);
    for (uint64_t i = 0; i < 300; ++i) {
        small.add(mix64(i), t0, t0);
        big.add(mix64(i), t0, t0);
    }
    for (uint64_t i = 0; i < 3000; ++i)
        big.add(mix64(1'000'000 + i), t0 + 1, t0 + 1);
    EXPECT_TRUE(small.is_sparse());
    EXPECT_FALSE(big.is_sparse());
    EXPECT_LT(small.memory_bytes(), 16'384u);  // a dense sketch is 64 KiB
    EXPECT_NEAR(small.estimate(t0 + 2), 300.0, 10.0);
    // The same registers, sparse or dense: saved alike, the same estimate after a load.
    std::vector<uint8_t> a, b;
    StateWriter wa(a), wb(b);
    small.save(wa);
    SlidingHll copy(w);
    StateReader r(a);
    ASSERT_TRUE(copy.load(r));
    EXPECT_TRUE(copy.is_sparse());
    copy.save(wb);
    EXPECT_EQ(a, b);
    EXPECT_EQ(copy.estimate(t0 + 2), small.estimate(t0 + 2));
    // A merge of the small one into the big one (and the other way) counts the union.
    SlidingHll u = SlidingHll(w);
    u.merge(small);
    EXPECT_TRUE(u.is_sparse());
    u.merge(big);
    EXPECT_FALSE(u.is_sparse());
    EXPECT_EQ(u.estimate(t0 + 2), big.estimate(t0 + 2));  // big already holds small's values
}

}  // namespace
}  // namespace sybilwatch::rules
