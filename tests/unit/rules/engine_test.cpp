// The rules engine end to end on hand-made observations: each rule kind raises the findings an
// investigator needs, with stable ids; reload keeps the state of unchanged rules; save/restore
// continues where it stopped.
#include "rules/engine.hpp"

#include <gtest/gtest.h>

#include <deque>
#include <memory>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "rules_test_util.hpp"

using namespace sybilwatch;
using namespace sybilwatch::rules;

namespace {

constexpr int64_t kSec = 1'000'000'000;
constexpr int64_t kT0 = 1'700'000'000 * kSec;

struct Collect : FindingSink {
    std::vector<Finding> all;
    void on_finding(const Finding& f) override { all.push_back(f); }
    std::vector<Finding> of(std::string_view rule, FindingActivity a) const {
        std::vector<Finding> out;
        for (const auto& f : all)
            if (f.rule == rule && f.activity == a) out.push_back(f);
        return out;
    }
};

std::shared_ptr<const RuleSet> pack(const std::string& yaml) {
    auto r = test::load(yaml);
    EXPECT_TRUE(r.ok()) << test::errors_of(r);
    return std::make_shared<const RuleSet>(std::move(r.rules));
}

struct Feeder {
    Engine& e;
    void operator()(int64_t t, const std::string& account, const std::string& ip,
                    const std::string& ja4, uint16_t port = 40000) {
        fingerprint::Observation o = test::browser_obs();
        o.ts_ns = t;
        o.src = net::IpAddress::parse(ip);
        o.src_port = port;
        o.ja4.assign(ja4);
        identity::AttributedObservation a{o, account, "bot/1.0", "", 0};
        e.observe(a);
    }
};

const char* kStack = "t13d1812h1_85036bcba153_b26ce05bbdd6";
const char* kBrowser = "t13d1516h2_8daaf6152771_e5627efa2ab1";

}  // namespace

TEST(Engine, MatchRuleRaisesOncePerAccountPerDedupWindow) {
    Collect out;
    Engine e(pack("- rule: threat_stack\n  desc: a client stack from the threat list\n"
                  "  condition: ja4 = t13d1812h1_85036bcba153_b26ce05bbdd6\n  severity: high\n"
                  "  output: '%account on %ja4'\n"),
             {}, out);
    Feeder feed{e};
    feed(kT0, "mallory", "203.0.113.9", kStack);
    feed(kT0 + kSec, "mallory", "203.0.113.9", kStack);       // repeat: suppressed
    feed(kT0 + 2 * kSec, "alice", "198.51.100.1", kBrowser);  // no match
    feed(kT0 + 3 * kSec, "trudy", "203.0.113.10", kStack);
    const auto created = out.of("threat_stack", FindingActivity::Create);
    ASSERT_EQ(created.size(), 2u);
    EXPECT_EQ(created[0].accounts, std::vector<std::string>{"mallory"});
    EXPECT_EQ(created[0].output, std::string("mallory on ") + kStack);
    EXPECT_EQ(created[0].severity, Severity::High);
    ASSERT_EQ(created[0].samples.size(), 1u);
    EXPECT_EQ(created[0].samples[0].account, "mallory");
    EXPECT_EQ(e.stats().suppressed, 1u);
    EXPECT_NE(created[0].finding_id, created[1].finding_id);
    // An hour later the same account raises again, with the same id (same rule and group).
    feed(kT0 + 3601 * kSec, "mallory", "203.0.113.9", kStack);
    ASSERT_EQ(out.of("threat_stack", FindingActivity::Create).size(), 3u);
    EXPECT_EQ(out.all.back().finding_id, created[0].finding_id);
}

