#include "identity/joiner.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <map>

#include "capture/pcap_file.hpp"
#include "fingerprint/engine.hpp"
#include "identity/attribution_feed.hpp"
#include "sinks.hpp"

using namespace sybilwatch;
using namespace sybilwatch::identity;
using sybilwatch::identity::test::Attributed;

namespace {

constexpr int64_t kSec = 1'000'000'000;
constexpr int64_t kT0 = 1'795'773'579 * kSec;  // the time of the nginx sample log

fingerprint::Observation conn(const char* ip, uint16_t port, int64_t ts_ns,
                              uint16_t server_port = 443) {
    fingerprint::Observation o;
    o.src = net::IpAddress::parse(ip);
    o.dst = net::IpAddress::parse("192.0.2.1");
    o.src_port = port;
    o.dst_port = server_port;
    o.ts_ns = ts_ns;
    o.ja4.assign("t13d1516h2_8daaf6152771_02713d6af862");
    return o;
}

AttributionRecord rec(const char* ip, uint16_t port, int64_t ts_ns, const char* account,
                      uint16_t server_port = 0) {
    AttributionRecord r;
    r.client_ip = net::IpAddress::parse(ip);
    r.client_port = port;
    r.ts = static_cast<double>(ts_ns) / 1e9;
    r.account = account;
    r.server_port = server_port;
    r.user_agent = "ua";
    r.request_id = "rid";
    return r;
}

// The accounting identities promised in joiner.hpp.
void expect_balanced(const Joiner& j) {
    const JoinerStats& s = j.stats();
    EXPECT_EQ(s.records, s.matched + s.late + s.repeats + s.conflicts + s.stale_records +
                             s.expired_records + s.evicted_records + j.pending_records());
    EXPECT_EQ(s.observations, s.matched + s.unattributed + j.waiting());
}

size_t resident_bytes() {
    std::ifstream statm("/proc/self/statm");
    size_t pages = 0, resident = 0;
    statm >> pages >> resident;
    return resident * static_cast<size_t>(::sysconf(_SC_PAGESIZE));
}

JoinerConfig small() {
    JoinerConfig c;
    c.wait_ns = 5 * kSec;
    c.record_ttl_ns = 120 * kSec;
    c.linger_ns = 300 * kSec;
    c.skew_ns = 2 * kSec;
    return c;
}

}  // namespace

TEST(Joiner, RecordBeforeConnection) {
    Attributed out;
    Joiner j(small(), out);
    j.tick(kT0);
    j.on_attribution(rec("10.0.0.1", 40000, kT0 + kSec, "alice"));
    EXPECT_EQ(j.pending_records(), 1u);
    EXPECT_TRUE(out.out.empty());
    j.on_observation(conn("10.0.0.1", 40000, kT0));
    ASSERT_EQ(out.out.size(), 1u);
    EXPECT_EQ(out.out[0].account, "alice");
    EXPECT_EQ(out.out[0].user_agent, "ua");
    EXPECT_EQ(out.out[0].request_id, "rid");
    EXPECT_EQ(out.out[0].ts_ns, kT0);
    EXPECT_DOUBLE_EQ(out.out[0].record_ts, static_cast<double>(kT0 + kSec) / 1e9);
    EXPECT_EQ(j.stats().matched, 1u);
    EXPECT_EQ(j.stats().matched_record_first, 1u);
    EXPECT_EQ(j.pending_records(), 0u);
    EXPECT_EQ(j.waiting(), 0u);
    EXPECT_EQ(j.connections(), 1u);
    EXPECT_DOUBLE_EQ(j.hit_rate(), 1.0);
    expect_balanced(j);
}

