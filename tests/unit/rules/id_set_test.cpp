#include "rules/id_set.hpp"

#include <gtest/gtest.h>

#include <random>
#include <set>

namespace sybilwatch::rules {
namespace {

TEST(IdSet, AgreesWithStdSet) {
    IdSet s;
    std::set<uint32_t> want;
    std::mt19937 rng(5);
    EXPECT_FALSE(s.contains(0));
    for (int i = 0; i < 20'000; ++i) {
        const uint32_t id = rng() % 5'000;
        EXPECT_EQ(s.insert(id), want.insert(id).second);
        ASSERT_EQ(s.size(), want.size());
    }
    for (uint32_t id = 0; id < 6'000; ++id)
        ASSERT_EQ(s.contains(id), want.count(id) == 1) << id;
    const auto sorted = s.sorted();
    EXPECT_EQ(std::vector<uint32_t>(want.begin(), want.end()), sorted);
    EXPECT_LE(s.memory_bytes(), want.size() * 4 * 2 + 64);
}

}  // namespace
}  // namespace sybilwatch::rules