TEST(Engine, AggregateFiresAtTheThresholdUpdatesAsItGrowsAndClosesAfterTheWindow) {
    Collect out;
    Engine e(pack("- rule: rotation\n  desc: one stack, many accounts from many networks\n"
                  "  kind: aggregate\n  condition: account exists\n  group_by: [ja4]\n"
                  "  window: 1h\n"
                  "  threshold: distinct(account) >= 10 and distinct(net24) >= 5\n"
                  "  output: '%account_count accounts on %ja4 from %distinct_net24 networks'\n"),
             {}, out);
    Feeder feed{e};
    for (int i = 0; i < 9; ++i)
        feed(kT0 + i * kSec, "acct-" + std::to_string(i), "10.0." + std::to_string(i) + ".7",
             kStack);
    EXPECT_TRUE(out.all.empty());
    feed(kT0 + 9 * kSec, "acct-9", "10.0.9.7", kStack);  // the 10th account
    auto created = out.of("rotation", FindingActivity::Create);
    ASSERT_EQ(created.size(), 1u);
    const Finding& f = created[0];
    EXPECT_EQ(f.account_count, 10u);
    EXPECT_EQ(f.accounts.size(), 10u);
    EXPECT_FALSE(f.accounts_truncated);
    EXPECT_EQ(f.output, std::string("10 accounts on ") + kStack + " from 10 networks");
    ASSERT_EQ(f.keys.size(), 1u);
    EXPECT_EQ(f.keys[0].field, "ja4");
    EXPECT_EQ(f.keys[0].value, kStack);
    EXPECT_EQ(f.networks.size(), 10u);
    ASSERT_EQ(f.client_stacks.size(), 1u);
    EXPECT_EQ(f.client_stacks[0].value, kStack);
    EXPECT_EQ(f.client_stacks[0].accounts, 10u);
    EXPECT_FALSE(f.samples.empty());
    // Growing by less than the update factor (1.5x) is quiet; beyond it, an Update.
    for (int i = 10; i < 14; ++i)
        feed(kT0 + (10 + i) * kSec, "acct-" + std::to_string(i), "10.0.1.7", kStack);
    EXPECT_TRUE(out.of("rotation", FindingActivity::Update).empty());
    feed(kT0 + 30 * kSec, "acct-14", "10.0.1.7", kStack);
    auto updated = out.of("rotation", FindingActivity::Update);
    ASSERT_EQ(updated.size(), 1u);
    EXPECT_EQ(updated[0].finding_id, f.finding_id);
    EXPECT_EQ(updated[0].revision, 1u);
    EXPECT_EQ(updated[0].account_count, 15u);
    // A popular browser never crosses the threshold alone: different group.
    feed(kT0 + 31 * kSec, "alice", "198.51.100.1", kBrowser);
    EXPECT_EQ(out.all.size(), 2u);
    // After the window, the group expires and its finding closes.
    e.advance(kT0 + 30 * kSec + 3700 * kSec);
    auto closed = out.of("rotation", FindingActivity::Close);
    ASSERT_EQ(closed.size(), 1u);
    EXPECT_EQ(closed[0].finding_id, f.finding_id);
    EXPECT_EQ(closed[0].revision, 2u);
}

TEST(Engine, LinkRuleClustersAccountsThroughSharedKeys) {
    Collect out;
    Engine e(pack("- rule: farm\n  desc: accounts linked through stack and network\n"
                  "  kind: link\n  condition: account exists\n"
                  "  link_on:\n    - [ja4, net24]\n  window: 24h\n"
                  "  max_accounts_per_key: 100\n  min_accounts: 5\n"
                  "  output: '%account_count linked accounts'\n"),
             {}, out);
    Feeder feed{e};
    // Five accounts on one stack from one /24: one cluster of five.
    for (int i = 0; i < 5; ++i)
        feed(kT0 + i * kSec, "farm-" + std::to_string(i), "192.0.2." + std::to_string(10 + i),
             kStack);
    // Unrelated people: another network each.
    for (int i = 0; i < 5; ++i)
        feed(kT0 + i * kSec, "person-" + std::to_string(i), "198.51." + std::to_string(i) + ".1",
             kBrowser);
    e.advance(kT0 + 10 * kSec);
    auto created = out.of("farm", FindingActivity::Create);
    ASSERT_EQ(created.size(), 1u);
    const Finding& f = created[0];
    EXPECT_EQ(f.account_count, 5u);
    EXPECT_EQ(f.accounts,
              (std::vector<std::string>{"farm-0", "farm-1", "farm-2", "farm-3", "farm-4"}));
    ASSERT_FALSE(f.keys.empty());
    EXPECT_EQ(f.keys[0].field, "ja4+net24");
    EXPECT_EQ(f.keys[0].accounts, 5u);
    EXPECT_EQ(f.output, "5 linked accounts");
    ASSERT_EQ(f.networks.size(), 1u);
    EXPECT_EQ(f.networks[0].value, "192.0.2.0/24");
    for (const auto& s : f.samples)
        EXPECT_TRUE(s.account.starts_with("farm-")) << s.account;
}

