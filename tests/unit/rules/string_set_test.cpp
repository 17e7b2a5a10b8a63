#include "rules/string_set.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace sybilwatch::rules {
namespace {

// Members and near misses: strings that share a member's length, head or tail (what the
// set hashes) must still be told apart by the full comparison.
TEST(StringSet, FindsExactlyItsMembers) {
    std::vector<std::string> items;
    std::set<std::string> want;
    for (int i = 0; i < 300; ++i) {
        const std::string j = "t13d1516h2_8daaf6152771_" + std::to_string(100000000000 + i * 7);
        items.push_back(j);
        want.insert(j);
    }
    items.push_back("");
    items.push_back("a");
    items.push_back("t13d1516h2_8daaf6152771_100000000000");  // a duplicate
    want.insert("");
    want.insert("a");
    const StringSet s(items);
    EXPECT_EQ(s.size(), want.size());
    for (const std::string& m : want)
        EXPECT_TRUE(s.contains(m)) << m;
    for (int i = 0; i < 2'100; ++i) {
        const std::string j = "t13d1516h2_8daaf6152771_" + std::to_string(100000000000 + i);
        EXPECT_EQ(s.contains(j), want.count(j) == 1) << j;
        std::string mid = j;
        mid[12] = 'X';  // same length, head and tail
        EXPECT_FALSE(s.contains(mid)) << mid;
    }
    EXPECT_FALSE(s.contains("b"));
    EXPECT_FALSE(s.contains("aa"));

    EXPECT_FALSE(StringSet().contains(""));
    EXPECT_FALSE(StringSet(std::vector<std::string>{}).contains("a"));
    EXPECT_TRUE(StringSet({"x", "y"}) == StringSet({"y", "x", "y"}));
    EXPECT_FALSE(StringSet({"x", "y"}) == StringSet({"x"}));
}

}  // namespace
}  // namespace sybilwatch::rules
