// The condition language: every operator, precedence, absent fields, derived fields, key
// extraction, thresholds and output templates, evaluated against observations.
#include <gtest/gtest.h>

#include <array>
#include <cmath>

#include "rules/field.hpp"
#include "rules/threshold.hpp"
#include "rules_test_util.hpp"

using namespace sybilwatch;
using namespace sybilwatch::rules;
using namespace sybilwatch::rules::test;

namespace {

bool holds(const std::string& cond, const fingerprint::Observation& o,
           const std::string& prelude = "", std::string_view account = "acct-1") {
    OneRule r(cond, prelude);
    EXPECT_TRUE(r.result.ok()) << cond << "\n" << errors_of(r.result);
    const identity::AttributedObservation a{o, account, "curl/8.5.0", "req-9"};
    return r.eval(EvalContext(a));
}

}  // namespace

TEST(RulesLanguage, Comparisons) {
    const auto o = browser_obs();
    EXPECT_TRUE(holds("ja4 = t13d1516h2_8daaf6152771_e5627efa2ab1", o));
    EXPECT_TRUE(holds("ja4 == \"t13d1516h2_8daaf6152771_e5627efa2ab1\"", o));
    EXPECT_FALSE(holds("ja4 != t13d1516h2_8daaf6152771_e5627efa2ab1", o));
    EXPECT_TRUE(holds("dst_port = 443", o));
    EXPECT_TRUE(holds("dst_port != 80", o));
    EXPECT_TRUE(holds("ttl < 65 and ttl <= 64 and ttl > 63 and ttl >= 64", o));
    EXPECT_FALSE(holds("ttl < 64", o));
    EXPECT_TRUE(holds("rtt_ms > 27.2 and rtt_ms < 27.4", o));
    EXPECT_TRUE(holds("client_bytes >= 4096 and server_bytes = 100000", o));
    EXPECT_TRUE(holds("requests = 12 and responses = 12", o));
}

TEST(RulesLanguage, StringOperators) {
    const auto o = browser_obs();
    EXPECT_TRUE(holds("sni startswith api.", o));
    EXPECT_FALSE(holds("sni startswith example", o));
    EXPECT_TRUE(holds("sni endswith .example.com", o));
    EXPECT_TRUE(holds("sni contains example", o));
    EXPECT_FALSE(holds("sni contains EXAMPLE", o));
    EXPECT_TRUE(holds("sni icontains EXAMPLE", o));
    EXPECT_TRUE(holds("user_agent icontains CURL", o));
    EXPECT_TRUE(holds("sni pmatch (www., api.)", o));
    EXPECT_FALSE(holds("sni pmatch (www., cdn.)", o));
    EXPECT_TRUE(holds("ja4 regex \"^t13d[0-9]{4}h2_\"", o));
    EXPECT_FALSE(holds("ja4 regex \"^q13\"", o));
    EXPECT_TRUE(holds("tcp_sig contains \"mss*44\"", o));
    EXPECT_TRUE(holds("transport = tcp and alpn = h2", o));
}

TEST(RulesLanguage, InListsAndNamedLists) {
    const auto o = browser_obs();
    const std::string lists =
        "- list: browsers\n  items: [t13d1516h2_8daaf6152771_02713d6af862, "
        "t13d1516h2_8daaf6152771_e5627efa2ab1]\n"
        "- list: more\n  items: [browsers, t13d1517h2_8daaf6152771_b0da82dd1658]\n"
        "- list: web_ports\n  items: [443, 8443]\n";
    EXPECT_TRUE(holds("ja4 in (browsers)", o, lists));
    EXPECT_TRUE(holds("ja4 in (more)", o, lists));  // a list naming a list
    EXPECT_FALSE(holds("ja4 not in (more)", o, lists));
    EXPECT_TRUE(holds("ja4 in (x, t13d1516h2_8daaf6152771_e5627efa2ab1)", o));
    EXPECT_FALSE(holds("ja4 in ()", o));
    EXPECT_TRUE(holds("dst_port in (web_ports)", o, lists));
    EXPECT_TRUE(holds("dst_port not in (80, 8080)", o, lists));
    // A quoted item is a value, never a list name.
    EXPECT_FALSE(holds("ja4 in (\"browsers\")", o, lists));
}

