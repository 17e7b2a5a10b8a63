#include "rules/link_state.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

namespace sybilwatch::rules {
namespace {

constexpr int64_t kSec = 1'000'000'000;
constexpr int64_t kT0 = 1'795'773'579 * kSec;
constexpr uint8_t kJa4 = 0, kIp = 1;

LinkConfig config() {
    LinkConfig c;
    c.window_ns = 3600 * kSec;
    c.max_accounts_per_key = 10;
    c.min_accounts = 3;
    c.rebuild_interval_ns = 600 * kSec;
    c.popular_rebuild_gap_ns = 0;
    return c;
}

void see(LinkState& s, int64_t t, uint32_t account, std::initializer_list<LinkKey> keys,
         uint64_t requests = 1) {
    s.observe(t, account, std::span(keys.begin(), keys.size()), Volume{requests, 100, 1000});
}

size_t count(const std::vector<ClusterEvent>& ev, ClusterChange c) {
    return static_cast<size_t>(
        std::count_if(ev.begin(), ev.end(), [&](const ClusterEvent& e) { return e.change == c; }));
}

TEST(LinkState, SharedKeyLinksAndReportsAtMinAccounts) {
    LinkState s(config());
    see(s, kT0, 1, {{kIp, 100, "198.51.100.7"}});
    see(s, kT0 + 1, 2, {{kIp, 100, "198.51.100.7"}});
    EXPECT_NE(s.cluster_of(1), 0u);
    EXPECT_EQ(s.cluster_of(1), s.cluster_of(2));
    EXPECT_TRUE(s.take_events().empty());  // 2 < min_accounts
    see(s, kT0 + 2, 3,
        {{kIp, 100, "198.51.100.7"}, {kJa4, 5, "t13d1516h2_8daaf6152771_02713d6af862"}});
    auto ev = s.take_events();
    ASSERT_EQ(ev.size(), 1u);
    EXPECT_EQ(ev[0].change, ClusterChange::Created);
    EXPECT_EQ(ev[0].accounts, 3u);
    EXPECT_EQ(ev[0].volume.requests, 3u);
    EXPECT_EQ(ev[0].volume.bytes(), 3300u);
    EXPECT_EQ(ev[0].first_seen, kT0);
    EXPECT_EQ(ev[0].last_seen, kT0 + 2);
    const uint64_t id = ev[0].cluster_id;
    auto accts = s.accounts(id);
    std::sort(accts.begin(), accts.end());
    EXPECT_EQ(accts, (std::vector<uint32_t>{1, 2, 3}));
    auto keys = s.keys(id);
    ASSERT_EQ(keys.size(), 2u);
    EXPECT_EQ(keys[0].text, "198.51.100.7");
    EXPECT_EQ(keys[0].accounts, 3u);
    EXPECT_EQ(keys[1].spec, kJa4);
    EXPECT_EQ(keys[1].accounts, 1u);
}

TEST(LinkState, VolumeThresholdDelaysTheFinding) {
    LinkConfig c = config();
    c.min_requests = 100;
    LinkState s(c);
    for (uint32_t a = 1; a <= 5; ++a)
        see(s, kT0 + a, a, {{kIp, 1, "ip"}}, 10);
    EXPECT_TRUE(s.take_events().empty());  // 5 accounts, 50 requests
    see(s, kT0 + 10, 1, {}, 50);           // volume without a new key still counts
    auto ev = s.take_events();
    ASSERT_EQ(ev.size(), 1u);
    EXPECT_EQ(ev[0].change, ClusterChange::Created);
    EXPECT_EQ(ev[0].volume.requests, 100u);
}

TEST(LinkState, IdStableAsItGrowsAndMergesKeepTheReportedOne) {
    LinkState s(config());
    for (uint32_t a = 1; a <= 4; ++a)
        see(s, kT0, a, {{kIp, 1, "a"}});
    const uint64_t big = s.cluster_of(1);
    for (uint32_t a = 11; a <= 12; ++a)
        see(s, kT0, a, {{kIp, 2, "b"}});
    const uint64_t small = s.cluster_of(11);
    ASSERT_NE(big, small);
    s.take_events();
    see(s, kT0 + 5, 5, {{kIp, 1, "a"}});  // grows: same id, an Update
    EXPECT_EQ(s.cluster_of(5), big);
    auto ev = s.take_events();
    ASSERT_EQ(ev.size(), 1u);
    EXPECT_EQ(ev[0].change, ClusterChange::Updated);
    EXPECT_EQ(ev[0].cluster_id, big);
    EXPECT_EQ(ev[0].accounts, 5u);
    // Account 12 also shows up on key "a": the two clusters merge under the reported id.
    see(s, kT0 + 6, 12, {{kIp, 1, "a"}});
    EXPECT_EQ(s.cluster_of(11), big);
    EXPECT_EQ(s.clusters(), 1u);
    ev = s.take_events();
    ASSERT_EQ(ev.size(), 1u);
    EXPECT_EQ(ev[0].accounts, 7u);
    LinkState::ClusterInfo info;
    EXPECT_FALSE(s.cluster(small, info));
}

TEST(LinkState, MergeOfTwoReportedClustersClosesOneIntoTheOther) {
    LinkState s(config());
    for (uint32_t a = 1; a <= 5; ++a)
        see(s, kT0, a, {{kIp, 1, "a"}});
    for (uint32_t a = 11; a <= 13; ++a)
        see(s, kT0, a, {{kIp, 2, "b"}});
    const uint64_t five = s.cluster_of(1), three = s.cluster_of(11);
    s.take_events();
    see(s, kT0 + 1, 20, {{kIp, 1, "a"}, {kIp, 2, "b"}});
    auto ev = s.take_events();
    ASSERT_EQ(count(ev, ClusterChange::Closed), 1u);
    const auto closed = *std::find_if(ev.begin(), ev.end(),
                                      [](auto& e) { return e.change == ClusterChange::Closed; });
    EXPECT_EQ(closed.cluster_id, three);
    EXPECT_EQ(closed.merged_into, five);
    EXPECT_EQ(s.cluster_of(13), five);
    LinkState::ClusterInfo info;
    ASSERT_TRUE(s.cluster(five, info));
    EXPECT_EQ(info.accounts, 9u);
    EXPECT_EQ(info.volume.requests, 9u);
}

TEST(LinkState, ExpirySplitsAClusterAndTheLargerPartKeepsTheId) {
    LinkState s(config());
    for (uint32_t a = 1; a <= 5; ++a)
        see(s, kT0 + 3000 * kSec, a, {{kIp, 1, "a"}});
    for (uint32_t a = 11; a <= 13; ++a)
        see(s, kT0 + 3000 * kSec, a, {{kIp, 2, "b"}});
    // A bridge seen once, early: it links both sides until its incidences expire.
    see(s, kT0, 99, {{kIp, 1, "a"}, {kIp, 2, "b"}});
    const uint64_t id = s.cluster_of(1);
    EXPECT_EQ(s.cluster_of(12), id);
    s.take_events();
    s.rebuild(kT0 + 3600 * kSec - 1);  // bridge still live
    EXPECT_EQ(s.cluster_of(12), id);
    s.rebuild(kT0 + 3600 * kSec);  // bridge expired exactly now
    EXPECT_EQ(s.cluster_of(1), id);
    EXPECT_NE(s.cluster_of(12), id);
    EXPECT_NE(s.cluster_of(12), 0u);
    EXPECT_EQ(s.cluster_of(99), 0u);  // no live incidence: untracked
    auto ev = s.take_events();
    // The surviving part shrank (Update); the split-off part is new and big enough (Create).
    EXPECT_EQ(count(ev, ClusterChange::Updated), 1u);
    EXPECT_EQ(count(ev, ClusterChange::Created), 1u);
    // Everything expires: clusters close.
    s.rebuild(kT0 + 6600 * kSec);
    EXPECT_EQ(s.clusters(), 0u);
    EXPECT_EQ(s.tracked_accounts(), 0u);
    EXPECT_EQ(count(s.take_events(), ClusterChange::Closed), 2u);
}

TEST(LinkState, PopularKeyStopsLinkingAndItsMergesAreUndone) {
    LinkConfig c = config();
    c.max_accounts_per_key = 10;
    LinkState s(c);
    // Two real farms of 3 accounts each, each on its own ja4.
    for (uint32_t a = 1; a <= 3; ++a)
        see(s, kT0, a, {{kJa4, 1, "farm-a"}});
    for (uint32_t a = 4; a <= 6; ++a)
        see(s, kT0, a, {{kJa4, 2, "farm-b"}});
    s.take_events();
    // A carrier NAT address used by 11 accounts, one of each farm among them. Up to 10 it
    // links like any key (it cannot know yet); the 11th makes it popular.
    for (uint32_t a = 1; a <= 10; ++a) {
        const uint32_t acct = a <= 9 ? 100 + a : 1;
        see(s, kT0 + a, acct, {{kIp, 7, "100.64.0.1"}});
    }
    EXPECT_EQ(s.cluster_of(1), s.cluster_of(105));
    s.take_events();
    see(s, kT0 + 11, 4, {{kIp, 7, "100.64.0.1"}});
    EXPECT_EQ(s.popular_keys(), 1u);
    // The merged cluster is suspect until rebuilt: no event for it.
    EXPECT_TRUE(s.take_events().empty());
    s.advance(s.now());  // the pending rebuild (gap 0 here)
    EXPECT_EQ(s.rebuilds(), 1u);
    EXPECT_NE(s.cluster_of(1), 0u);
    EXPECT_NE(s.cluster_of(4), 0u);
    EXPECT_NE(s.cluster_of(1), s.cluster_of(4));
    EXPECT_EQ(s.cluster_of(105), 0u);  // linked only through the popular key: not any more
    LinkState::ClusterInfo info;
    ASSERT_TRUE(s.cluster(s.cluster_of(1), info));
    EXPECT_EQ(info.accounts, 3u);
    // The wrongly grown cluster is reported at its true size again.
    bool shrunk = false;
    for (const auto& e : s.take_events())
        shrunk |= e.accounts == 3 && e.change == ClusterChange::Updated;
    EXPECT_TRUE(shrunk);
    // New accounts on the popular key do not join.
    see(s, kT0 + 100, 500, {{kIp, 7, "100.64.0.1"}});
    see(s, kT0 + 101, 501, {{kIp, 7, "100.64.0.1"}});
    EXPECT_EQ(s.cluster_of(500), 0u);
}

TEST(LinkState, SaveLoadKeepsIdsAndDoesNotReannounce) {
    LinkState s(config());
    for (uint32_t a = 1; a <= 4; ++a)
        see(s, kT0, a, {{kIp, 1, "a"}});
    for (uint32_t a = 11; a <= 13; ++a)
        see(s, kT0, a, {{kIp, 2, "b"}});
    s.take_events();
    std::vector<uint8_t> buf;
    StateWriter w(buf);
    s.save(w);
    LinkState t(config());
    StateReader r(buf);
    ASSERT_TRUE(t.load(r, 100));
    EXPECT_EQ(t.cluster_of(3), s.cluster_of(3));
    EXPECT_EQ(t.cluster_of(12), s.cluster_of(12));
    EXPECT_TRUE(t.take_events().empty());
    see(t, kT0 + 1, 5, {{kIp, 1, "a"}});
    auto ev = t.take_events();
    ASSERT_EQ(ev.size(), 1u);
    EXPECT_EQ(ev[0].change, ClusterChange::Updated);  // not a second Create
    EXPECT_EQ(ev[0].cluster_id, s.cluster_of(1));
    // Account ids beyond the table are refused.
    StateReader r2(buf);
    LinkState u(config());
    EXPECT_FALSE(u.load(r2, 5));
}

TEST(LinkState, MergeOfTwoHostsLinksAcrossThem) {
    LinkState a(config()), b(config());
    for (uint32_t x = 0; x < 2; ++x)
        see(a, kT0, x, {{kIp, 1, "a"}});
    for (uint32_t x = 0; x < 2; ++x)
        see(b, kT0, x, {{kIp, 1, "a"}});
    // Host b's accounts 0,1 are this table's 7,8.
    const std::vector<uint32_t> map = {7, 8};
    a.merge(b, map);
    EXPECT_NE(a.cluster_of(0), 0u);
    EXPECT_EQ(a.cluster_of(7), a.cluster_of(0));
    LinkState::ClusterInfo info;
    ASSERT_TRUE(a.cluster(a.cluster_of(0), info));
    EXPECT_EQ(info.accounts, 4u);
    EXPECT_EQ(count(a.take_events(), ClusterChange::Created), 1u);
}

// Key texts are stored as their '|'-separated parts, each part once: findings list the keys
// exactly as given, texts survive the rebuilds that free other keys, and a state tracks only
// accounts with a key.
TEST(LinkState, KeyTextsSurviveTheirPartsBeingShared) {
    LinkConfig c = config();
    c.min_accounts = 2;
    LinkState s(c);
    // The link_on tuple of the default pack: ja4|net24|tcp_sig|bucket(rtt_ms, 5).
    const std::string sig = "4:64+0:0:1460:mss*44,7:mss,sok,ts,nop,ws:df,id+:0";
    const std::string k1 = "t13d1812h1_85036bcba153_d41ae481755e|203.0.113.0/24|" + sig + "|25";
    const std::string k2 = "t13d1812h1_85036bcba153_d41ae481755e|198.51.100.0/24|" + sig + "|25";
    const std::string odd = "||a||" + std::string(300, '|') + "b";  // empty parts, > 255 of them
    see(s, kT0, 1000, {{0, 1, k1}});
    see(s, kT0 + 1, 2000, {{0, 1, k1}, {1, 7, odd}});
    see(s, kT0 + 2, 3000, {{0, 2, k2}});  // alone: no cluster
    EXPECT_EQ(s.tracked_accounts(), 3u);
    const uint64_t id = s.cluster_of(1000);
    ASSERT_NE(id, 0u);
    auto keys = s.keys(id);
    ASSERT_EQ(keys.size(), 2u);
    EXPECT_EQ(keys[0].text, k1);
    EXPECT_EQ(keys[0].accounts, 2u);
    EXPECT_EQ(keys[1].text, odd.substr(0, 256));  // key texts are kept up to 256 bytes
    // k2 and the odd key expire while k1 is used again: the rebuild frees k2's own part and
    // the odd text (and rewrites the stored text); the parts k2 shared with k1 stay.
    see(s, kT0 + 3000 * kSec, 1000, {{0, 1, k1}});
    see(s, kT0 + 3000 * kSec, 2000, {{0, 1, k1}});
    s.rebuild(kT0 + 3601 * kSec);
    EXPECT_EQ(s.tracked_accounts(), 2u);
    EXPECT_EQ(s.keys_tracked(), 1u);
    keys = s.keys(s.cluster_of(1000));
    ASSERT_EQ(keys.size(), 1u);
    EXPECT_EQ(keys[0].text, k1);
    // Saved and loaded: the same texts.
    std::vector<uint8_t> buf;
    StateWriter w(buf);
    s.save(w);
    LinkState t(c);
    StateReader r(buf);
    ASSERT_TRUE(t.load(r, 5000));
    ASSERT_EQ(t.keys(t.cluster_of(2000)).size(), 1u);
    EXPECT_EQ(t.keys(t.cluster_of(2000))[0].text, k1);
}

}  // namespace
}  // namespace sybilwatch::rules
