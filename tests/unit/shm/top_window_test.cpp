// The aggregates behind `sybilwatch top`: counts and distinct counts per JA4, account and
// network over a sliding window, bounded, and safe to print.
#include "shm/top_window.hpp"

#include <gtest/gtest.h>

#include <string>

namespace sybilwatch::shm {
namespace {

constexpr int64_t kSec = 1'000'000'000;
const char* kCurl = "t13d3112h2_e8f1e7e78f70_b26ce05bbdd6";
const char* kChrome = "t13d1516h2_8daaf6152771_e5627efa2ab1";

ObservationRecord rec(const char* ja4, const char* account, const char* src) {
    ObservationRecord r{};
    r.ja4.assign(ja4);
    r.account.assign(account);
    const net::IpAddress a = net::IpAddress::parse(src);
    r.src_family = a.family;
    std::copy(a.bytes.begin(), a.bytes.end(), r.src_addr);
    return r;
}

const TopRow* find(const std::vector<TopRow>& rows, const std::string& key) {
    for (const TopRow& r : rows)
        if (r.key == key) return &r;
    return nullptr;
}

TEST(TopWindow, NetworksAreSlash24AndSlash48) {
    EXPECT_EQ(TopWindow::network_of(net::IpAddress::parse("198.51.100.77")), "198.51.100.0/24");
    EXPECT_EQ(TopWindow::network_of(net::IpAddress::parse("2001:db8:aa:bb::1")),
              "2001:db8:aa::/48");
    EXPECT_EQ(TopWindow::network_of({}), "");
}

// A farm: one client stack over five accounts from three networks; one ordinary user.
TEST(TopWindow, CountsAndDistinctCounts) {
    TopWindow w({60 * kSec, 1000});
    const char* nets[] = {"203.0.113.5", "203.0.113.9", "198.51.100.1", "2001:db8:5::7"};
    for (int i = 0; i < 10; ++i) {
        const std::string acct = "farm-" + std::to_string(i % 5);
        w.add(i, rec(kCurl, acct.c_str(), nets[i % 4]));
    }
    w.add(20, rec(kChrome, "alice", "192.0.2.10"));
    w.add(21, rec(kChrome, "alice", "192.0.2.11"));
    w.add(22, rec("", "", "192.0.2.12"));  // no TLS, no account: counted for its network only

    const TopSnapshot s = w.snapshot(10);
    EXPECT_EQ(s.events, 13u);
    ASSERT_EQ(s.ja4.size(), 2u);
    EXPECT_EQ(s.ja4[0].key, kCurl);  // busiest first
    EXPECT_EQ(s.ja4[0].count, 10u);
    EXPECT_EQ(s.ja4[0].distinct1, 5u);  // accounts
    EXPECT_EQ(s.ja4[0].distinct2, 3u);  // 203.0.113.0/24, 198.51.100.0/24, 2001:db8:5::/48
    EXPECT_EQ(s.ja4[1].key, kChrome);
    EXPECT_EQ(s.ja4[1].distinct1, 1u);
    EXPECT_EQ(s.ja4[1].distinct2, 1u);

    const TopRow* alice = find(s.accounts, "alice");
    ASSERT_NE(alice, nullptr);
    EXPECT_EQ(alice->count, 2u);
    EXPECT_EQ(alice->distinct1, 1u);  // ja4s
    EXPECT_EQ(alice->distinct2, 1u);  // networks: both in 192.0.2.0/24
    const TopRow* farm2 = find(s.accounts, "farm-2");
    ASSERT_NE(farm2, nullptr);
    EXPECT_EQ(farm2->count, 2u);      // i = 2 and 7
    EXPECT_EQ(farm2->distinct2, 2u);  // 198.51.100.0/24 and 2001:db8:5::/48

    const TopRow* net = find(s.networks, "203.0.113.0/24");
    ASSERT_NE(net, nullptr);
    EXPECT_EQ(net->count, 6u);      // i = 0, 1, 4, 5, 8, 9
    EXPECT_EQ(net->distinct1, 4u);  // farm-0, -1, -4, -3
    EXPECT_EQ(net->distinct2, 1u);  // ja4s
    const TopRow* home = find(s.networks, "192.0.2.0/24");
    ASSERT_NE(home, nullptr);
    EXPECT_EQ(home->count, 3u);
    EXPECT_EQ(home->distinct1, 1u);
    EXPECT_EQ(find(s.networks, "2001:db8:5::/48")->count, 2u);
}

TEST(TopWindow, OldEventsLeaveTheWindow) {
    TopWindow w({10 * kSec, 1000});
    w.add(0, rec(kCurl, "a", "192.0.2.1"));
    w.add(5 * kSec, rec(kChrome, "b", "192.0.2.1"));
    w.expire(12 * kSec);  // the first is 12 s old
    const TopSnapshot s = w.snapshot(10);
    EXPECT_EQ(s.events, 1u);
    ASSERT_EQ(s.ja4.size(), 1u);
    EXPECT_EQ(s.ja4[0].key, kChrome);
    EXPECT_EQ(find(s.accounts, "a"), nullptr);
    EXPECT_EQ(w.keys(), 3u);  // names of expired keys are released
}

TEST(TopWindow, MemoryIsBoundedByMaxEvents) {
    TopWindow w({3600 * kSec, 100});
    for (int i = 0; i < 10'000; ++i) {
        const std::string acct = "acct-" + std::to_string(i);
        w.add(i, rec(kCurl, acct.c_str(), "192.0.2.1"));
    }
    EXPECT_EQ(w.events(), 100u);
    EXPECT_EQ(w.keys(), 102u);  // 100 accounts, one ja4, one network
    const TopSnapshot s = w.snapshot(5);
    EXPECT_TRUE(s.truncated);
    EXPECT_EQ(s.accounts.size(), 5u);
    EXPECT_EQ(s.ja4[0].distinct1, 100u);
    EXPECT_EQ(s.accounts[0].key, "acct-9900");  // ties: by key; only the newest 100 remain
}

TEST(TopWindow, RenderedTableCannotCarryTerminalEscapes) {
    TopWindow w({60 * kSec, 100});
    w.add(0, rec(kCurl, "\x1b[2J\x1b]0;pwned\x07", "192.0.2.1"));
    w.add(1, rec(kCurl, std::string(100, 'L').c_str(), "192.0.2.1"));
    const std::string out = render_top(w.snapshot(10), "ring\x1b[H");
    EXPECT_EQ(out.find('\x1b'), std::string::npos);
    EXPECT_EQ(out.find('\x07'), std::string::npos);
    EXPECT_NE(out.find("?[2J?]0;pwned?"), std::string::npos) << out;
    EXPECT_NE(out.find(std::string(43, 'L') + "~"), std::string::npos) << out;
    EXPECT_NE(out.find(kCurl), std::string::npos);
    EXPECT_NE(out.find("window 60s, 2 observations"), std::string::npos) << out;
}

}  // namespace
}  // namespace sybilwatch::shm
