// Loading rule files: every error names file, line, column and item; all errors of a pack are
// reported; lists and macros work across files; kinds get their parameters.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "rules_test_util.hpp"

using namespace sybilwatch;
using namespace sybilwatch::rules;
using namespace sybilwatch::rules::test;

namespace {

// The single error of `yaml`, checked for place and content.
void expect_error(const std::string& yaml, int line, int column, const std::string& item,
                  const std::string& name, const std::string& fragment) {
    const LoadResult r = load(yaml);
    ASSERT_EQ(r.errors.size(), 1u) << yaml << "\n" << errors_of(r);
    const Diagnostic& d = r.errors[0];
    EXPECT_EQ(d.file, "r.yaml");
    EXPECT_EQ(d.line, line) << d.to_string();
    EXPECT_EQ(d.column, column) << d.to_string();
    EXPECT_EQ(d.item, item) << d.to_string();
    EXPECT_EQ(d.name, name) << d.to_string();
    EXPECT_NE(d.message.find(fragment), std::string::npos) << d.to_string();
}

const char* kRule = "- rule: r\n  desc: d\n";

}  // namespace

TEST(RuleLoader, MessageFormat) {
    const LoadResult r = load(std::string(kRule) + "  condition: ja44 exists\n");
    ASSERT_EQ(r.errors.size(), 1u);
    EXPECT_EQ(r.errors[0].to_string(),
              "r.yaml:3:14: rule r: unknown field 'ja44' (did you mean 'ja4'?)");
}

TEST(RuleLoader, ConditionErrorsPointInsideTheCondition) {
    // Plain scalar: column of the bad word.
    expect_error(std::string(kRule) + "  condition: ja4 exists and dst_port = abc\n", 3, 40, "rule",
                 "r", "expected a number for dst_port");
    // Quoted: the quote shifts it by one.
    expect_error(std::string(kRule) + "  condition: \"ja4 exists and sni < 5\"\n", 3, 30, "rule",
                 "r", "'<' needs a number, but sni is a string");
    // Folded block over lines: the line and column of the word in the file.
    expect_error(
        std::string(kRule) + "  condition: >\n    ja4 exists and\n    not tcp_sgi exists\n", 5, 9,
        "rule", "r", "did you mean 'tcp_sig'");
    // Syntax errors too.
    expect_error(std::string(kRule) + "  condition: ja4 exists and (sni = x\n", 3, 29, "rule", "r",
                 "unbalanced '('");
    expect_error(std::string(kRule) + "  condition: ja4 = \n", 3, 19, "rule", "r",
                 "expected a value after '='");
    expect_error(std::string(kRule) + "  condition: ja4 regex '(['\n", 3, 25, "rule", "r",
                 "bad regex");
    expect_error(std::string(kRule) + "  condition: ja4 ~ x\n", 3, 18, "rule", "r",
                 "expected an operator after 'ja4'");
    expect_error(std::string(kRule) + "  condition: ip = 10.0.0.0/8\n", 3, 19, "rule", "r",
                 "use 'ip in (10.0.0.0/8)'");
    expect_error(std::string(kRule) + "  condition: ip in (10.0.0.1/8)\n", 3, 21, "rule", "r",
                 "host bits set");
    expect_error(std::string(kRule) + "  condition: net24 = 10.0.0.0/16\n", 3, 22, "rule", "r",
                 "/24 (IPv4) or /48");
    expect_error(std::string(kRule) + "  condition: dst_port startswith 4\n", 3, 14, "rule", "r",
                 "'startswith' needs a string field, but dst_port is an int");
    expect_error(std::string(kRule) + "  condition: ja4\n", 3, 14, "rule", "r",
                 "field 'ja4' needs an operator");
    expect_error(std::string(kRule) + "  condition: \"ja4 = 'x\"\n", 3, 21, "rule", "r",
                 "unterminated string");
}

TEST(RuleLoader, TypeErrorsAllReportedInOneCondition) {
    const LoadResult r =
        load(std::string(kRule) + "  condition: sni > 1 or ttl contains x or ip < 1.2.3.4\n");
    ASSERT_EQ(r.errors.size(), 3u) << errors_of(r);
    EXPECT_EQ(r.errors[0].column, 14);
    EXPECT_EQ(r.errors[1].column, 25);
    EXPECT_EQ(r.errors[2].column, 43);
}