TEST(Joiner, ConnectionBeforeRecordWithinTheWait) {
    Attributed out;
    Joiner j(small(), out);
    j.tick(kT0);
    j.on_observation(conn("2001:db8::5", 40000, kT0));
    EXPECT_TRUE(out.out.empty());
    EXPECT_EQ(j.waiting(), 1u);
    j.tick(kT0 + 4 * kSec);  // still within the 5 s
    EXPECT_TRUE(out.out.empty());
    j.on_attribution(rec("2001:db8::5", 40000, kT0 + 3 * kSec, "bob"));
    ASSERT_EQ(out.out.size(), 1u);  // passed on as soon as the account is known
    EXPECT_EQ(out.out[0].account, "bob");
    EXPECT_EQ(j.waiting(), 0u);
    EXPECT_EQ(j.stats().matched_record_first, 0u);
    j.tick(kT0 + 60 * kSec);
    EXPECT_EQ(out.out.size(), 1u);  // never twice
    expect_balanced(j);
}

TEST(Joiner, WaitOverThenLateRecord) {
    Attributed out;
    Joiner j(small(), out);
    j.tick(kT0);
    j.on_observation(conn("10.0.0.1", 40000, kT0));
    j.tick(kT0 + 5 * kSec);
    ASSERT_EQ(out.out.size(), 1u);
    EXPECT_TRUE(out.out[0].account.empty());
    EXPECT_EQ(j.stats().unattributed, 1u);
    EXPECT_DOUBLE_EQ(j.hit_rate(), 0.0);

    // A long request logged when it ended, after the wait.
    j.on_attribution(rec("10.0.0.1", 40000, kT0 + 30 * kSec, "carol"));
    EXPECT_EQ(out.out.size(), 1u);
    EXPECT_EQ(j.stats().late, 1u);
    ASSERT_EQ(out.late.size(), 1u);
    EXPECT_EQ(out.late[0].account, "carol");
    EXPECT_EQ(out.late[0].port, 40000);
    EXPECT_EQ(out.late[0].connection_ts_ns, kT0);
    // The late account counts as the connection's first: more records compare with it.
    j.on_attribution(rec("10.0.0.1", 40000, kT0 + 31 * kSec, "carol"));
    j.on_attribution(rec("10.0.0.1", 40000, kT0 + 32 * kSec, "mallory"));
    EXPECT_EQ(j.stats().repeats, 1u);
    EXPECT_EQ(j.stats().conflicts, 1u);
    EXPECT_EQ(out.late.size(), 1u);
    expect_balanced(j);
}

TEST(Joiner, ZeroWaitPassesOnAtOnce) {
    Attributed out;
    auto cfg = small();
    cfg.wait_ns = 0;
    Joiner j(cfg, out);
    j.on_observation(conn("10.0.0.1", 1, kT0));
    ASSERT_EQ(out.out.size(), 1u);
    EXPECT_TRUE(out.out[0].account.empty());
    j.on_attribution(rec("10.0.0.1", 1, kT0, "a"));
    EXPECT_EQ(j.stats().late, 1u);
    expect_balanced(j);
}

TEST(Joiner, KeepAliveConnectionFirstAccountStays) {
    Attributed out;
    Joiner j(small(), out);
    j.tick(kT0);
    j.on_observation(conn("10.0.0.1", 40000, kT0));
    j.on_attribution(rec("10.0.0.1", 40000, kT0 + 1 * kSec, "alice"));
    j.on_attribution(rec("10.0.0.1", 40000, kT0 + 2 * kSec, "alice"));
    j.on_attribution(rec("10.0.0.1", 40000, kT0 + 3 * kSec, "eve"));
    j.on_attribution(rec("10.0.0.1", 40000, kT0 + 4 * kSec, "alice"));
    ASSERT_EQ(out.out.size(), 1u);
    EXPECT_EQ(out.out[0].account, "alice");
    EXPECT_EQ(j.stats().repeats, 2u);
    EXPECT_EQ(j.stats().conflicts, 1u);
    expect_balanced(j);
}

TEST(Joiner, ConflictingRecordsBeforeTheConnection) {
    Attributed out;
    Joiner j(small(), out);
    j.tick(kT0);
    j.on_attribution(rec("10.0.0.1", 40000, kT0 + 1 * kSec, "alice"));
    j.on_attribution(rec("10.0.0.1", 40000, kT0 + 2 * kSec, "eve"));
    j.on_attribution(rec("10.0.0.1", 40000, kT0 + 3 * kSec, "alice"));
    EXPECT_EQ(j.pending_records(), 1u);
    j.on_observation(conn("10.0.0.1", 40000, kT0));
    ASSERT_EQ(out.out.size(), 1u);
    EXPECT_EQ(out.out[0].account, "alice");
    EXPECT_EQ(j.stats().conflicts, 1u);
    EXPECT_EQ(j.stats().repeats, 1u);
    expect_balanced(j);
}