namespace {
const char* kLinkRule =
    "- rule: farm\n  desc: d\n  kind: link\n  condition: account exists\n"
    "  link_on:\n    - [ja4, net24]\n  window: 24h\n"
    "  max_accounts_per_key: 100\n  min_accounts: 10\n";

// Ten farm accounts (a finding), then two more: growth of 1.2x, under the update factor.
void grow_farm(Engine& e) {
    Feeder feed{e};
    for (int i = 0; i < 10; ++i)
        feed(kT0 + i * kSec, "farm-" + std::to_string(i), "192.0.2.10", kStack);
    e.advance(kT0 + 20 * kSec);
    for (int i = 10; i < 12; ++i)
        feed(kT0 + 30 * kSec, "farm-" + std::to_string(i), "192.0.2.11", kStack);
    e.advance(kT0 + 40 * kSec);
}

const char* const kRotationRule =
    "- rule: rotation\n  desc: one stack, many accounts\n  kind: aggregate\n"
    "  condition: account exists\n  group_by: [ja4]\n  window: 1h\n"
    "  threshold: distinct(account) >= 10\n"
    "  output: '%account_count accounts on %ja4, last from %ip'\n";

// 10 accounts raise the finding at t0 + 9 s; 3 more follow (13 < 10 x 1.5: held back).
void grow_group(Engine& e) {
    Feeder feed{e};
    for (int i = 0; i < 13; ++i)
        feed(kT0 + i * kSec, "acct-" + std::to_string(i), "10.0." + std::to_string(i) + ".7",
             kStack);
}
}  // namespace

namespace {
// A finding's growth under the update factor (1.5x): grow() raises it at `created` accounts
// and then grows it to `grown`.
struct Growth {
    const char* yaml;
    const char* rule;
    void (*grow)(Engine&);
    uint64_t created, grown;
};

// No Update until the finding has been quiet for the catch-up time (60 s here; raised near
// t0 + 10 s), then one with the whole size and the same id, then nothing more. Returns it.
Finding expect_catch_up_after_quiet(const Growth& c) {
    Collect out;
    EngineOptions opt;
    opt.catch_up_ns = 60 * kSec;
    Engine e(pack(c.yaml), opt, out);
    c.grow(e);
    const auto created = out.of(c.rule, FindingActivity::Create);
    EXPECT_EQ(created.size(), 1u);
    if (created.size() != 1) return {};
    EXPECT_EQ(created[0].account_count, c.created);
    EXPECT_TRUE(out.of(c.rule, FindingActivity::Update).empty());
    e.advance(kT0 + 65 * kSec);
    EXPECT_TRUE(out.of(c.rule, FindingActivity::Update).empty());
    e.advance(kT0 + 90 * kSec);
    const auto updated = out.of(c.rule, FindingActivity::Update);
    EXPECT_EQ(updated.size(), 1u);
    if (updated.size() != 1) return {};
    EXPECT_EQ(updated[0].finding_id, created[0].finding_id);
    EXPECT_EQ(updated[0].revision, 1u);
    EXPECT_EQ(updated[0].account_count, c.grown);
    EXPECT_EQ(updated[0].accounts.size(), c.grown);
    e.advance(kT0 + 500 * kSec);  // nothing new: no second catch-up
    EXPECT_EQ(out.of(c.rule, FindingActivity::Update).size(), 1u);
    return updated[0];
}

// flush() (the end of a replay, the daemon stopping) reports it at once, and only once.
void expect_flush_reports_growth(const Growth& c) {
    Collect out;
    Engine e(pack(c.yaml), {}, out);  // default quiet time: 5 minutes
    c.grow(e);
    EXPECT_TRUE(out.of(c.rule, FindingActivity::Update).empty());
    e.flush();
    const auto updated = out.of(c.rule, FindingActivity::Update);
    ASSERT_EQ(updated.size(), 1u);
    EXPECT_EQ(updated[0].account_count, c.grown);
    EXPECT_EQ(updated[0].revision, 1u);
    e.flush();
    EXPECT_EQ(out.of(c.rule, FindingActivity::Update).size(), 1u);
}

const Growth kClusterGrowth{kLinkRule, "farm", grow_farm, 10, 12};
const Growth kGroupGrowth{kRotationRule, "rotation", grow_group, 10, 13};
}  // namespace

