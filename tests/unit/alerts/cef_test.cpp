// CEF: header escaping (\ and |), extension escaping (\ = and line breaks), the severity scale,
// and every value read back unchanged by a parser that follows the CEF rules.
#include <gtest/gtest.h>

#include <map>

#include "alerts/cef.hpp"
#include "unit/alerts/finding_fixture.hpp"

namespace sybilwatch::alerts {
namespace {

// Splits the 7 header fields on unescaped '|' and unescapes them.
std::vector<std::string> header_fields(const std::string& line, size_t& ext_start) {
    std::vector<std::string> f(1);
    size_t i = 0;
    for (; i < line.size() && f.size() < 8; ++i) {
        if (line[i] == '\\' && i + 1 < line.size()) {
            f.back().push_back(line[++i]);
        } else if (line[i] == '|') {
            f.emplace_back();
        } else {
            f.back().push_back(line[i]);
        }
    }
    ext_start = i;
    f.pop_back();  // the extension part's (empty) start
    return f;
}

// key=value pairs: a key is the word before an unescaped '='; a value runs to the space before
// the next key. Escapes: \\ \= \n \r.
std::map<std::string, std::string> extensions(const std::string& s) {
    std::vector<size_t> eq;
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '\\') {
            ++i;
            continue;
        }
        if (s[i] == '=') eq.push_back(i);
    }
    std::map<std::string, std::string> out;
    for (size_t k = 0; k < eq.size(); ++k) {
        const size_t key_start =
            s.rfind(' ', eq[k]) == std::string::npos ? 0 : s.rfind(' ', eq[k]) + 1;
        const std::string key = s.substr(key_start, eq[k] - key_start);
        size_t end = s.size();
        if (k + 1 < eq.size()) end = s.rfind(' ', eq[k + 1]);
        std::string raw = s.substr(eq[k] + 1, end - eq[k] - 1), v;
        for (size_t i = 0; i < raw.size(); ++i) {
            if (raw[i] == '\\' && i + 1 < raw.size()) {
                const char c = raw[++i];
                v.push_back(c == 'n' ? '\n' : c == 'r' ? '\r' : c);
            } else {
                v.push_back(raw[i]);
            }
        }
        out[key] = v;
    }
    return out;
}

TEST(Cef, EscapingRules) {
    std::string out;
    cef_escape_header("a|b\\c\nd", out);
    EXPECT_EQ(out, "a\\|b\\\\c d");
    out.clear();
    cef_escape_extension("a=b\\c|d\r\ne", out);
    EXPECT_EQ(out, "a\\=b\\\\c|d\\r\\ne");  // '|' needs no escape in extensions
}

TEST(Cef, SeverityScale) {
    EXPECT_EQ(cef_severity(rules::Severity::Info), 1);
    EXPECT_EQ(cef_severity(rules::Severity::Low), 3);
    EXPECT_EQ(cef_severity(rules::Severity::Medium), 5);
    EXPECT_EQ(cef_severity(rules::Severity::High), 8);
    EXPECT_EQ(cef_severity(rules::Severity::Critical), 10);
}

TEST(Cef, RendersTheFinding) {
    const rules::Finding f = test::farm_finding();
    FormatOptions o;
    o.product_version = "0.1.0";
    o.hostname = "edge-7";
    std::string line;
    render_cef(f, line, o);
    ASSERT_EQ(line.rfind("CEF:0|sybilwatch|sybilwatchd|0.1.0|link-shared-client-stack|", 0), 0u);
    size_t ext = 0;
    const auto h = header_fields(line, ext);
    ASSERT_EQ(h.size(), 7u);
    EXPECT_EQ(h[5], f.title);
    EXPECT_EQ(h[6], "8");
    const auto x = extensions(line.substr(ext));
    EXPECT_EQ(x.at("rt"), std::to_string((test::kT0 + 2'500'000'000) / 1'000'000));
    EXPECT_EQ(x.at("start"), std::to_string(test::kT0 / 1'000'000));
    EXPECT_EQ(x.at("externalId"), f.finding_id);
    EXPECT_EQ(x.at("act"), "update");
    EXPECT_EQ(x.at("msg"), f.output);
    EXPECT_EQ(x.at("src"), "172.27.7.31");
    EXPECT_EQ(x.at("spt"), "54524");
    EXPECT_EQ(x.at("dst"), "13.107.21.239");
    EXPECT_EQ(x.at("dpt"), "443");
    EXPECT_EQ(x.at("suser"), "acct-1001");
    EXPECT_EQ(x.at("dhost"), "edge.microsoft.com");
    EXPECT_EQ(x.at("cs1Label"), "ja4");
    EXPECT_EQ(x.at("cs1"), "t13d1516h2_8daaf6152771_e5627efa2ab1");
    EXPECT_EQ(x.at("cs2"), "64240_2-1-3-1-1-4_1460_8");
    EXPECT_EQ(x.at("cs3Label"), "accounts");
    EXPECT_EQ(x.at("cs3"), "acct-1001,acct-1002,acct-1003");
    EXPECT_EQ(x.at("cs5"), "ja4:t13d1516h2_8daaf6152771_e5627efa2ab1(3)");
    // The p0f signature has '=' nowhere but ':' and ',' everywhere; read back whole.
    EXPECT_EQ(x.at("cs6"), f.samples[0].tcp_sig);
    EXPECT_EQ(x.at("cn1"), "3");
    EXPECT_EQ(x.at("cn2"), "2");
    EXPECT_EQ(x.at("dvchost"), "edge-7");
}

TEST(Cef, HostileValuesRoundTrip) {
    rules::Finding f = test::farm_finding();
    f.rule = "rule|with\\pipes";
    f.title = "title | with = and \\ and\nnewline";
    f.output = "msg=with\\ \"everything\" | \r\n in it ";
    f.samples[0].account = "acct=1 cs1=spoofed";
    f.samples[0].user_agent = "UA\\ends\\";
    std::string line;
    render_cef(f, line);
    EXPECT_EQ(line.find('\n'), std::string::npos);
    size_t ext = 0;
    const auto h = header_fields(line, ext);
    ASSERT_EQ(h.size(), 7u);
    EXPECT_EQ(h[4], "rule|with\\pipes");
    EXPECT_EQ(h[5], "title | with = and \\ and newline");
    const auto x = extensions(line.substr(ext));
    EXPECT_EQ(x.at("msg"), f.output);
    EXPECT_EQ(x.at("suser"), f.samples[0].account);  // no injected cs1
    EXPECT_EQ(x.at("cs1"), "t13d1516h2_8daaf6152771_e5627efa2ab1");
    EXPECT_EQ(x.at("requestClientApplication"), "UA\\ends\\");
}

}  // namespace
}  // namespace sybilwatch::alerts
