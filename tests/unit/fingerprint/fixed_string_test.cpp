#include "fingerprint/fixed_string.hpp"

#include <gtest/gtest.h>

#include <string>

namespace sybilwatch::fingerprint {
namespace {

TEST(FixedString, StoresWhatFits) {
    FixedString<8> s;
    EXPECT_TRUE(s.assign("abc"));
    EXPECT_EQ(s.view(), "abc");
    EXPECT_TRUE(s.assign("12345678"));
    EXPECT_EQ(s.size(), 8u);
}

TEST(FixedString, TooLongIsAbsentNotTruncated) {
    FixedString<8> s;
    s.assign("abc");
    EXPECT_FALSE(s.assign("123456789"));
    EXPECT_TRUE(s.empty());
}

// Found by fuzz_engine under UBSan: an empty view with a null pointer reached memcpy.
TEST(FixedString, EmptyViewWithNullPointer) {
    FixedString<8> s;
    s.assign("abc");
    EXPECT_TRUE(s.assign(std::string_view{}));
    EXPECT_TRUE(s.empty());
}

}  // namespace
}  // namespace sybilwatch::fingerprint