TEST(Engine, HeldBackClusterGrowthIsReportedAfterTheQuietTime) {
    expect_catch_up_after_quiet(kClusterGrowth);
}

TEST(Engine, FlushReportsHeldBackClusterGrowthAtOnce) {
    expect_flush_reports_growth(kClusterGrowth);
}

TEST(Engine, HeldBackAggregateGrowthIsReportedAfterTheQuietTime) {
    const Finding u = expect_catch_up_after_quiet(kGroupGrowth);
    // The output keeps the fields of the observation that raised the finding last (not <NA>).
    EXPECT_EQ(u.output, std::string("13 accounts on ") + kStack + ", last from 10.0.9.7");
}

TEST(Engine, FlushReportsHeldBackAggregateGrowthAtOnce) {
    expect_flush_reports_growth(kGroupGrowth);
}

// Aggregate rules that group by the same keys share one hash per observation; a rule with
// other keys must get its own, in a batch as one by one.
TEST(Engine, AggregateRulesGroupByTheirOwnKeysInABatch) {
    Collect out;
    const std::string rule = "  kind: aggregate\n  condition: account exists\n  window: 1h\n";
    Engine e(pack("- rule: by_ja4\n  desc: d\n" + rule +
                  "  group_by: [ja4]\n  threshold: distinct(account) >= 4\n"
                  "- rule: by_ja4_count\n  desc: d\n" +
                  rule +
                  "  group_by: [ja4]\n  threshold: count >= 4\n"
                  "- rule: by_ip\n  desc: d\n" +
                  rule + "  group_by: [ip]\n  threshold: distinct(account) >= 2\n"),
             {}, out);
    std::vector<identity::AttributedObservation> batch;
    // An AttributedObservation refers to its observation and account: both kept here.
    std::deque<fingerprint::Observation> obs;
    std::deque<std::string> names;
    auto add = [&](int64_t t, const std::string& account, const std::string& ip, const char* ja4) {
        fingerprint::Observation& o = obs.emplace_back(test::browser_obs());
        o.ts_ns = t;
        o.src = net::IpAddress::parse(ip);
        o.ja4.assign(ja4);
        batch.push_back(identity::AttributedObservation{o, names.emplace_back(account), "", "", 0});
    };
    for (int i = 0; i < 4; ++i)  // four accounts on one stack, each from its own address
        add(kT0 + i * kSec, "s" + std::to_string(i), "10.0." + std::to_string(i) + ".1", kStack);
    add(kT0 + 5 * kSec, "n0", "10.9.9.9", kBrowser);  // two accounts behind one address
    add(kT0 + 6 * kSec, "n1", "10.9.9.9", "t13d0000h1_000000000000_000000000000");
    e.observe(std::span<const identity::AttributedObservation>(batch));

    for (const char* r : {"by_ja4", "by_ja4_count"}) {
        const auto f = out.of(r, FindingActivity::Create);
        ASSERT_EQ(f.size(), 1u) << r;
        ASSERT_EQ(f[0].keys.size(), 1u);
        EXPECT_EQ(f[0].keys[0].value, kStack) << r;
    }
    const auto ip = out.of("by_ip", FindingActivity::Create);
    ASSERT_EQ(ip.size(), 1u);
    ASSERT_EQ(ip[0].keys.size(), 1u);
    EXPECT_EQ(ip[0].keys[0].field, "ip");
    EXPECT_EQ(ip[0].keys[0].value, "10.9.9.9");
    EXPECT_EQ(ip[0].accounts, (std::vector<std::string>{"n0", "n1"}));
}

