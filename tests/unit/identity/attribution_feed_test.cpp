// The attribution feed: parsed records to the joiner at once live, and, replaying, held until
// the packets' clock reaches them (bounded, in log order, nothing dropped).
#include "identity/attribution_feed.hpp"

#include <gtest/gtest.h>

#include <string>

#include "sinks.hpp"

using namespace sybilwatch;
using namespace sybilwatch::identity;
using sybilwatch::identity::test::Attributed;

namespace {

constexpr int64_t kSec = 1'000'000'000;
constexpr int64_t kT0 = 1'795'791'767 * kSec;

std::string line(int64_t ts_ns, int port, const char* account) {
    return "{\"ts\":" + std::to_string(ts_ns / kSec) + "." +
           std::to_string(ts_ns % kSec / 1'000'000 + 1000).substr(1) +
           ",\"client_ip\":\"10.215.1.50\",\"client_port\":" + std::to_string(port) +
           ",\"server_port\":443,\"account\":\"" + account + "\"}";
}

fingerprint::Observation closed_conn(int64_t ts_ns, int64_t duration_ms) {
    fingerprint::Observation o;
    o.src = net::IpAddress::parse("10.215.1.50");
    o.dst = net::IpAddress::parse("10.214.0.1");
    o.src_port = 40001;
    o.dst_port = 443;
    o.ts_ns = ts_ns;
    o.end = fingerprint::EndReason::Fin;
    o.cadence.duration_us = static_cast<uint64_t>(duration_ms) * 1000;
    return o;
}

}  // namespace

TEST(AttributionFeed, LiveRecordsGoToTheJoinerAtOnce) {
    Attributed out;
    Joiner j(JoinerConfig{}, out);
    AttributionFeed feed(j);
    feed.on_line(line(kT0, 40001, "acct-1"));
    feed.on_line("not json");
    EXPECT_EQ(j.stats().records, 1u);
    EXPECT_EQ(j.pending_records(), 1u);
    EXPECT_EQ(feed.held(), 0u);
}

TEST(AttributionFeed, ReplayedRecordsWaitForThePacketClock) {
    // The lab's port reuse: two connections from one address and port 0.5 s apart, two
    // accounts. With the whole log read first the second record would meet the first one
    // pending (a conflict) and the second connection would go unattributed.
    Attributed out;
    Joiner j(JoinerConfig{}, out);
    AttributionFeed feed(j);
    feed.hold_until_clock(16);
    feed.on_line(line(kT0 + 10'000'000, 40001, "acct-1"));
    feed.on_line(line(kT0 + 530'000'000, 40001, "acct-2"));
    EXPECT_EQ(feed.held(), 2u);
    EXPECT_EQ(j.stats().records, 0u);

    feed.release(kT0 + 10'000'000);  // the packet at the first record's time
    EXPECT_EQ(j.stats().records, 1u);
    j.on_observation(closed_conn(kT0, 20));
    feed.release(kT0 + 600'000'000);
    j.on_observation(closed_conn(kT0 + 525'000'000, 20));
    ASSERT_EQ(out.out.size(), 2u);
    EXPECT_EQ(out.out[0].account, "acct-1");
    EXPECT_EQ(out.out[1].account, "acct-2");
    EXPECT_EQ(j.stats().conflicts, 0u);
}

TEST(AttributionFeed, AFullRingPassesTheOldestOnEarlyAndDropsNothing) {
    Attributed out;
    Joiner j(JoinerConfig{}, out);
    AttributionFeed feed(j);
    feed.hold_until_clock(4);
    for (int i = 0; i < 10; ++i)
        feed.on_line(line(kT0 + i * kSec, 50000 + i, "acct"));
    EXPECT_EQ(feed.held(), 4u);
    EXPECT_EQ(j.stats().records, 6u);  // the six oldest went on early
    feed.release(kT0 + 7 * kSec);
    EXPECT_EQ(j.stats().records, 8u);
    feed.release_all();
    EXPECT_EQ(j.stats().records, 10u);
    EXPECT_EQ(feed.held(), 0u);
}
