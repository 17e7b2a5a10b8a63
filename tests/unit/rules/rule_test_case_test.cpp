// Rule test cases: the case format (generators, templates, expectations, errors with line
// numbers), the comparison of findings with expectations, running a case through the engine,
// and the default pack's own cases (rules/tests/), which must all pass.
#include "rules/rule_test_case.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <set>
#include <string>

#include "rules_test_util.hpp"

using namespace sybilwatch;
using namespace sybilwatch::rules;

namespace {

std::shared_ptr<const RuleSet> pack(const std::string& yaml) {
    auto r = test::load(yaml);
    EXPECT_TRUE(r.ok()) << test::errors_of(r);
    return std::make_shared<const RuleSet>(std::move(r.rules));
}

const char* kRotation =
    "- rule: rotation\n  desc: d\n  kind: aggregate\n  condition: account exists\n"
    "  group_by: [ja4]\n  window: 1h\n"
    "  threshold: distinct(account) >= 10 and distinct(net24) >= 2 * distinct(account)\n"
    "  output: '%account_count accounts from %distinct_net24 networks'\n";

const char* kCases = R"(rule: rotation
defaults: {dst: 192.0.2.1, dst_port: 443, ja4: t13d201100_2b729b4bf6f3_9e7b989ebec8}
cases:
  - name: farm
    observations:
      - for: {i: 0..11, n: 0..2}
        observation: {ts: "{t0 + i*60 + n}", src: "203.{n}.{i}.7", account: "farm-{i}"}
      - '{"ts": 1700000000.5, "src": "198.51.100.1", "account": "alice", "ja4": "t13d1516h2_8daaf6152771_02713d6af862"}'
    expect:
      - {activity: create, count: 1, account_count: 10, accounts: [farm-0, farm-9],
         not_accounts: [alice, farm-10], keys: {ja4: "*"}, output_contains: "10 accounts from 28 networks"}
  - name: nat
    start: 1800000000
    observations:
      - for: {i: 0..39}
        observation: {ts: "{t0 + i}", src: 100.64.0.1, account: "sub-{i}"}
    advance_to: +2h
    absent: true
)";

}  // namespace

TEST(CountRange, ParsesEveryForm) {
    EXPECT_EQ(parse_count_range("3")->to_string(), "3");
    EXPECT_EQ(parse_count_range("2..5")->min, 2u);
    EXPECT_EQ(parse_count_range("2..5")->max, 5u);
    EXPECT_EQ(parse_count_range(">=1")->to_string(), ">=1");
    EXPECT_EQ(parse_count_range("<= 4")->to_string(), "<=4");
    EXPECT_TRUE(parse_count_range(">=1")->contains(1000));
    EXPECT_FALSE(parse_count_range("2..5")->contains(6));
    for (const char* bad : {"", "x", "5..2", "-1", "1..", ">=", "3 4"})
        EXPECT_FALSE(parse_count_range(bad)) << bad;
}