TEST(Engine, ReloadKeepsTheStateOfUnchangedRules) {
    const std::string agg =
        "- rule: rotation\n  desc: d\n  kind: aggregate\n  condition: account exists\n"
        "  group_by: [ja4]\n  window: 1h\n  threshold: distinct(account) >= 4\n";
    Collect out;
    Engine e(pack(agg), {}, out);
    Feeder feed{e};
    for (int i = 0; i < 3; ++i)
        feed(kT0 + i * kSec, "a" + std::to_string(i), "10.0.0.1", kStack);
    // Same rule plus a new one: the aggregate keeps its three accounts.
    e.replace_rules(pack(agg + "- rule: other\n  desc: d\n  condition: ja4 = x\n"));
    feed(kT0 + 5 * kSec, "a3", "10.0.0.1", kStack);
    EXPECT_EQ(out.of("rotation", FindingActivity::Create).size(), 1u);
    // A changed window starts it empty.
    e.replace_rules(
        pack("- rule: rotation\n  desc: d\n  kind: aggregate\n  condition: account exists\n"
             "  group_by: [ja4]\n  window: 2h\n  threshold: distinct(account) >= 4\n"));
    // Its open finding was closed by the change.
    EXPECT_EQ(out.of("rotation", FindingActivity::Close).size(), 1u);
    for (int i = 0; i < 3; ++i)
        feed(kT0 + (6 + i) * kSec, "b" + std::to_string(i), "10.0.0.1", kStack);
    EXPECT_EQ(out.of("rotation", FindingActivity::Create).size(), 1u);
}

TEST(Engine, SaveAndRestoreContinueTheSameFindings) {
    const std::string agg =
        "- rule: rotation\n  desc: d\n  kind: aggregate\n  condition: account exists\n"
        "  group_by: [ja4]\n  window: 1h\n  threshold: distinct(account) >= 4\n"
        "  output: '%account_count on %ja4'\n";
    Collect out1;
    std::vector<uint8_t> saved;
    std::string id;
    {
        Engine e(pack(agg), {}, out1);
        Feeder feed{e};
        for (int i = 0; i < 4; ++i)
            feed(kT0 + i * kSec, "a" + std::to_string(i), "10.0.0.1", kStack);
        ASSERT_EQ(out1.all.size(), 1u);
        id = out1.all[0].finding_id;
        saved = e.save();
    }
    Collect out2;
    Engine e(pack(agg), {}, out2);
    const auto res = e.restore(saved);
    ASSERT_TRUE(res.ok) << res.error;
    EXPECT_EQ(e.accounts(), 4u);
    Feeder feed{e};
    // Two more accounts: 6 >= 1.5 x 4, an Update of the same finding (not a new Create).
    feed(kT0 + 10 * kSec, "a4", "10.0.0.1", kStack);
    feed(kT0 + 11 * kSec, "a5", "10.0.0.1", kStack);
    ASSERT_EQ(out2.all.size(), 1u);
    EXPECT_EQ(out2.all[0].activity, FindingActivity::Update);
    EXPECT_EQ(out2.all[0].finding_id, id);
    EXPECT_EQ(out2.all[0].account_count, 6u);
    {
        // Growth held back since the restore (5 < 1.5 x 4) is caught up at flush; its output's
        // fields come from an observation since the restore (the snapshot does not keep
        // them), not <NA>.
        Collect out3;
        Engine e3(pack(agg), {}, out3);
        ASSERT_TRUE(e3.restore(saved).ok);
        Feeder{e3}(kT0 + 12 * kSec, "a6", "10.0.0.2", kStack);
        EXPECT_TRUE(out3.all.empty());
        e3.flush();
        ASSERT_EQ(out3.all.size(), 1u);
        EXPECT_EQ(out3.all[0].finding_id, id);
        EXPECT_EQ(out3.all[0].account_count, 5u);
        EXPECT_EQ(out3.all[0].output, std::string("5 on ") + kStack);
    }
    // A damaged snapshot is refused and changes nothing.
    auto bad = saved;
    bad[bad.size() / 2] ^= 0xff;
    Engine e2(pack(agg), {}, out2);
    EXPECT_FALSE(e2.restore(std::span<const uint8_t>(bad.data(), 10)).ok);
}