TEST(Joiner, ServerPortMustAgreeWhenGiven) {
    Attributed out;
    Joiner j(small(), out);
    j.tick(kT0);
    j.on_observation(conn("10.0.0.1", 40000, kT0, 443));
    j.on_attribution(rec("10.0.0.1", 40000, kT0, "other-service", 8443));
    EXPECT_TRUE(out.out.empty());  // another connection (to port 8443) from the same port
    EXPECT_EQ(j.pending_records(), 1u);
    j.on_attribution(rec("10.0.0.1", 40000, kT0, "right", 443));
    ASSERT_EQ(out.out.size(), 1u);
    EXPECT_EQ(out.out[0].account, "right");
    expect_balanced(j);
}

TEST(Joiner, AddressesAndPortsMustBothAgree) {
    Attributed out;
    Joiner j(small(), out);
    j.tick(kT0);
    j.on_attribution(rec("10.0.0.1", 40001, kT0, "a"));
    j.on_attribution(rec("10.0.0.2", 40000, kT0, "b"));
    j.on_attribution(rec("::ffff:10.0.0.1", 40000, kT0, "c"));  // IPv6 here: not the IPv4 one
    j.on_observation(conn("10.0.0.1", 40000, kT0));
    j.tick(kT0 + 10 * kSec);
    ASSERT_EQ(out.out.size(), 1u);
    EXPECT_TRUE(out.out[0].account.empty());
    EXPECT_EQ(j.pending_records(), 3u);
    expect_balanced(j);
}

TEST(Joiner, RecordsFromBeforeTheConnectionAreNotItsOwn) {
    Attributed out;
    Joiner j(small(), out);
    j.tick(kT0);
    // A record for an earlier connection from this port whose observation never came.
    j.on_attribution(rec("10.0.0.1", 40000, kT0, "previous"));
    j.on_observation(conn("10.0.0.1", 40000, kT0 + 60 * kSec));
    EXPECT_TRUE(out.out.empty());
    EXPECT_EQ(j.stats().expired_records, 1u);
    EXPECT_EQ(j.pending_records(), 0u);
    j.on_attribution(rec("10.0.0.1", 40000, kT0 + 61 * kSec, "current"));
    ASSERT_EQ(out.out.size(), 1u);
    EXPECT_EQ(out.out[0].account, "current");
    expect_balanced(j);
}

TEST(Joiner, ClosedConnectionLeavesLaterRecordsForTheNextOne) {
    // Offline (observations emitted at the close): a record after the connection's end is for
    // the next connection from the same address and port.
    Attributed out;
    Joiner j(small(), out);
    j.tick(kT0);
    j.on_attribution(rec("10.0.0.1", 40000, kT0 + 1 * kSec, "first"));
    j.on_attribution(rec("10.0.0.1", 40000, kT0 + 20 * kSec, "second"));  // pending: conflict
    EXPECT_EQ(j.stats().conflicts, 1u);

    Attributed out2;
    Joiner k(small(), out2);
    k.tick(kT0);
    k.on_attribution(rec("10.0.0.1", 40000, kT0 + 20 * kSec, "second"));
    auto first = conn("10.0.0.1", 40000, kT0);
    first.end = fingerprint::EndReason::Fin;
    first.cadence.duration_us = 3'000'000;  // ended at kT0 + 3 s
    k.on_observation(first);
    EXPECT_TRUE(out2.out.empty());  // the record at +20 s is not this connection's
    EXPECT_EQ(k.pending_records(), 1u);
    auto second = conn("10.0.0.1", 40000, kT0 + 19 * kSec);
    second.end = fingerprint::EndReason::Fin;
    second.cadence.duration_us = 2'000'000;
    k.on_observation(second);
    // The next connection from the address and port ends the first one's wait (one waiting
    // connection per address and port), and takes the record that falls in its lifetime.
    ASSERT_EQ(out2.out.size(), 2u);
    EXPECT_EQ(out2.out[0].ts_ns, kT0);
    EXPECT_TRUE(out2.out[0].account.empty());
    EXPECT_EQ(out2.out[1].account, "second");
    EXPECT_EQ(out2.out[1].ts_ns, kT0 + 19 * kSec);
    EXPECT_EQ(k.waiting(), 0u);
    expect_balanced(k);
}