TEST(RuleLoader, UnknownKeysWithDidYouMean) {
    expect_error(std::string(kRule) + "  condition: ja4 exists\n  severty: high\n", 4, 3, "rule",
                 "r", "unknown key 'severty' (did you mean 'severity'?)");
    expect_error(std::string(kRule) + "  condition: ja4 exists\n  priority: high\n", 4, 3, "rule",
                 "r", "did you mean 'severity'");
    expect_error(std::string(kRule) + "  condition: ja4 exists\n  severity: hihg\n", 4, 13, "rule",
                 "r", "did you mean 'high'");
    expect_error(std::string(kRule) + "  condition: ja4 exists\n  kind: agregate\n", 4, 9, "rule",
                 "r", "did you mean 'aggregate'");
    expect_error("- rulle: r\n  desc: d\n", 1, 3, "", "", "did you mean 'rule'");
    expect_error("- list: l\n  itmes: [a]\n  items: [a]\n", 2, 3, "list", "l",
                 "did you mean 'items'");
    expect_error(std::string(kRule) + "  condition: ja4 exists\n  enabled: yes\n", 4, 12, "rule",
                 "r", "expected true or false");
    expect_error(std::string(kRule) + "  condition: ja4 exists\n  desc: again\n", 4, 3, "rule", "r",
                 "duplicate key 'desc'");
}

TEST(RuleLoader, MissingAndMisplacedKeys) {
    expect_error("- rule: r\n  condition: ja4 exists\n", 1, 3, "rule", "r", "missing 'desc'");
    expect_error("- rule: r\n  desc: d\n", 1, 3, "rule", "r", "missing 'condition'");
    expect_error(std::string(kRule) + "  condition: ja4 exists\n  group_by: [ja4]\n", 4, 3, "rule",
                 "r", "'group_by' applies to aggregate rules, and this is a match rule");
    expect_error("- rule: Bad-Id\n  desc: d\n  condition: ja4 exists\n", 1, 9, "rule", "Bad-Id",
                 "lower-case letters");
}

TEST(RuleLoader, CollectsEveryErrorOfAPack) {
    const LoadResult r = load(R"(- list: l
  items: [a, b]
- macro: m
  condition: ja4 exist
- rule: one
  desc: d
  condition: sni = x and unknown_thing
- rule: two
  desc: d
  condition: ja4 in (l)
  severity: loud
- rule: three
  desc: d
  kind: aggregate
  condition: ja4 exists
  window: 10 minutes
  threshold: count >
)");
    ASSERT_EQ(r.errors.size(), 5u) << errors_of(r);
    EXPECT_EQ(r.errors[0].item, "macro");
    EXPECT_EQ(r.errors[0].line, 4);
    EXPECT_EQ(r.errors[1].name, "one");
    EXPECT_EQ(r.errors[1].line, 7);
    EXPECT_EQ(r.errors[1].column, 26);
    EXPECT_EQ(r.errors[2].name, "two");
    EXPECT_EQ(r.errors[3].name, "three");
    EXPECT_NE(r.errors[3].message.find("window"), std::string::npos);
    EXPECT_EQ(r.errors[4].line, 17);
    EXPECT_EQ(r.errors[4].column, 21);     // the end of the threshold
    EXPECT_TRUE(r.rules.rules().empty());  // a pack with errors loads nothing
}

TEST(RuleLoader, MacroErrorsReportedOnceAtTheMacro) {
    const LoadResult r = load(R"(- macro: bad
  condition: ttl contains x
- rule: a
  desc: d
  condition: ja4 exists and bad
)");
    ASSERT_EQ(r.errors.size(), 2u) << errors_of(r);
    EXPECT_EQ(r.errors[0].item, "macro");
    EXPECT_EQ(r.errors[0].line, 2);
    EXPECT_EQ(r.errors[0].column, 14);
    EXPECT_EQ(r.errors[1].item, "rule");
    EXPECT_EQ(r.errors[1].line, 5);
    EXPECT_EQ(r.errors[1].column, 29);
    EXPECT_NE(r.errors[1].message.find("macro 'bad' has errors"), std::string::npos);
}

TEST(RuleLoader, MacroCycles) {
    const LoadResult r = load(R"(- macro: a
  condition: ja4 exists and b
- macro: b
  condition: not a
- macro: self
  condition: self or ja4 exists
)");
    ASSERT_EQ(r.errors.size(), 3u) << errors_of(r);
    EXPECT_EQ(r.errors[0].to_string(), "r.yaml:2:29: macro a: macro cycle: a -> b -> a");
    EXPECT_EQ(r.errors[1].to_string(), "r.yaml:4:18: macro b: macro cycle: b -> a -> b");
    EXPECT_EQ(r.errors[2].to_string(), "r.yaml:6:14: macro self: macro cycle: self -> self");
}