TEST(Engine, FindingListsTheBusiestNetworksAndStacksMostFirstTiesInTextOrder) {
    // 14 networks: 2 accounts on 10.0.5.0/24, 2 on 9.0.0.0/24, one on each of 12 others; a
    // finding lists 10, so 8 of the 12 single-account networks make it, in text order
    // ("10.0.10.0/24" before "10.0.2.0/24"), as an investigator's sort would show them.
    Collect out;
    Engine e(pack("- rule: many\n  desc: many accounts on one service\n  kind: aggregate\n"
                  "  condition: account exists\n  group_by: [sni]\n  window: 1h\n"
                  "  threshold: distinct(account) >= 16\n"),
             {}, out);
    Feeder feed{e};
    int n = 0;
    const auto add = [&](const std::string& ip, const char* ja4) {
        feed(kT0 + n * kSec, "acct-" + std::to_string(n), ip, ja4);
        ++n;
    };
    add("10.0.5.1", kStack);
    add("10.0.5.2", kStack);
    add("9.0.0.1", kStack);
    add("9.0.0.2", kBrowser);
    for (int i = 0; i < 11; ++i)
        add("10.0." + std::to_string(20 - i) + ".1", kStack);
    EXPECT_TRUE(out.all.empty());
    add("10.0.2.1", kBrowser);  // the 16th account
    const auto created = out.of("many", FindingActivity::Create);
    ASSERT_EQ(created.size(), 1u);
    const Finding& f = created[0];
    std::vector<std::string> nets;
    for (const auto& k : f.networks) {
        EXPECT_EQ(k.field, "net24");
        nets.push_back(k.value + "=" + std::to_string(k.accounts));
    }
    // Text order of the one-account networks: 10.0.10 ... 10.0.19, 10.0.2, 10.0.20.
    EXPECT_EQ(nets, (std::vector<std::string>{"10.0.5.0/24=2", "9.0.0.0/24=2", "10.0.10.0/24=1",
                                              "10.0.11.0/24=1", "10.0.12.0/24=1", "10.0.13.0/24=1",
                                              "10.0.14.0/24=1", "10.0.15.0/24=1", "10.0.16.0/24=1",
                                              "10.0.17.0/24=1"}));
    ASSERT_EQ(f.client_stacks.size(), 2u);
    EXPECT_EQ(f.client_stacks[0].value, kStack);
    EXPECT_EQ(f.client_stacks[0].accounts, 14u);
    EXPECT_EQ(f.client_stacks[1].value, kBrowser);
    EXPECT_EQ(f.client_stacks[1].accounts, 2u);
    EXPECT_EQ(f.accounts.size(), 16u);
    EXPECT_TRUE(std::is_sorted(f.accounts.begin(), f.accounts.end()));
}
