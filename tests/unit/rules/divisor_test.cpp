#include "rules/divisor.hpp"

#include <gtest/gtest.h>

#include <random>

namespace sybilwatch::rules {
namespace {

int64_t floor_div(int64_t n, int64_t d) {
    const int64_t q = n / d;
    return (n % d != 0 && n < 0) ? q - 1 : q;
}

// Against the hardware divide: divisors of the windows and rings in use and random ones,
// numerators around the multiples where the estimate is one short, extremes, negatives.
TEST(Divisor, AgreesWithFloorDivision) {
    std::mt19937_64 rng(11);
    std::vector<int64_t> divisors = {1,
                                     2,
                                     3,
                                     7,
                                     64,
                                     384,
                                     512,
                                     43690,
                                     1'000'000'000,
                                     9'375'000'000,
                                     60'000'000'000,
                                     1'350'000'000'000,
                                     (int64_t{1} << 60),
                                     INT64_MAX};
    for (int i = 0; i < 200; ++i)
        divisors.push_back(static_cast<int64_t>(rng() >> (1 + rng() % 62)) | 1);
    for (int64_t d : divisors) {
        const Divisor v(static_cast<uint64_t>(d));
        ASSERT_EQ(v.value(), static_cast<uint64_t>(d));
        std::vector<int64_t> ns = {0,  1,      -1,        d - 1,         d,
                                   -d, -d + 1, INT64_MAX, INT64_MIN / 2, -(int64_t{1} << 62)};
        if (d < INT64_MAX) {  // d + 1 and -d - 1 exist
            ns.push_back(d + 1);
            ns.push_back(-d - 1);
        }
        for (int k = 0; k < 300; ++k) {
            const int64_t n = static_cast<int64_t>(rng()) / 2;
            ns.push_back(n);
            if (d > 1 && n / d > INT64_MIN / d + 1 && n / d < INT64_MAX / d - 1) {
                ns.push_back((n / d) * d);  // exact multiples and their neighbours
                ns.push_back((n / d) * d - 1);
                ns.push_back((n / d) * d + 1);
            }
        }
        for (int64_t n : ns) {
            ASSERT_EQ(v.floor_div(n), floor_div(n, d)) << n << " / " << d;
            const auto r = static_cast<__int128>(n) - static_cast<__int128>(floor_div(n, d)) * d;
            ASSERT_EQ(v.floor_mod(n), static_cast<uint64_t>(r)) << n << " % " << d;
            if (n >= 0) {
                ASSERT_EQ(v.div(static_cast<uint64_t>(n)), static_cast<uint64_t>(n / d));
            }
        }
        for (uint64_t n : {UINT64_MAX, UINT64_MAX - 1, uint64_t{1} << 63})
            ASSERT_EQ(v.div(n), n / static_cast<uint64_t>(d)) << n << " / " << d;
    }
}

}  // namespace
}  // namespace sybilwatch::rules