TEST(RuleLoader, UndefinedNames) {
    expect_error(std::string(kRule) + "  condition: tls_clinet\n", 3, 14, "rule", "r",
                 "unknown macro or field 'tls_clinet'");
    expect_error("- macro: tls_client\n  condition: ja4 exists\n" + std::string(kRule) +
                     "  condition: tls_clinet\n",
                 5, 14, "rule", "r", "did you mean 'tls_client'");
    expect_error(
        "- list: browsers\n  items: [a]\n" + std::string(kRule) + "  condition: ja4 in (browser)\n",
        5, 22, "rule", "r", "'browser' is not a list (did you mean 'browsers'?");
    expect_error("- list: a\n  items: [b]\n- list: b\n  items: [a]\n" + std::string(kRule) +
                     "  condition: ja4 in (a)\n",
                 4, 11, "rule", "r", "list cycle");
}

TEST(RuleLoader, ListsAndMacrosAcrossFiles) {
    const std::vector<RuleSource> files{
        {"10-base.yaml",
         "- list: farm_ja4\n  items: [t13d1516h2_8daaf6152771_e5627efa2ab1]\n"
         "- macro: farm_client\n  condition: ja4 in (farm_ja4)\n"},
        {"20-local.yaml",
         // Used before it is extended: the final definitions apply everywhere.
         "- rule: farm\n  desc: d\n  condition: farm_client and local_net\n"
         "- list: farm_ja4\n  append: true\n  items: [t13d1517h2_8daaf6152771_b0da82dd1658]\n"
         "- macro: local_net\n  condition: ip in (198.51.100.0/24)\n"},
        {"30-override.yaml", "- rule: farm\n  enabled: false\n"},
    };
    const LoadResult r = load_rules_text(files);
    ASSERT_TRUE(r.ok()) << errors_of(r);
    ASSERT_EQ(r.rules.rules().size(), 1u);
    EXPECT_EQ(r.rules.list_count(), 1u);
    EXPECT_EQ(r.rules.macro_count(), 2u);
    const RuleSpec& farm = r.rules.rules()[0];
    EXPECT_FALSE(farm.enabled);
    EXPECT_EQ(farm.file, "20-local.yaml");
    EXPECT_EQ(farm.line, 1);
    auto o = browser_obs();
    EXPECT_TRUE(farm.matches(EvalContext(o)));
    o.ja4.assign("t13d1517h2_8daaf6152771_b0da82dd1658");  // the appended item
    EXPECT_TRUE(farm.matches(EvalContext(o)));
    o.ja4.assign("t13d1516h2_8daaf6152771_02713d6af862");
    EXPECT_FALSE(farm.matches(EvalContext(o)));

    // Errors name the file they are in.
    const std::vector<RuleSource> bad{{"a.yaml", "- macro: m\n  condition: ja4 exists\n"},
                                      {"b.yaml", std::string(kRule) + "  condition: m and x\n"}};
    const LoadResult rb = load_rules_text(bad);
    ASSERT_EQ(rb.errors.size(), 1u);
    EXPECT_EQ(rb.errors[0].to_string(), "b.yaml:3:20: rule r: unknown macro or field 'x'");
}

TEST(RuleLoader, DuplicatesAndRedefinitions) {
    const LoadResult r =
        load(std::string(kRule) + "  condition: ja4 exists\n" + kRule +
             "  condition: ja4 exists\n" + "- list: l\n  items: [a]\n- list: l\n  items: [b]\n");
    ASSERT_EQ(r.errors.size(), 2u) << errors_of(r);
    EXPECT_EQ(r.errors[0].line, 4);
    EXPECT_NE(r.errors[0].message.find("defined twice"), std::string::npos);
    EXPECT_EQ(r.errors[1].line, 9);
    EXPECT_NE(r.errors[1].message.find("already defined in this file"), std::string::npos);
    expect_error("- macro: ja4\n  condition: sni exists\n", 1, 10, "macro", "ja4",
                 "cannot name a macro");
}