TEST(RulesLanguage, AddressesNetworksAndCidr) {
    const auto o = browser_obs();
    EXPECT_TRUE(holds("ip = 198.51.100.23", o));
    EXPECT_TRUE(holds("src = 198.51.100.23", o));
    EXPECT_TRUE(holds("ip != 198.51.100.24", o));
    EXPECT_TRUE(holds("ip in (10.0.0.0/8, 198.51.100.0/24)", o));
    EXPECT_TRUE(holds("ip in (198.51.100.23)", o));
    EXPECT_FALSE(holds("ip in (10.0.0.0/8, 2001:db8::/32)", o));
    EXPECT_TRUE(holds("ip not in (10.0.0.0/8)", o));
    EXPECT_TRUE(holds("dst in (192.0.2.0/24)", o));
    EXPECT_TRUE(holds("net24 = 198.51.100.0/24", o));
    EXPECT_TRUE(holds("net24 in (198.51.0.0/16)", o));
    EXPECT_FALSE(holds("net24 in (198.51.100.0/25)", o));  // a /25 does not hold the /24
    EXPECT_FALSE(holds("net48 exists", o));                // IPv4 client

    auto v6 = browser_obs();
    v6.src = net::IpAddress::parse("2001:db8:1234:5678::9");
    EXPECT_TRUE(holds("ip in (2001:db8::/32)", v6));
    EXPECT_TRUE(holds("net24 = 2001:db8:1234::/48 and net48 = 2001:db8:1234::/48", v6));
    EXPECT_FALSE(holds("ip in (198.51.100.0/24)", v6));
}

TEST(RulesLanguage, ExistsAndAbsentFields) {
    auto o = browser_obs();
    o.ja4t.clear();
    o.rtt_us = -1;
    EXPECT_TRUE(holds("ja4 exists", o));
    EXPECT_FALSE(holds("ja4t exists", o));
    EXPECT_TRUE(holds("not ja4t exists", o));
    // Every predicate but exists is false on an absent field, != and not in included.
    EXPECT_FALSE(holds("ja4t != x", o));
    EXPECT_FALSE(holds("ja4t not in (x)", o));
    EXPECT_FALSE(holds("rtt_ms < 1000", o));
    EXPECT_FALSE(holds("rtt_ms >= 0", o));
    EXPECT_TRUE(holds("not (ja4t = x)", o));
    EXPECT_FALSE(holds("account exists", o, "", ""));  // unattributed
    EXPECT_TRUE(holds("account = acct-1", o));
}

TEST(RulesLanguage, Precedence) {
    const auto o = browser_obs();
    // not > and > or.
    EXPECT_TRUE(holds("dst_port = 80 and ttl = 1 or ja4 exists", o));     // (F and F) or T
    EXPECT_FALSE(holds("dst_port = 80 and (ttl = 1 or ja4 exists)", o));  // F and (...)
    EXPECT_TRUE(holds("ja4 exists or dst_port = 80 and ttl = 1", o));     // T or (F and F)
    EXPECT_FALSE(holds("not ja4 exists and dst_port = 443", o));          // (not T) and T
    EXPECT_TRUE(holds("not (ja4 exists and dst_port = 80)", o));
    EXPECT_TRUE(holds("not not ja4 exists", o));
    EXPECT_TRUE(holds("((((ja4 exists))))", o));
}