TEST(Joiner, ImmediatePortReuseByAnotherAccountIsANewConnection) {
    // What `sybilwatch replay` saw in the lab: the server closed first, so the client had no
    // TIME_WAIT and opened the next connection (another API key) from the same port 0.5 s later.
    // Offline the first connection is already remembered when the second one's record comes.
    Attributed out;
    Joiner j(small(), out);
    j.tick(kT0);
    auto first = conn("10.0.0.1", 40001, kT0);
    first.end = fingerprint::EndReason::Fin;
    first.cadence.duration_us = 20'000;  // ended at kT0 + 20 ms
    j.on_attribution(rec("10.0.0.1", 40001, kT0 + 10'000'000, "acct-1"));
    j.on_observation(first);
    j.on_attribution(rec("10.0.0.1", 40001, kT0 + 530'000'000, "acct-2"));
    EXPECT_EQ(j.stats().conflicts, 0u);
    EXPECT_EQ(j.pending_records(), 1u);
    auto second = conn("10.0.0.1", 40001, kT0 + 525'000'000);
    second.end = fingerprint::EndReason::Fin;
    second.cadence.duration_us = 20'000;
    j.on_observation(second);
    ASSERT_EQ(out.out.size(), 2u);
    EXPECT_EQ(out.out[0].account, "acct-1");
    EXPECT_EQ(out.out[1].account, "acct-2");
    EXPECT_EQ(j.stats().matched, 2u);
    expect_balanced(j);

    // Within the connection's lifetime another account is still a conflict (keep-alive).
    j.on_attribution(rec("10.0.0.1", 40001, kT0 + 535'000'000, "acct-3"));
    EXPECT_EQ(j.stats().conflicts, 1u);
    // ... and after its end the same account is a repeat, not a new connection.
    j.on_attribution(rec("10.0.0.1", 40001, kT0 + 900'000'000, "acct-2"));
    EXPECT_EQ(j.stats().repeats, 1u);
    expect_balanced(j);
}

TEST(Joiner, PortReuseReleasesTheWaitingConnection) {
    Attributed out;
    Joiner j(small(), out);
    j.tick(kT0);
    j.on_observation(conn("10.0.0.1", 40000, kT0));
    j.on_observation(conn("10.0.0.1", 40000, kT0 + kSec));
    ASSERT_EQ(out.out.size(), 1u);
    EXPECT_EQ(out.out[0].ts_ns, kT0);
    EXPECT_EQ(j.waiting(), 1u);
    j.on_attribution(rec("10.0.0.1", 40000, kT0 + 2 * kSec, "a"));
    ASSERT_EQ(out.out.size(), 2u);
    EXPECT_EQ(out.out[1].ts_ns, kT0 + kSec);
    EXPECT_EQ(out.out[1].account, "a");
    expect_balanced(j);
}

TEST(Joiner, PendingRecordsExpireAndStaleOnesAreNotKept) {
    Attributed out;
    Joiner j(small(), out);
    j.tick(kT0);
    j.on_attribution(rec("10.0.0.1", 1, kT0, "a"));
    j.tick(kT0 + 119 * kSec);
    EXPECT_EQ(j.pending_records(), 1u);
    j.tick(kT0 + 120 * kSec);
    EXPECT_EQ(j.pending_records(), 0u);
    EXPECT_EQ(j.stats().expired_records, 1u);
    // Written two minutes before the clock: whatever connection it named is gone.
    j.on_attribution(rec("10.0.0.1", 2, kT0 - kSec, "b"));
    EXPECT_EQ(j.stats().stale_records, 1u);
    EXPECT_EQ(j.pending_records(), 0u);
    // Remembered connections are forgotten after the linger.
    j.on_observation(conn("10.0.0.1", 3, kT0 + 120 * kSec));
    j.tick(kT0 + 125 * kSec);
    EXPECT_EQ(j.connections(), 1u);
    j.tick(kT0 + 425 * kSec);
    EXPECT_EQ(j.connections(), 0u);
    expect_balanced(j);
}

