#include "rules/flat_map.hpp"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <string>

namespace sybilwatch::rules {
namespace {

// Random inserts, erases and erase_if passes against std::map: every key finds its own value
// after the moves that erasing makes.
TEST(FlatMap, AgreesWithStdMap) {
    FlatMap<std::string> m;
    std::map<uint64_t, std::string> want;
    std::mt19937_64 rng(7);
    for (int round = 0; round < 40; ++round) {
        for (int i = 0; i < 500; ++i) {
            const uint64_t k = rng() % 2'000;
            if (rng() % 3 == 0) {
                EXPECT_EQ(m.erase(k), want.erase(k) == 1);
            } else {
                m[k] += "x";
                want[k] += "x";
            }
        }
        if (round % 5 == 4) {
            const auto odd = [](uint64_t k) { return k % 2 == 1; };
            const size_t erased =
                m.erase_if([&](uint64_t k, const std::string&) { return odd(k); });
            EXPECT_EQ(erased, std::erase_if(want, [&](const auto& e) { return odd(e.first); }));
        }
        ASSERT_EQ(m.size(), want.size());
        for (uint64_t k = 0; k < 2'000; ++k) {
            const std::string* v = m.find(k);
            const auto it = want.find(k);
            ASSERT_EQ(v != nullptr, it != want.end()) << k;
            ASSERT_EQ(m.contains(k), it != want.end()) << k;
            if (v) {
                ASSERT_EQ(*v, it->second) << k;
            }
        }
        std::map<uint64_t, std::string> seen;
        for (const auto& [k, v] : m)
            seen[k] = v;
        ASSERT_EQ(seen, want);
    }
    m.clear();
    EXPECT_TRUE(m.empty());
    EXPECT_EQ(m.find(1), nullptr);
}

}  // namespace
}  // namespace sybilwatch::rules
