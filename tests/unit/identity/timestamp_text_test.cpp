#include "identity/timestamp_text.hpp"

#include <gtest/gtest.h>

using sybilwatch::identity::parse_timestamp_text;

TEST(TimestampText, DecimalSecondsAsNginxMsecAndEnvoyPercentS) {
    EXPECT_DOUBLE_EQ(*parse_timestamp_text("1795773579.284"), 1795773579.284);
    EXPECT_DOUBLE_EQ(*parse_timestamp_text("1712345678"), 1712345678.0);
    EXPECT_DOUBLE_EQ(*parse_timestamp_text("0"), 0.0);
}

TEST(TimestampText, Rfc3339WithOffsets) {
    // Expected values from Python's datetime.fromisoformat(...).timestamp().
    EXPECT_DOUBLE_EQ(*parse_timestamp_text("2000-03-01T00:00:00+00:00"), 951868800.0);
    EXPECT_DOUBLE_EQ(*parse_timestamp_text("2024-02-29T12:00:00+01:00"), 1709204400.0);
    EXPECT_DOUBLE_EQ(*parse_timestamp_text("1999-12-31T23:59:59-05:30"), 946704599.0);
    EXPECT_DOUBLE_EQ(*parse_timestamp_text("1970-01-01T00:00:00Z"), 0.0);
    // Envoy's default START_TIME: milliseconds and 'Z'.
    EXPECT_NEAR(*parse_timestamp_text("2024-04-05T12:34:56.789Z"), 1712320496.789, 1e-6);
    EXPECT_NEAR(*parse_timestamp_text("2024-04-05t12:34:56.5z"), 1712320496.5, 1e-6);
    EXPECT_NEAR(*parse_timestamp_text("2024-04-05 12:34:56.25+00:00"), 1712320496.25, 1e-6);
}

TEST(TimestampText, Rejects) {
    for (const char* bad : {"",
                            "-1",
                            "+5",
                            "1e9",
                            ".5",
                            "5.",
                            "1.2.3",
                            " 5",
                            "5 ",
                            "9000000001",
                            "123456789012",
                            "2023-02-29T00:00:00Z",  // not a leap year
                            "2024-13-01T00:00:00Z",
                            "2024-00-10T00:00:00Z",
                            "2024-04-31T00:00:00Z",
                            "2024-04-05T24:00:00Z",
                            "2024-04-05T12:60:00Z",
                            "2024-04-05T12:34:56",  // no offset
                            "2024-04-05T12:34:56.Z",
                            "2024-04-05T12:34:56+0100",
                            "2024-04-05T12:34:56+01:00x",
                            "2024-04-05X12:34:56Z",
                            "1969-12-31T23:59:59Z",
                            "2400-01-01T00:00:00Z"}) {
        EXPECT_FALSE(parse_timestamp_text(bad).has_value()) << bad;
    }
}