TEST(Joiner, EvictionUnderFloodWithExactCounts) {
    Attributed out;
    auto cfg = small();
    cfg.max_pending_records = 100;
    cfg.max_waiting = 10;
    cfg.max_connections = 50;
    Joiner j(cfg, out);
    j.tick(kT0);
    // 1000 records naming distinct connections that never come.
    for (uint16_t p = 1; p <= 1000; ++p)
        j.on_attribution(rec("198.51.100.9", p, kT0, "x"));
    EXPECT_EQ(j.pending_records(), 100u);
    EXPECT_EQ(j.stats().evicted_records, 900u);
    // The newest survived, the oldest went (FIFO).
    j.on_observation(conn("198.51.100.9", 1000, kT0));
    j.on_observation(conn("198.51.100.9", 1, kT0));
    ASSERT_EQ(out.out.size(), 1u);
    EXPECT_EQ(out.out[0].account, "x");
    EXPECT_EQ(out.out[0].src_port, 1000);
    EXPECT_EQ(j.waiting(), 1u);

    // 25 more connections than there is room to hold: the oldest are passed on early.
    for (uint16_t p = 2001; p <= 2025; ++p)
        j.on_observation(conn("203.0.113.1", p, kT0));
    EXPECT_EQ(j.waiting(), 10u);
    EXPECT_EQ(j.stats().waiting_evicted, 16u);  // 26 held, 10 kept
    EXPECT_EQ(j.stats().unattributed, 16u);
    // Remembered connections are capped too: 1 matched + 16 passed on, then 40 more.
    j.tick(kT0 + 10 * kSec);  // the 10 waiting are passed on
    EXPECT_EQ(j.connections(), 27u);
    for (uint16_t p = 3001; p <= 3040; ++p)
        j.on_observation(conn("203.0.113.2", p, kT0));
    j.tick(kT0 + 20 * kSec);
    EXPECT_EQ(j.connections(), 50u);
    EXPECT_EQ(j.stats().evicted_connections, 17u);
    expect_balanced(j);
}