TEST(RuleTestCase, GeneratesObservationsFromTemplatesInTimeOrder) {
    const CaseFile f = load_case_text(kCases, "t.yaml", ".");
    ASSERT_TRUE(f.ok()) << f.errors[0];
    ASSERT_EQ(f.cases.size(), 2u);
    const TestCase& farm = f.cases[0];
    EXPECT_EQ(farm.id(), "rotation/farm");
    ASSERT_EQ(farm.observations.size(), 12u * 3 + 1);
    // Sorted by time: the JSON line (t0 + 1) comes between farm-0's first two connections.
    EXPECT_EQ(farm.observations[0].account, "farm-0");
    EXPECT_EQ(farm.observations[1].account, "alice");
    const ObservationLine& last = farm.observations.back();
    EXPECT_EQ(last.account, "farm-11");
    EXPECT_EQ(last.obs.ts_ns, (1'700'000'000LL + 11 * 60 + 2) * 1'000'000'000);
    EXPECT_EQ(last.obs.src, net::IpAddress::parse("203.2.11.7"));
    EXPECT_EQ(last.obs.dst_port, 443);  // from the file's defaults
    EXPECT_EQ(last.obs.ja4.view(), "t13d201100_2b729b4bf6f3_9e7b989ebec8");
    const TestCase& nat = f.cases[1];
    EXPECT_EQ(nat.observations[0].obs.ts_ns, 1'800'000'000LL * 1'000'000'000);  // start
    EXPECT_EQ(nat.advance_by_ns, 2 * 3600LL * 1'000'000'000);
    ASSERT_EQ(nat.expect.size(), 1u);
    EXPECT_EQ(nat.expect[0].describe(), "no finding of rotation");
}

TEST(RuleTestCase, RunsPositiveAndNegativeCasesThroughTheEngine) {
    const auto rules = pack(kRotation);
    const CaseFile f = load_case_text(kCases, "t.yaml", ".");
    ASSERT_TRUE(f.ok()) << f.errors[0];
    for (const TestCase& c : f.cases) {
        const CaseResult r = run_case(c, rules);
        EXPECT_TRUE(r.passed) << c.id() << ": " << (r.failures.empty() ? "" : r.failures[0]);
    }
    // The same farm against a stricter rule: the case fails and says what happened instead.
    std::string strict = kRotation;
    strict.replace(strict.find(">= 10"), 5, ">= 50");
    const CaseResult r = run_case(f.cases[0], pack(strict));
    EXPECT_FALSE(r.passed);
    ASSERT_EQ(r.failures.size(), 1u);
    EXPECT_EQ(r.failures[0],
              "expected 1 create finding(s) of rotation with account_count 10, accounts "
              "including farm-0 farm-9, accounts excluding alice farm-10, key ja4=*, output "
              "containing '10 accounts from 28 networks'; got 0; rotation raised nothing");
}

TEST(RuleTestCase, ExplainsAMismatchWithWhatTheRuleRaised) {
    Finding f;
    f.rule = "rotation";
    f.activity = FindingActivity::Create;
    f.account_count = 12;
    f.accounts = {"farm-0", "farm-1"};
    f.keys.push_back({"ja4", "t13d", 12});
    f.output = "12 accounts";
    FindingExpectation e;
    e.rule = "rotation";
    e.account_count = CountRange{20, 30};
    const auto m = compare_findings(std::span(&e, 1), std::span(&f, 1));
    ASSERT_EQ(m.size(), 1u);
    EXPECT_EQ(m[0],
              "expected >=1 create finding(s) of rotation with account_count 20..30; got 0; "
              "rotation raised:\n    - create rotation account_count=12 "
              "accounts=[farm-0,farm-1] ja4=t13d(12) \"12 accounts\"");
    e.account_count = CountRange{10, 12};
    EXPECT_TRUE(compare_findings(std::span(&e, 1), std::span(&f, 1)).empty());
    e.activity = FindingActivity::Close;  // right finding, wrong activity
    EXPECT_EQ(compare_findings(std::span(&e, 1), std::span(&f, 1)).size(), 1u);
    e.activity = std::nullopt;
    e.not_accounts = {"farm-1"};
    EXPECT_EQ(compare_findings(std::span(&e, 1), std::span(&f, 1)).size(), 1u);
}

TEST(RuleTestCase, ReportsMistakesWithTheirLine) {
    auto first_error = [](const std::string& text) {
        const CaseFile f = load_case_text(text, "t.yaml", ".");
        return f.errors.empty() ? std::string() : f.errors[0];
    };
    const std::string head = "rule: r\ncases:\n  - name: a\n";
    EXPECT_EQ(first_error(head + "    observations: [{ts: 1}]\n    expct: []\n"),
              "t.yaml:5: unknown key 'expct' in a case");
    EXPECT_EQ(first_error(head + "    observations:\n      - for: {i: 5..2}\n"
                                 "        observation: {ts: 1}\n    absent: true\n"),
              "t.yaml:5: bad range '5..2' (A..B, integers, A <= B, at most 2000000 values)");
    EXPECT_EQ(
        first_error(head + "    observations:\n      - {ts: \"{t0 + j}\"}\n    absent: true\n"),
        "t.yaml:5: in {t0 + j}: unknown variable 'j'");
    EXPECT_EQ(first_error(head + "    observations:\n      - {ts: 1, src_port: 99999}\n"
                                 "    absent: true\n"),
              "t.yaml:5: observation: field 'src_port': must be an integer in 0..65535");
    EXPECT_EQ(first_error(head + "    observations: [{ts: 1}]\n"),
              "t.yaml:3: case 'a' expects nothing (give expect or absent)");
    EXPECT_EQ(first_error(head + "    observations: [{ts: 1}]\n    expect: [{count: lots}]\n"),
              "t.yaml:5: count is N, A..B, >=N or <=N");
    EXPECT_EQ(
        first_error(head + "    observations: [{ts: 1}]\n    advance_to: +5y\n    absent: true\n"),
        "t.yaml:5: advance_to is epoch seconds or +DURATION (+90s, +15m, +6h, +2d)");
    EXPECT_EQ(first_error("cases: []\n"),
              "t.yaml:1: the case file names its rule: 'rule: RULE_ID'");
    EXPECT_EQ(first_error(head + "    observations:\n      - for: {i: 0..1999, j: 0..1999}\n"
                                 "        observation: {ts: 1}\n    absent: true\n"),
              "t.yaml:5: generates more than 2000000 observations");
}

TEST(RuleTestCase, AnExpectationOfAnUnknownRuleFails) {
    const CaseFile f = load_case_text(
        "rule: nope\ncases:\n  - name: a\n    observations: [{ts: 1}]\n    absent: true\n",
        "t.yaml", ".");
    ASSERT_TRUE(f.ok());
    const CaseResult r = run_case(f.cases[0], pack(kRotation));
    EXPECT_FALSE(r.passed);
    ASSERT_EQ(r.failures.size(), 1u);
    EXPECT_EQ(r.failures[0], "line 5: no rule 'nope' in the pack");
}

// The default pack and its cases, as `sybilwatch rules test rules/` runs them in CI.
TEST(DefaultPackCases, EveryRuleHasPassingPositiveAndNegativeCases) {
    const std::string dir = std::string(SW_SOURCE_DIR) + "/rules";
    const std::vector<std::string> paths{dir};
    LoadResult loaded = load_rules(paths);
    ASSERT_TRUE(loaded.ok()) << test::errors_of(loaded);
    const auto rules = std::make_shared<const RuleSet>(std::move(loaded.rules));
    const auto files = find_case_files(dir);
    ASSERT_EQ(files.size(), rules->rules().size());
    std::set<std::string> positive, negative;
    for (const auto& file : files) {
        const CaseFile f = load_case_file(file);
        ASSERT_TRUE(f.ok()) << f.errors[0];
        for (const TestCase& c : f.cases) {
            const CaseResult r = run_case(c, rules);
            std::string why;
            for (const auto& m : r.failures)
                why += m + "\n";
            EXPECT_TRUE(r.passed) << c.id() << ":\n" << why;
            for (const auto& e : c.expect)
                (e.count.max == 0 ? negative : positive).insert(e.rule);
        }
    }
    for (const RuleSpec& s : rules->rules()) {
        EXPECT_TRUE(positive.contains(s.id)) << s.id << " has no positive case";
        EXPECT_TRUE(negative.contains(s.id)) << s.id << " has no negative case";
    }
}