TEST(RulesLanguage, MacrosNestAndInline) {
    const auto o = browser_obs();
    const std::string prelude =
        "- macro: tls_client\n  condition: ja4 exists and transport = tcp\n"
        "- macro: from_doc_net\n  condition: ip in (198.51.100.0/24)\n"
        "- macro: suspicious\n  condition: tls_client and from_doc_net and not dst_port = 80\n";
    EXPECT_TRUE(holds("suspicious", o, prelude));
    EXPECT_FALSE(holds("not suspicious", o, prelude));
    EXPECT_TRUE(holds("suspicious and (tls_client or ttl = 0)", o, prelude));
}

TEST(RulesLanguage, DerivedFields) {
    const auto o = browser_obs();
    const EvalContext ctx(o);
    EXPECT_DOUBLE_EQ(ctx.get(FieldId::RttMs).num, 27.3);
    EXPECT_DOUBLE_EQ(ctx.get(FieldId::GapMeanMs).num, 100.0);
    EXPECT_NEAR(ctx.get(FieldId::GapStddevMs).num, 10.0, 1e-9);  // sample stddev of 90/100/110
    EXPECT_NEAR(ctx.get(FieldId::GapCv).num, 0.1, 1e-9);
    EXPECT_DOUBLE_EQ(ctx.get(FieldId::DurationMs).num, 5000.0);
    EXPECT_DOUBLE_EQ(ctx.get(FieldId::Ts).num, 1'700'000'000.0);
    EXPECT_EQ(ctx.get(FieldId::Hour).num, 22);    // 22:13:20 UTC
    EXPECT_EQ(ctx.get(FieldId::Weekday).num, 2);  // Tuesday
    EXPECT_TRUE(holds("hour = 22 and weekday = 2 and gap_cv < 0.2", o));

    fingerprint::Observation one_gap = browser_obs();
    one_gap.cadence = {};
    one_gap.cadence.add_gap(5000);
    const EvalContext c1(one_gap);
    EXPECT_TRUE(c1.get(FieldId::GapMeanMs).present);
    EXPECT_FALSE(c1.get(FieldId::GapStddevMs).present);
    EXPECT_FALSE(c1.get(FieldId::GapCv).present);
}

TEST(RulesLanguage, KeyTextAndHash) {
    const auto o = browser_obs();
    const identity::AttributedObservation a{o, "acct-1", "", ""};
    const EvalContext ctx(a);
    std::array<char, kKeyTextMax> buf;
    EXPECT_EQ(key_text(ctx, {FieldId::Net24, 0}, buf), "198.51.100.0/24");
    EXPECT_EQ(key_text(ctx, {FieldId::Ip, 0}, buf), "198.51.100.23");
    EXPECT_EQ(key_text(ctx, {FieldId::DstPort, 0}, buf), "443");
    EXPECT_EQ(key_text(ctx, {FieldId::RttMs, 0}, buf), "27.3");
    EXPECT_EQ(key_text(ctx, {FieldId::RttMs, 5}, buf), "25");
    EXPECT_EQ(key_text(ctx, {FieldId::Ja4, 0}, buf), "t13d1516h2_8daaf6152771_e5627efa2ab1");
    EXPECT_FALSE(key_text(ctx, {FieldId::Ja4t, 0}, buf).has_value());

    std::string why;
    const auto b = parse_key_item("bucket(rtt_ms, 5)", why);
    ASSERT_TRUE(b) << why;
    EXPECT_EQ(key_name(*b), "bucket(rtt_ms, 5)");
    EXPECT_FALSE(parse_key_item("bucket(ja4, 5)", why));
    EXPECT_NE(why.find("numeric"), std::string::npos);
    EXPECT_FALSE(parse_key_item("ja44", why));
    EXPECT_NE(why.find("did you mean 'ja4'"), std::string::npos);

    // Tuples: text joined with '|', hash order-sensitive, absent member = no key.
    const std::vector<KeyItem> t1{{FieldId::Ja4, 0}, {FieldId::Net24, 0}};
    const std::vector<KeyItem> t2{{FieldId::Net24, 0}, {FieldId::Ja4, 0}};
    std::string text = "x";
    ASSERT_TRUE(append_key_text(ctx, t1, text));
    EXPECT_EQ(text, "xt13d1516h2_8daaf6152771_e5627efa2ab1|198.51.100.0/24");
    EXPECT_EQ(key_name(t1), "ja4+net24");
    EXPECT_NE(*key_hash(ctx, t1), *key_hash(ctx, t2));
    EXPECT_FALSE(key_hash(ctx, std::vector<KeyItem>{{FieldId::Ja4t, 0}}).has_value());

    // Same bucket, same hash; the neighbouring bucket differs. Hashes do not depend on the
    // process (a fixed value guards against an accidental seed).
    auto o2 = browser_obs();
    o2.rtt_us = 29'900;
    const EvalContext ctx2(o2);
    EXPECT_EQ(key_hash(ctx, *b), key_hash(ctx2, *b));
    o2.rtt_us = 30'000;
    EXPECT_NE(key_hash(ctx, *b), key_hash(EvalContext(o2), *b));
    const uint8_t bytes[] = {'j', 'a', '4'};
    EXPECT_EQ(hash_bytes(bytes, 0), hash_bytes(bytes, 0));
    EXPECT_NE(hash_bytes(bytes, 0), hash_bytes(bytes, 1));
}

TEST(RulesLanguage, Thresholds) {
    MeasureTable t;
    Threshold th;
    size_t off = 0;
    std::string err;
    ASSERT_TRUE(th.compile("distinct(account) >= 20 and distinct(net24) >= 10", t, off, err))
        << err;
    ASSERT_EQ(t.refs().size(), 2u);
    EXPECT_EQ(measure_name(t.refs()[0]), "distinct(account)");
    EXPECT_EQ(measure_name(t.refs()[1]), "distinct(net24)");
    EXPECT_TRUE(th.eval(std::vector<double>{20, 10}));
    EXPECT_FALSE(th.eval(std::vector<double>{19, 10}));
    EXPECT_FALSE(th.eval(std::vector<double>{20, 9}));

    Threshold ratio;
    ASSERT_TRUE(ratio.compile("sum(requests) / count > 50 or not rate <= 5", t, off, err)) << err;
    ASSERT_EQ(t.refs().size(), 5u);                                  // + sum(requests), count, rate
    EXPECT_TRUE(ratio.eval(std::vector<double>{0, 0, 510, 10, 0}));  // 51 per connection
    EXPECT_FALSE(ratio.eval(std::vector<double>{0, 0, 500, 10, 5}));  // 50, rate 5
    EXPECT_TRUE(ratio.eval(std::vector<double>{0, 0, 500, 10, 6}));
    EXPECT_FALSE(ratio.eval(std::vector<double>{0, 0, 500, 0, 0}));  // x/0: false, not inf

    Threshold arith;
    ASSERT_TRUE(arith.compile("(count + 2) * 2 = 10 and -count < 0", t, off, err)) << err;
    EXPECT_TRUE(arith.eval(std::vector<double>{0, 0, 0, 3, 0}));

    struct Bad {
        const char* text;
        size_t offset;
        const char* message;
    };
    for (const Bad& b :
         {Bad{"count", 0, "must be a comparison"}, Bad{"count >= 5 and", 14, "threshold ends"},
          Bad{"cuont > 5", 0, "did you mean 'count'"},
          Bad{"distinct(acount) > 5", 9, "did you mean 'account'"},
          Bad{"sum(ja4) > 5", 4, "numeric field"}, Bad{"count > 5 and 3", 10, "joins comparisons"},
          Bad{"1 < count < 5", 10, "do not chain"}, Bad{"(count > 5", 0, "unbalanced"}}) {
        Threshold x;
        MeasureTable tt;
        EXPECT_FALSE(x.compile(b.text, tt, off, err)) << b.text;
        EXPECT_EQ(off, b.offset) << b.text << ": " << err;
        EXPECT_NE(err.find(b.message), std::string::npos) << b.text << ": " << err;
    }
}

TEST(RulesLanguage, OutputTemplates) {
    const auto o = browser_obs();
    const identity::AttributedObservation a{o, "acct-1", "", ""};
    const EvalContext ctx(a);
    MeasureTable t;
    OutputTemplate out;
    size_t off = 0;
    std::string err;
    ASSERT_TRUE(
        out.compile("%account_count accounts on %ja4 from %distinct_net24 networks "
                    "(%{rtt_ms}ms, %rate/s, 100%%, ja4t=%ja4t)",
                    OutputTemplate::Measures::All, t, off, err))
        << err;
    ASSERT_EQ(t.refs().size(), 3u);
    std::string s;
    out.render(&ctx, std::vector<double>{25, 11, 0.5}, s);
    EXPECT_EQ(s,
              "25 accounts on t13d1516h2_8daaf6152771_e5627efa2ab1 from 11 networks (27.3ms, "
              "0.500/s, 100%, ja4t=<NA>)");
    s.clear();
    out.render(nullptr, std::vector<double>{25, 11, 0.5}, s);  // no observation
    EXPECT_NE(s.find("on <NA> from"), std::string::npos);

    OutputTemplate bad;
    EXPECT_FALSE(bad.compile("on %ja44", OutputTemplate::Measures::All, t, off, err));
    EXPECT_EQ(off, 4u);
    EXPECT_NE(err.find("did you mean 'ja4'"), std::string::npos) << err;
    EXPECT_FALSE(bad.compile("%count", OutputTemplate::Measures::None, t, off, err));
    EXPECT_NE(err.find("match rules"), std::string::npos) << err;
    EXPECT_FALSE(bad.compile("%sum_requests", OutputTemplate::Measures::CountOnly, t, off, err));
    EXPECT_TRUE(
        bad.compile("%account_count %count", OutputTemplate::Measures::CountOnly, t, off, err));
    EXPECT_FALSE(bad.compile("50% done", OutputTemplate::Measures::All, t, off, err));
    EXPECT_EQ(off, 2u);
}

TEST(RulesLanguage, ExceptionsSuppress) {
    const std::string yaml = R"(- list: office_nets
  items: [198.51.100.0/24]
- rule: r
  desc: d
  condition: ja4 exists
  exceptions:
    - name: office_proxy
      fields: [net24, ja4]
      values: [[198.51.100.0/24, t13d1516h2_8daaf6152771_e5627efa2ab1]]
    - name: lab
      fields: ip
      comps: cidr
      values: [10.0.0.0/8]
    - name: vendors
      fields: [sni, ip]
      comps: [endswith, in]
      values: [[.vendor.test, office_nets]]
)";
    const LoadResult r = load(yaml);
    ASSERT_TRUE(r.ok()) << errors_of(r);
    const RuleSpec& rule = *r.rules.find("r");
    EXPECT_EQ(rule.exception_names, (std::vector<std::string>{"office_proxy", "lab", "vendors"}));
    auto o = browser_obs();
    EXPECT_FALSE(rule.matches(EvalContext(o)));  // office_proxy
    o.ja4.assign("t13d1517h2_8daaf6152771_b0da82dd1658");
    EXPECT_TRUE(rule.matches(EvalContext(o)));
    o.sni.assign("x.vendor.test");
    EXPECT_FALSE(rule.matches(EvalContext(o)));  // vendors
    o.sni.assign("x.vendor.test.evil");
    o.src = net::IpAddress::parse("10.9.8.7");
    EXPECT_FALSE(rule.matches(EvalContext(o)));  // lab
    o.src = net::IpAddress::parse("11.9.8.7");
    EXPECT_TRUE(rule.matches(EvalContext(o)));
}

