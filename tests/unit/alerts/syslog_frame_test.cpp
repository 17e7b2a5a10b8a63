// RFC 5424 message construction and RFC 6587 octet counting, checked against the examples of
// RFC 5424 section 6.5 and against an independent parser of the section 6 ABNF.
#include "alerts/syslog_frame.hpp"

#include <gtest/gtest.h>

#include "alerts/format.hpp"
#include "siem_test_util.hpp"

namespace sybilwatch::alerts {
namespace {

using test::parse_rfc5424;

TEST(SyslogFrame, PriFromFacilityAndSeverity) {
    // RFC 5424 section 6.2.1: PRI = facility * 8 + severity; its examples use 34 and 165.
    EXPECT_EQ(syslog_pri(SyslogFacility::Auth, SyslogSeverity::Critical), 34u);
    EXPECT_EQ(syslog_pri(SyslogFacility::Local4, SyslogSeverity::Notice), 165u);
    EXPECT_EQ(syslog_pri(SyslogFacility::Kern, SyslogSeverity::Emergency), 0u);
    EXPECT_EQ(syslog_pri(SyslogFacility::Local7, SyslogSeverity::Debug), 191u);
}

TEST(SyslogFrame, Rfc5424Example1WithBom) {
    // Section 6.5 example 1 (its TIMESTAMP has 3 fraction digits; we always write 6).
    SyslogHeader h;
    h.facility = SyslogFacility::Auth;
    h.hostname = "mymachine.example.com";
    h.app_name = "su";
    h.procid = "";
    h.msgid = "ID47";
    h.utf8_bom = true;
    std::string out;
    append_syslog_message(h, SyslogSeverity::Critical, 1065910455'003000000,
                          "'su root' failed for lonvick on /dev/pts/8", out);
    EXPECT_EQ(out,
              "<34>1 2003-10-11T22:14:15.003000Z mymachine.example.com su - ID47 - "
              "\xEF\xBB\xBF'su root' failed for lonvick on /dev/pts/8");
}

TEST(SyslogFrame, Rfc5424Example2Microseconds) {
    // Section 6.5 example 2: 2003-08-24T05:14:15.000003-07:00 is 12:14:15.000003 UTC.
    SyslogHeader h;
    h.facility = SyslogFacility::Local4;
    h.hostname = "192.0.2.1";
    h.app_name = "myproc";
    h.procid = "8710";
    h.msgid = "";
    std::string out;
    append_syslog_message(h, SyslogSeverity::Notice, 1061727255'000003000,
                          "%% It's time to make the do-nuts.", out);
    EXPECT_EQ(out,
              "<165>1 2003-08-24T12:14:15.000003Z 192.0.2.1 myproc 8710 - - "
              "%% It's time to make the do-nuts.");
    const auto p = parse_rfc5424(out);
    ASSERT_TRUE(p);
    EXPECT_EQ(p->pri, 165u);
    EXPECT_EQ(p->msgid, "-");
    EXPECT_EQ(p->sd, "-");
    EXPECT_EQ(p->msg, "%% It's time to make the do-nuts.");
}

TEST(SyslogFrame, TimestampEdges) {
    std::string t;
    append_syslog_timestamp(0, t);
    EXPECT_EQ(t, "1970-01-01T00:00:00.000000Z");
    t.clear();
    append_syslog_timestamp(-1, t);  // just before the epoch: floor, not truncation toward 0
    EXPECT_EQ(t, "1969-12-31T23:59:59.999999Z");
    t.clear();
    append_syslog_timestamp(951782400'000000999, t);  // 2000-02-29 (leap day), ns dropped
    EXPECT_EQ(t, "2000-02-29T00:00:00.000000Z");
}

TEST(SyslogFrame, EmptyMessageEndsAfterStructuredData) {
    SyslogHeader h;
    h.hostname = "edge-1";
    h.procid = "42";
    std::string out;
    append_syslog_message(h, SyslogSeverity::Warning, 0, "", out);
    EXPECT_EQ(out, "<132>1 1970-01-01T00:00:00.000000Z edge-1 sybilwatchd 42 finding -");
    EXPECT_TRUE(parse_rfc5424(out));
}

TEST(SyslogFrame, OctetCounting) {
    // RFC 6587 section 3.4.1: MSG-LEN is the octet count of SYSLOG-MSG, then one SP.
    std::string out;
    append_octet_counted("<13>1 - - - - - -", out);
    append_octet_counted("<13>1 - - - - - - h\xC3\xA9", out);  // counts bytes, not characters
    EXPECT_EQ(out, "17 <13>1 - - - - - -21 <13>1 - - - - - - h\xC3\xA9");
}

TEST(SyslogFrame, HeaderFieldChecks) {
    EXPECT_EQ(check_syslog_header_field("", kSyslogAppNameMax, "app"), "");
    EXPECT_EQ(check_syslog_header_field(std::string(48, 'a'), kSyslogAppNameMax, "app"), "");
    EXPECT_NE(check_syslog_header_field(std::string(49, 'a'), kSyslogAppNameMax, "app"), "");
    EXPECT_NE(check_syslog_header_field(std::string(256, 'h'), kSyslogHostnameMax, "host"), "");
    EXPECT_NE(check_syslog_header_field("my app", kSyslogAppNameMax, "app"), "");
    EXPECT_NE(check_syslog_header_field("caf\xC3\xA9", kSyslogMsgIdMax, "msgid"), "");
    EXPECT_NE(check_syslog_header_field("a\x7F", kSyslogMsgIdMax, "msgid"), "");
    EXPECT_EQ(check_syslog_header_field("~!", kSyslogMsgIdMax, "msgid"), "");  // %d126, %d33
    const std::string why = check_syslog_header_field("my app", 48, "syslog app_name");
    EXPECT_NE(why.find("syslog app_name"), std::string::npos);
}

TEST(SyslogFrame, SanitizeHostname) {
    EXPECT_EQ(sanitize_syslog_header_field("edge 1\n", kSyslogHostnameMax), "edge_1_");
    EXPECT_EQ(sanitize_syslog_header_field("", kSyslogHostnameMax), "-");
    EXPECT_EQ(sanitize_syslog_header_field(std::string(300, 'x'), kSyslogHostnameMax).size(), 255u);
}

TEST(SyslogFrame, FacilityAndSeverityNames) {
    EXPECT_EQ(parse_syslog_facility("local4"), SyslogFacility::Local4);
    EXPECT_EQ(parse_syslog_facility("AUTHPRIV"), SyslogFacility::Authpriv);
    EXPECT_EQ(parse_syslog_facility("23"), SyslogFacility::Local7);
    EXPECT_FALSE(parse_syslog_facility("24"));
    EXPECT_FALSE(parse_syslog_facility(""));
    EXPECT_FALSE(parse_syslog_facility("local8"));
    EXPECT_EQ(parse_syslog_severity("crit"), SyslogSeverity::Critical);
    EXPECT_EQ(parse_syslog_severity("Warning"), SyslogSeverity::Warning);
    EXPECT_FALSE(parse_syslog_severity("loud"));
}

TEST(SyslogFrame, Utf8PrefixNeverSplitsACharacter) {
    EXPECT_EQ(utf8_prefix_length("abc", 10), 3u);
    EXPECT_EQ(utf8_prefix_length("abc", 2), 2u);
    EXPECT_EQ(utf8_prefix_length("a\xC3\xA9", 2), 1u);  // é cut in half
    EXPECT_EQ(utf8_prefix_length("a\xC3\xA9", 3), 3u);
    EXPECT_EQ(utf8_prefix_length("\xE2\x82\xAC!", 2), 0u);  // €
    EXPECT_EQ(utf8_prefix_length("\xE2\x82\xAC!", 3), 3u);
    EXPECT_EQ(utf8_prefix_length("x\xF0\x9F\x98\x80y", 4), 1u);  // 😀
    EXPECT_EQ(utf8_prefix_length("x\xF0\x9F\x98\x80y", 5), 5u);
}

TEST(SyslogFrame, SeverityOfRenderedFindings) {
    // Every format the alerts module renders says the finding's severity in a way the syslog
    // transport reads back into the frame's PRI.
    for (const auto sev : {rules::Severity::Info, rules::Severity::Low, rules::Severity::Medium,
                           rules::Severity::High, rules::Severity::Critical}) {
        const rules::Finding f = test::sample_finding(sev);
        for (const auto fmt : {Format::Json, Format::Ocsf, Format::Ecs, Format::Cef}) {
            std::string payload;
            render(f, fmt, payload);
            const auto got = payload_syslog_severity(payload);
            ASSERT_TRUE(got) << to_string(fmt) << " " << rules::to_string(sev) << ": " << payload;
            EXPECT_EQ(*got, syslog_severity(sev)) << to_string(fmt) << " " << rules::to_string(sev);
        }
    }
}

TEST(SyslogFrame, SeverityOfOddPayloads) {
    EXPECT_FALSE(payload_syslog_severity(""));
    EXPECT_FALSE(payload_syslog_severity("plain text"));
    EXPECT_FALSE(payload_syslog_severity("{\"severity\":"));   // truncated JSON
    EXPECT_FALSE(payload_syslog_severity("CEF:0|a|b|c|d|e"));  // header cut short
    // Nested "severity" keys are not the finding's.
    EXPECT_FALSE(payload_syslog_severity("{\"x\":{\"severity\":\"high\"}}"));
    EXPECT_EQ(payload_syslog_severity("{\"x\":{\"severity\":\"low\"},\"severity\":\"critical\"}"),
              SyslogSeverity::Critical);
    // Escaped pipes in CEF header fields do not shift the Severity column.
    EXPECT_EQ(payload_syslog_severity("CEF:0|V\\|x|P|1|sig|name \\| more|9|src=1"),
              SyslogSeverity::Critical);
    EXPECT_EQ(payload_syslog_severity("CEF:0|V|P|1|sig|name|High|"), SyslogSeverity::Error);
    EXPECT_FALSE(payload_syslog_severity("CEF:0|V|P|1|sig|name|11|"));
}

}  // namespace
}  // namespace sybilwatch::alerts