TEST(Joiner, MemoryStaysBoundedUnderAMillionUnmatchedRecordsAndGarbage) {
    Attributed out;
    auto cfg = small();
    cfg.max_pending_records = 4096;
    Joiner j(cfg, out);
    AttributionFeed feed(j);
    j.tick(kT0);
    AttributionRecord r = rec("10.0.0.0", 1, kT0, "flood-account-with-a-long-enough-name");
    size_t rss_full = 0;
    for (uint32_t i = 0; i < 1'000'000; ++i) {
        if (i == 10'000) rss_full = resident_bytes();  // the table is full from here on
        r.client_ip.bytes[1] = static_cast<uint8_t>(i >> 16);
        r.client_ip.bytes[2] = static_cast<uint8_t>(i >> 8);
        r.client_port = static_cast<uint16_t>(1 + (i & 0xfff));
        j.on_attribution(r);
        ASSERT_LE(j.pending_records(), 4096u);
    }
    EXPECT_EQ(j.pending_records(), 4096u);
    EXPECT_EQ(j.stats().evicted_records, 1'000'000u - 4096u);
    // Evicted slots are reused with their string capacity: nothing grows past the cap.
    EXPECT_LT(resident_bytes(), rss_full + (1u << 20));
    // Garbage lines cost a rejection count and nothing else.
    std::string line;
    for (int i = 0; i < 100'000; ++i) {
        line = "{\"ts\":" + std::to_string(i) + ",\"client_ip\":\"not-an-ip\"}";
        feed.on_line(line);
    }
    EXPECT_EQ(feed.parse_stats().count(ParseResult::BadIp), 100'000u);
    EXPECT_EQ(j.stats().records, 1'000'000u);
    EXPECT_EQ(j.pending_records(), 4096u);
    expect_balanced(j);
}

TEST(Joiner, RealNginxLogAgainstItsConnections) {
    // The sample log: alice (IPv4), bob (IPv6), one request without an account, and two
    // requests by alice on one keep-alive connection.
    Attributed out;
    Joiner j(small(), out);
    AttributionFeed feed(j);
    j.tick(kT0);
    std::ifstream in(std::string(SW_SOURCE_DIR) +
                     "/tests/unit/identity/testdata/nginx-1.22.1-access.jsonl");
    for (std::string l; std::getline(in, l);)
        feed.on_line(l);
    EXPECT_EQ(feed.parse_stats().accepted, 4u);
    EXPECT_EQ(feed.parse_stats().count(ParseResult::NoAccount), 1u);
    EXPECT_EQ(j.pending_records(), 3u);
    EXPECT_EQ(j.stats().repeats, 1u);
    j.on_observation(conn("127.0.0.1", 55808, kT0, 18480));
    j.on_observation(conn("::1", 48634, kT0, 18480));
    j.on_observation(conn("127.0.0.1", 55818, kT0, 18480));  // the anonymous request
    j.on_observation(conn("127.0.0.1", 55832, kT0, 18480));
    j.tick(kT0 + 10 * kSec);
    ASSERT_EQ(out.out.size(), 4u);
    std::map<uint16_t, std::string> by_port;
    for (const auto& e : out.out)
        by_port[e.src_port] = e.account;
    EXPECT_EQ(by_port[55808], "alice");
    EXPECT_EQ(by_port[48634], "bob");
    EXPECT_EQ(by_port[55818], "");
    EXPECT_EQ(by_port[55832], "alice");
    EXPECT_DOUBLE_EQ(j.hit_rate(), 0.75);
    expect_balanced(j);
}

namespace {

struct Collect : fingerprint::ObservationSink {
    std::vector<fingerprint::Observation> obs;
    void on_observation(const fingerprint::Observation& o) override { obs.push_back(o); }
};

template <typename Sink>
void run_engine(const std::string& pcap, fingerprint::EmitAt emit, Sink& sink) {
    fingerprint::EngineConfig cfg;
    cfg.emit = emit;
    fingerprint::Engine engine(cfg, sink);
    capture::PcapFile file(pcap);
    capture::Frame f;
    while (file.next(f))
        engine.on_frame(f.link, f.ts_ns, f.data, f.wire_len);
    engine.flush();
}

}  // namespace

// The fingerprint engine's own observations of a real capture, joined through the
// ObservationSink interface, in both emission modes.
TEST(Joiner, EngineObservationsFromARealCapture) {
    const std::string pcap = std::string(SW_SHARED_DIR) + "/conformance/foxio/pcap/latest.pcapng";
    for (auto emit : {fingerprint::EmitAt::Handshake, fingerprint::EmitAt::Close}) {
        Collect first;
        run_engine(pcap, emit, first);
        ASSERT_GE(first.obs.size(), 3u);

        Attributed out;
        Joiner j(small(), out);
        j.tick(first.obs.front().ts_ns);
        std::map<std::pair<net::IpAddress, uint16_t>, std::string> want;
        for (const auto& o : first.obs) {
            // A request in the middle of the connection, as the gateway would log it.
            const int64_t mid = o.ts_ns + o.cadence.duration_us * 500;
            const std::string account = "acct-" + std::to_string(o.src_port);
            AttributionRecord r;
            r.client_ip = o.src;
            r.client_port = o.src_port;
            r.ts = static_cast<double>(mid) / 1e9;
            r.account = account;
            j.on_attribution(r);
            want[{o.src, o.src_port}] = account;
        }
        run_engine(pcap, emit, j);
        j.flush();
        ASSERT_EQ(out.out.size(), first.obs.size());
        for (const auto& e : out.out)
            EXPECT_EQ(e.account, (want[{e.src, e.src_port}]));
        EXPECT_EQ(j.stats().matched, first.obs.size());
        expect_balanced(j);
    }
}