// Rules whose conditions compile to the same program share one evaluation per observation
// (the engine asks same_as; the default pack's four farm rules have one condition): the same
// text is the same program; another list item, regex or network, or an exception, is not.
TEST(RulesLanguage, SameAsComparesTheCompiledPrograms) {
    const LoadResult r = load(R"y(- list: stacks
  items: [a, b]
- macro: m
  condition: ja4 in (stacks) and not sni regex "^cdn[.]"
- rule: r1
  desc: d
  condition: m and ip in (10.0.0.0/8)
- rule: r2
  desc: d
  kind: aggregate
  condition: m and ip in (10.0.0.0/8)
  group_by: [ja4]
  window: 1h
  threshold: count > 5
- rule: r3
  desc: d
  condition: ja4 in (a, c) and not sni regex "^cdn[.]" and ip in (10.0.0.0/8)
- rule: r4
  desc: d
  condition: ja4 in (stacks) and not sni regex "^cdn[.]x" and ip in (10.0.0.0/8)
- rule: r5
  desc: d
  condition: m and ip in (10.0.0.0/9)
- rule: r6
  desc: d
  condition: m and ip in (10.0.0.0/8)
  exceptions:
    - name: lab
      fields: [account]
      values: [[tester]]
)y");
    ASSERT_TRUE(r.ok()) << errors_of(r);
    const Condition& c1 = r.rules.find("r1")->condition;
    EXPECT_TRUE(c1.same_as(r.rules.find("r2")->condition));
    EXPECT_FALSE(c1.same_as(r.rules.find("r3")->condition));
    EXPECT_FALSE(c1.same_as(r.rules.find("r4")->condition));
    EXPECT_FALSE(c1.same_as(r.rules.find("r5")->condition));
    EXPECT_TRUE(c1.same_as(r.rules.find("r6")->condition));
    EXPECT_TRUE(r.rules.find("r1")->exceptions.same_as(r.rules.find("r2")->exceptions));
    EXPECT_FALSE(r.rules.find("r1")->exceptions.same_as(r.rules.find("r6")->exceptions));
}

