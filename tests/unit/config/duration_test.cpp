#include "config/duration.hpp"

#include <gtest/gtest.h>

#include <limits>

namespace sybilwatch::config {
namespace {

TEST(Duration, ParsesEveryUnit) {
    EXPECT_EQ(parse_duration("250ms"), 250'000'000);
    EXPECT_EQ(parse_duration("5s"), 5'000'000'000);
    EXPECT_EQ(parse_duration("2m"), 120'000'000'000);
    EXPECT_EQ(parse_duration("1h"), 3'600'000'000'000);
    EXPECT_EQ(parse_duration("7us"), 7'000);
    EXPECT_EQ(parse_duration("9ns"), 9);
    EXPECT_EQ(parse_duration("0s"), 0);
}

TEST(Duration, RejectsMalformed) {
    for (const char* bad : {"", "5", "s", "-5s", "5 s", "5S", "1.5s", "5sec", "5mss", " 5s", "5s "})
        EXPECT_FALSE(parse_duration(bad).has_value()) << bad;
}

TEST(Duration, RejectsOverflow) {
    // int64 nanoseconds end after about 292 years (2562047 h).
    EXPECT_TRUE(parse_duration("2562047h").has_value());
    EXPECT_FALSE(parse_duration("2562048h").has_value());
    EXPECT_FALSE(parse_duration("99999999999999999999s").has_value());
    EXPECT_EQ(parse_duration("9223372036854775807ns"), std::numeric_limits<int64_t>::max());
    EXPECT_FALSE(parse_duration("9223372036854775808ns").has_value());
}

TEST(Duration, FormatsInTheLargestWholeUnit) {
    EXPECT_EQ(format_duration(300'000'000'000), "5m");
    EXPECT_EQ(format_duration(90'000'000'000), "90s");
    EXPECT_EQ(format_duration(250'000'000), "250ms");
    EXPECT_EQ(format_duration(3'600'000'000'000), "1h");
    EXPECT_EQ(format_duration(1'500), "1500ns");
    EXPECT_EQ(format_duration(0), "0s");
    for (int64_t ns :
         {int64_t{1}, int64_t{1'000}, int64_t{61'000'000'000}, int64_t{7'200'000'000'000}})
        EXPECT_EQ(parse_duration(format_duration(ns)), ns);
}

}  // namespace
}  // namespace sybilwatch::config
