#include "identity/syslog_header.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "identity/record_parser.hpp"

using namespace sybilwatch::identity;

TEST(SyslogHeader, RealNginxDatagrams) {
    // What nginx 1.22.1 sent to syslog:server=unix:..., with and without nohostname.
    std::ifstream in(std::string(SW_SOURCE_DIR) +
                     "/tests/unit/identity/testdata/nginx-1.22.1-syslog-datagrams.txt");
    int n = 0;
    for (std::string d; std::getline(in, d); ++n) {
        const std::string_view msg = strip_syslog_header(d);
        ASSERT_FALSE(msg.empty());
        EXPECT_EQ(msg.front(), '{');
        AttributionRecord r;
        ASSERT_EQ(parse_record(msg, r), ParseResult::Ok) << msg;
        EXPECT_EQ(r.account, "alice");
        EXPECT_EQ(r.client_port, 46422);
    }
    EXPECT_EQ(n, 2);
}

TEST(SyslogHeader, OtherInputsUnchangedOrCut) {
    EXPECT_EQ(strip_syslog_header(R"({"ts":1})"), R"({"ts":1})");
    EXPECT_EQ(strip_syslog_header("<abc>{x}"), "<abc>{x}");
    EXPECT_EQ(strip_syslog_header("<12345>{x}"), "<12345>{x}");
    EXPECT_EQ(strip_syslog_header("<1"), "<1");
    EXPECT_EQ(strip_syslog_header(""), "");
    // RFC 5424 header with structured data "-".
    EXPECT_EQ(strip_syslog_header("<165>1 2024-04-05T12:34:56Z host app - - - {\"a\":1}"),
              "{\"a\":1}");
    // No object after the header: what follows it, for the parser to reject.
    EXPECT_EQ(strip_syslog_header("<13>Nov 27 09:59:47 host: plain"),
              "Nov 27 09:59:47 host: plain");
}