// Constants are folded at compile time: an empty list (the pack's local exemption lists ship
// empty) leaves nothing to evaluate, and the results are those of the unfolded program.
TEST(RulesLanguage, ConstantsAndEmptyListsFold) {
    auto o = browser_obs();
    o.ja4t.clear();
    EXPECT_FALSE(holds("ja4 in ()", o));
    EXPECT_TRUE(holds("ja4 not in ()", o));
    EXPECT_FALSE(holds("ja4t not in ()", o));  // absent: false, as with a non-empty list
    EXPECT_FALSE(holds("ip in ()", o));
    EXPECT_TRUE(holds("ip not in ()", o));
    EXPECT_TRUE(holds("not (account in () or ip in ())", o));
    EXPECT_TRUE(holds("not (account in () or ip in ())", o, "", ""));
    EXPECT_TRUE(holds("not not (ja4 exists and (dst_port = 443 and ttl > 0))", o));
    EXPECT_FALSE(holds("ja4 exists and (dst_port = 80 or ip in ())", o));

    const LoadResult r = load(R"y(- list: exempt
  items: []
- rule: folded
  desc: d
  condition: account exists and not (account in (exempt) or ip in (exempt)) and (ja4 exists)
- rule: plain
  desc: d
  condition: account exists and ja4 exists
)y");
    ASSERT_TRUE(r.ok()) << errors_of(r);
    EXPECT_TRUE(r.rules.find("folded")->condition.same_as(r.rules.find("plain")->condition));

    // A child after the one that decides the node is still checked: filling the list later
    // must not be what reveals the typo.
    for (const char* cond : {"ja4 in () and bogus_field = 1", "not ip in () or nosuch_field exists",
                             "not (ip in () and nosuch)"}) {
        const LoadResult bad =
            load(std::string("- rule: r\n  desc: d\n  condition: '") + cond + "'\n");
        EXPECT_FALSE(bad.ok()) << cond;
    }
}