TEST(RuleLoader, YamlProblems) {
    expect_error("- rule: r\n  desc: [unclosed\n", 3, 1, "", "", "YAML syntax error");
    expect_error("rule: r\n", 1, 1, "", "", "a rule file is a list of items");
    expect_error("- just a string\n", 1, 3, "", "", "expected an item");
    const LoadResult empty = load("# nothing yet\n---\n");
    EXPECT_TRUE(empty.ok()) << errors_of(empty);
}

TEST(RuleLoader, AggregateParams) {
    const LoadResult r = load(R"(- macro: tls_client
  condition: ja4 exists
- rule: proxy_rotation
  desc: One client stack, many accounts, many networks
  kind: aggregate
  condition: tls_client and account exists
  severity: high
  tags: [farm, proxy]
  output: "%account_count accounts on %ja4 from %distinct_net24 networks"
  group_by: [ja4, bucket(rtt_ms, 5)]
  window: 1h
  threshold: distinct(account) >= 20 and distinct(net24) >= 10
)");
    ASSERT_TRUE(r.ok()) << errors_of(r);
    const RuleSpec& s = *r.rules.find("proxy_rotation");
    EXPECT_EQ(s.kind, RuleKind::Aggregate);
    EXPECT_EQ(s.severity, Severity::High);
    EXPECT_EQ(s.tags, (std::vector<std::string>{"farm", "proxy"}));
    EXPECT_EQ(s.window_ns, 3600LL * 1'000'000'000);
    ASSERT_EQ(s.group_by.size(), 2u);
    EXPECT_EQ(key_name(s.group_by), "ja4+bucket(rtt_ms, 5)");
    ASSERT_EQ(s.measures.size(), 2u);  // shared by threshold and output
    EXPECT_EQ(measure_name(s.measures[0]), "distinct(account)");
    EXPECT_EQ(measure_name(s.measures[1]), "distinct(net24)");
    EXPECT_TRUE(s.threshold.eval(std::vector<double>{20, 10}));
    EXPECT_FALSE(s.threshold.eval(std::vector<double>{20, 9}));
    const auto o = browser_obs();
    const identity::AttributedObservation a{o, "acct-1", "", ""};
    const EvalContext ctx(a);
    EXPECT_TRUE(s.matches(ctx));
    std::string out;
    s.output.render(&ctx, std::vector<double>{20, 10}, out);
    EXPECT_EQ(out, "20 accounts on t13d1516h2_8daaf6152771_e5627efa2ab1 from 10 networks");

    expect_error(std::string(kRule) +
                     "  kind: aggregate\n  condition: ja4 exists\n  window: 1h\n"
                     "  threshold: count > 1\n  group_by: [ja4, ja4]\n",
                 7, 19, "rule", "r", "listed twice");
    expect_error(std::string(kRule) +
                     "  kind: aggregate\n  condition: ja4 exists\n  window: 0s\n"
                     "  threshold: count > 1\n",
                 5, 11, "rule", "r", "positive");
    expect_error(std::string(kRule) +
                     "  kind: aggregate\n  condition: ja4 exists\n  window: 1h\n"
                     "  threshold: count > 1\n  output: \"%ja4 seen %cuont times\"\n",
                 7, 23, "rule", "r", "did you mean 'count'");
}

TEST(RuleLoader, LinkAndSynchronyParams) {
    const LoadResult r = load(R"(- rule: shared_stack
  desc: Accounts linked through client stacks and addresses
  kind: link
  condition: account exists
  link_on:
    - [ja4, ja4t, bucket(rtt_ms, 5)]
    - ip
  window: 24h
  max_accounts_per_key: 200
  min_accounts: 10
  min_requests: 100
  output: "%account_count accounts"
- rule: lockstep
  desc: Accounts active in the same minutes
  kind: synchrony
  condition: account exists
  bucket: 1m
  window: 6h
  min_similarity: 0.7
  min_active_buckets: 8
  min_accounts: 5
)");
    ASSERT_TRUE(r.ok()) << errors_of(r);
    const RuleSpec& l = *r.rules.find("shared_stack");
    ASSERT_EQ(l.link_on.size(), 2u);
    EXPECT_EQ(key_name(l.link_on[0]), "ja4+ja4t+bucket(rtt_ms, 5)");
    EXPECT_EQ(key_name(l.link_on[1]), "ip");
    EXPECT_EQ(l.max_accounts_per_key, 200u);
    EXPECT_EQ(l.min_accounts, 10u);
    EXPECT_EQ(l.min_requests, 100u);
    EXPECT_EQ(l.min_bytes, 0u);
    EXPECT_EQ(l.window_ns, 24 * 3600LL * 1'000'000'000);
    const RuleSpec& s = *r.rules.find("lockstep");
    EXPECT_EQ(s.bucket_ns, 60LL * 1'000'000'000);
    EXPECT_DOUBLE_EQ(s.min_similarity, 0.7);
    EXPECT_EQ(s.min_active_buckets, 8u);
    EXPECT_EQ(s.min_accounts, 5u);

    const std::string sync =
        "- rule: s\n  desc: d\n  kind: synchrony\n  condition: ja4 exists\n"
        "  window: 1h\n  min_accounts: 5\n";
    expect_error(sync + "  bucket: 2h\n", 7, 11, "rule", "s", "2 to 100000 buckets");
    expect_error(sync + "  bucket: 1m\n  min_similarity: 1.5\n", 8, 19, "rule", "s", "(0, 1]");
    expect_error(
        "- rule: l\n  desc: d\n  kind: link\n  condition: ja4 exists\n  window: 1h\n"
        "  min_accounts: 5\n  link_on: [[ja4, bucket(sni, 2)]]\n",
        7, 19, "rule", "l", "numeric field");
    expect_error(
        "- rule: l\n  desc: d\n  kind: link\n  condition: ja4 exists\n  window: 1h\n"
        "  link_on: [ip]\n",
        1, 3, "rule", "l", "missing 'min_accounts'");
    expect_error(
        "- rule: l\n  desc: d\n  kind: link\n  condition: ja4 exists\n  window: 1h\n"
        "  min_accounts: 5\n  link_on: [ip]\n  output: '%sum_requests'\n",
        8, 13, "rule", "l", "link and synchrony rules offer");
}

TEST(RuleLoader, ExceptionErrors) {
    const std::string base = std::string(kRule) + "  condition: ja4 exists\n  exceptions:\n";
    expect_error(base + "    - name: e\n      fields: [net24, ja44]\n      values: [[a, b]]\n", 6,
                 23, "rule", "r", "unknown field 'ja44'");
    expect_error(base +
                     "    - name: e\n      fields: [ip, ja4]\n      comps: [=, startswit]\n"
                     "      values: [[1.2.3.4, b]]\n",
                 7, 18, "rule", "r", "did you mean 'startswith'");
    expect_error(base + "    - name: e\n      fields: [ip, ja4]\n      values: [[1.2.3.4]]\n", 7,
                 16, "rule", "r", "one per field");
    expect_error(base + "    - name: e\n      fields: [ip, ja4]\n      values: [[1.2.3, x]]\n", 7,
                 17, "rule", "r", "not an IP address");
    expect_error(base + "    - name: e\n      fields: ja4\n      comps: cidr\n      values: [x]\n",
                 8, 15, "rule", "r", "'cidr' needs an address");
}

TEST(RuleLoader, FilesAndDirectories) {
    const auto dir =
        std::filesystem::temp_directory_path() / ("sw-rules-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    std::ofstream(dir / "20-rules.yaml") << std::string(kRule) << "  condition: base\n";
    std::ofstream(dir / "10-macros.yml") << "- macro: base\n  condition: ja4 exists\n";
    std::ofstream(dir / "notes.txt") << "not yaml: [\n";
    const std::vector<std::string> paths{dir.string()};
    const LoadResult r = load_rules(paths);
    EXPECT_TRUE(r.ok()) << errors_of(r);
    EXPECT_EQ(r.rules.files().size(), 2u);
    const std::vector<std::string> missing{(dir / "nope.yaml").string()};
    const LoadResult m = load_rules(missing);
    ASSERT_EQ(m.errors.size(), 1u);
    EXPECT_EQ(m.errors[0].line, 0);
    EXPECT_NE(m.errors[0].to_string().find("nope.yaml: no such file"), std::string::npos);
    std::filesystem::remove_all(dir);
}

TEST(RuleLoader, ShippedStyleRuleFromFoxioCapture) {
    // Hand-off check with the reference JA4 of a real capture: the lastpass connection of
    // tls-handshake.pcapng (python/test/testdata) written into a rule.
    const LoadResult r = load(R"(- rule: lastpass
  desc: d
  condition: ja4 = t13d1516h1_8daaf6152771_e5627efa2ab1 and sni endswith .lastpass.com
)");
    ASSERT_TRUE(r.ok()) << errors_of(r);
    EXPECT_EQ(r.rules.rules()[0].severity, Severity::Medium);  // the default
}
