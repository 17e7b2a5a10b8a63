// The engine on hand-built connections: a real ClientHello (tests/data/tls) delivered in one
// segment, in several, out of order, retransmitted; timing; roles; flow lifecycle and bounds.
#include "fingerprint/engine.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "fingerprint/observation_json.hpp"
#include "unit/net/packet_builder.hpp"

namespace sybilwatch::fingerprint {
namespace {

namespace tb = net::test;
using tb::Frame;

Frame read_hex(const std::string& name) {
    std::ifstream in(std::string(SW_SOURCE_DIR) + "/tests/data/tls/" + name);
    EXPECT_TRUE(in) << name;
    Frame out;
    for (std::string line; std::getline(in, line);) {
        if (line.empty() || line[0] == '#') continue;
        for (size_t i = 0; i + 1 < line.size(); i += 2)
            out.push_back(static_cast<uint8_t>(std::stoul(line.substr(i, 2), nullptr, 16)));
    }
    return out;
}

// The expected.tsv row of a hello file: column name -> value.
std::map<std::string, std::string> expected(const std::string& name) {
    std::ifstream in(std::string(SW_SOURCE_DIR) + "/tests/data/tls/expected.tsv");
    std::vector<std::string> header;
    for (std::string line; std::getline(in, line);) {
        if (line.empty() || line[0] == '#') continue;
        std::vector<std::string> cols;
        std::stringstream ls(line);
        for (std::string c; std::getline(ls, c, '\t');)
            cols.push_back(c);
        if (header.empty()) {
            header = cols;
            continue;
        }
        if (cols[0] != name) continue;
        std::map<std::string, std::string> row;
        for (size_t i = 0; i < header.size() && i < cols.size(); ++i)
            row[header[i]] = cols[i];
        return row;
    }
    ADD_FAILURE() << "no expected row " << name;
    return {};
}

struct Collect : ObservationSink {
    void on_observation(const Observation& o) override { seen.push_back(o); }
    std::vector<Observation> seen;
};

constexpr uint8_t SYN = 0x02, ACK = 0x10, PSH = 0x08, FIN = 0x01, RST = 0x04;
const Frame kSynOpts = {2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7};

// A client/server pair and a clock; each call builds one Ethernet/IPv4/TCP frame.
struct Conn {
    std::string_view client = "192.0.2.10", server = "198.51.100.1";
    uint16_t cport = 40000, sport = 443;
    uint32_t cisn = 1000, sisn = 5000;
    uint8_t cttl = 64, sttl = 57;

    Frame frame(bool from_client, uint8_t flags, uint32_t seq, uint32_t ack, Frame payload = {},
                Frame options = {}) const {
        tb::TcpSpec t;
        t.sport = from_client ? cport : sport;
        t.dport = from_client ? sport : cport;
        t.seq = seq;
        t.ack = ack;
        t.flags = flags;
        t.window = from_client ? 64240 : 65160;
        t.options = std::move(options);
        t.payload = std::move(payload);
        tb::Ipv4Spec ip;
        ip.src = from_client ? client : server;
        ip.dst = from_client ? server : client;
        ip.ttl = from_client ? cttl : sttl;
        return tb::eth(0x0800, tb::ipv4(ip, tb::tcp(t)));
    }
};

class Feeder {
  public:
    explicit Feeder(Engine& e) : e_(e) {}
    void operator()(const Frame& f, int64_t advance_us = 100) {
        ts_ += advance_us * 1000;
        e_.on_frame(net::LinkType::Ethernet, ts_, f, static_cast<uint32_t>(f.size()));
    }
    int64_t now() const { return ts_; }

  private:
    Engine& e_;
    int64_t ts_ = 1'700'000'000'000'000'000;
};

// Handshake, ClientHello in `segments` (offset, length) pieces sent in the given order, the
// ServerHello, and a FIN exchange.
void run_connection(Engine& e, Feeder& feed, const Conn& c, const Frame& ch, const Frame& sh,
                    const std::vector<std::pair<size_t, size_t>>& segments) {
    feed(c.frame(true, SYN, c.cisn, 0, {}, kSynOpts));
    feed(c.frame(false, SYN | ACK, c.sisn, c.cisn + 1, {}, kSynOpts), 2000);  // 2 ms later
    feed(c.frame(true, ACK, c.cisn + 1, c.sisn + 1), 4000);                   // 4 ms later
    for (const auto& [off, len] : segments) {
        Frame part(ch.begin() + off, ch.begin() + off + len);
        feed(c.frame(true, PSH | ACK, c.cisn + 1 + static_cast<uint32_t>(off), c.sisn + 1, part));
    }
    const uint32_t cend = c.cisn + 1 + static_cast<uint32_t>(ch.size());
    feed(c.frame(false, PSH | ACK, c.sisn + 1, cend, sh));
    const uint32_t send = c.sisn + 1 + static_cast<uint32_t>(sh.size());
    feed(c.frame(true, FIN | ACK, cend, send));
    feed(c.frame(false, FIN | ACK, send, cend + 1));
    (void)e;
}

std::vector<std::pair<size_t, size_t>> split(size_t total, size_t n) {
    std::vector<std::pair<size_t, size_t>> out;
    const size_t step = (total + n - 1) / n;
    for (size_t off = 0; off < total; off += step)
        out.push_back({off, std::min(step, total - off)});
    return out;
}

class EngineTest : public ::testing::Test {
  protected:
    Frame ch = read_hex("chrome_tls13.client.hex");
    Frame sh = read_hex("chrome_tls13.server.hex");
    std::map<std::string, std::string> want = expected("chrome_tls13");
    Collect sink;
    EngineConfig cfg;
};

TEST_F(EngineTest, OneSegmentHandshake) {
    Engine e(cfg, sink);
    Feeder feed(e);
    Conn c;
    run_connection(e, feed, c, ch, sh, {{0, ch.size()}});
    ASSERT_EQ(sink.seen.size(), 1u);
    const Observation& o = sink.seen[0];
    EXPECT_EQ(o.src.to_string(), "192.0.2.10");
    EXPECT_EQ(o.src_port, 40000);
    EXPECT_EQ(o.dst.to_string(), "198.51.100.1");
    EXPECT_EQ(o.ja4.view(), want["ja4"]);
    EXPECT_EQ(o.ja4_r, want["ja4_r"]);
    EXPECT_EQ(o.ja4_o.view(), want["ja4_o"]);
    EXPECT_EQ(o.ja4_ro, want["ja4_ro"]);
    EXPECT_EQ(o.ja3.view(), want["ja3"]);
    EXPECT_EQ(o.ja4s.view(), want["ja4s"]);
    EXPECT_EQ(o.sni.view(), want["sni"]);
    EXPECT_EQ(o.ja4t.view(), "64240_2-4-8-1-3_1460_7");
    EXPECT_EQ(o.ja4ts.view(), "65160_2-4-8-1-3_1460_7");
    EXPECT_EQ(o.ja4l_s.view(), "1000_57");  // SYN -> SYN-ACK 2 ms, halved
    EXPECT_EQ(o.ja4l_c.view(), "2000_64");  // SYN-ACK -> ACK 4 ms, halved
    EXPECT_EQ(o.rtt_us, 6000);
    EXPECT_EQ(o.client_ttl, 64);
    EXPECT_EQ(o.server_ttl, 57);
    EXPECT_EQ(o.tcp_sig.view(), "4:64+0:0:1460:mss*44,7:mss,sok,ts,nop,ws:df,id+:0");
    EXPECT_EQ(o.end, EndReason::Fin);
    EXPECT_EQ(o.cadence.requests, 1u);
    EXPECT_EQ(o.cadence.responses, 1u);
    EXPECT_EQ(o.cadence.client_bytes, ch.size());
    EXPECT_EQ(e.open_flows(), 0u);
    EXPECT_EQ(e.stats().client_hellos, 1u);
}

TEST_F(EngineTest, SegmentedOutOfOrderAndRetransmittedGiveTheSameFingerprints) {
    Engine e(cfg, sink);
    Feeder feed(e);
    std::mt19937 rng(7);
    for (size_t n : {2u, 3u, 8u, 25u}) {
        auto segs = split(ch.size(), n);
        std::shuffle(segs.begin(), segs.end(), rng);
        segs.push_back(segs.front());                          // a retransmission
        segs.push_back({0, std::min<size_t>(ch.size(), 40)});  // an overlapping one
        Conn c;
        c.cport = static_cast<uint16_t>(41000 + n);
        run_connection(e, feed, c, ch, sh, segs);
    }
    ASSERT_EQ(sink.seen.size(), 4u);
    for (const Observation& o : sink.seen) {
        EXPECT_EQ(o.ja4.view(), want["ja4"]) << o.src_port;
        EXPECT_EQ(o.ja4_ro, want["ja4_ro"]) << o.src_port;
        EXPECT_EQ(o.ja3.view(), want["ja3"]) << o.src_port;
        EXPECT_EQ(o.ja4s.view(), want["ja4s"]) << o.src_port;
    }
    EXPECT_EQ(e.stats().hello_errors, 0u);
    EXPECT_EQ(e.open_flows(), 0u);
}

TEST_F(EngineTest, HandshakeModeEmitsBeforeTheConnectionEnds) {
    cfg.emit = EmitAt::Handshake;
    Engine e(cfg, sink);
    Feeder feed(e);
    Conn c;
    feed(c.frame(true, SYN, c.cisn, 0, {}, kSynOpts));
    feed(c.frame(false, SYN | ACK, c.sisn, c.cisn + 1, {}, kSynOpts));
    feed(c.frame(true, ACK, c.cisn + 1, c.sisn + 1));
    feed(c.frame(true, PSH | ACK, c.cisn + 1, c.sisn + 1, ch));
    EXPECT_TRUE(sink.seen.empty());  // the ServerHello is still to come
    feed(c.frame(false, PSH | ACK, c.sisn + 1, c.cisn + 1 + uint32_t(ch.size()), sh));
    ASSERT_EQ(sink.seen.size(), 1u);
    EXPECT_EQ(sink.seen[0].ja4s.view(), want["ja4s"]);
    EXPECT_EQ(sink.seen[0].end, EndReason::Open);
    EXPECT_EQ(e.open_flows(), 1u);
    e.flush();
    EXPECT_EQ(sink.seen.size(), 1u);  // not reported twice
}

TEST_F(EngineTest, FoxioSwitchLeavesOutLicensedFingerprints) {
    cfg.foxio = false;
    Engine e(cfg, sink);
    Feeder feed(e);
    run_connection(e, feed, Conn{}, ch, sh, {{0, ch.size()}});
    ASSERT_EQ(sink.seen.size(), 1u);
    const Observation& o = sink.seen[0];
    EXPECT_FALSE(o.ja4.empty());
    EXPECT_FALSE(o.tcp_sig.empty());
    EXPECT_TRUE(o.ja4s.empty());
    EXPECT_TRUE(o.ja4t.empty());
    EXPECT_TRUE(o.ja4ts.empty());
    EXPECT_TRUE(o.ja4l_c.empty());
    EXPECT_TRUE(o.ja4l_s.empty());
    EXPECT_GT(o.rtt_us, 0);  // the licence-free equivalents stay
    EXPECT_EQ(o.client_ttl, 64);
}

TEST_F(EngineTest, NewSynOnAUsedTupleStartsANewConnection) {
    Engine e(cfg, sink);
    Feeder feed(e);
    Conn c;
    feed(c.frame(true, SYN, c.cisn, 0, {}, kSynOpts));
    feed(c.frame(true, SYN, c.cisn, 0, {}, kSynOpts));  // retransmitted SYN: same connection
    feed(c.frame(false, SYN | ACK, c.sisn, c.cisn + 1, {}, kSynOpts));
    feed(c.frame(true, ACK, c.cisn + 1, c.sisn + 1));
    feed(c.frame(true, PSH | ACK, c.cisn + 1, c.sisn + 1, ch));
    EXPECT_EQ(e.stats().flows, 1u);
    c.cisn = 90000;  // port reuse
    feed(c.frame(true, SYN, c.cisn, 0, {}, kSynOpts));
    EXPECT_EQ(e.stats().flows, 2u);
    ASSERT_EQ(sink.seen.size(), 1u);
    EXPECT_EQ(sink.seen[0].ja4.view(), want["ja4"]);
}

TEST_F(EngineTest, ResetEndsTheFlow) {
    Engine e(cfg, sink);
    Feeder feed(e);
    Conn c;
    feed(c.frame(true, SYN, c.cisn, 0, {}, kSynOpts));
    feed(c.frame(false, RST | ACK, 0, c.cisn + 1));
    ASSERT_EQ(sink.seen.size(), 1u);
    EXPECT_EQ(sink.seen[0].end, EndReason::Rst);
    EXPECT_TRUE(sink.seen[0].ja4.empty());
    EXPECT_FALSE(sink.seen[0].ja4t.empty());
    EXPECT_EQ(e.open_flows(), 0u);
}

TEST_F(EngineTest, IdleFlowsExpireInEventTime) {
    cfg.tcp_idle_ns = 10'000'000'000;  // 10 s
    Engine e(cfg, sink);
    Feeder feed(e);
    Conn a, b;
    b.cport = 40001;
    feed(a.frame(true, SYN, a.cisn, 0, {}, kSynOpts));
    feed(b.frame(true, SYN, b.cisn, 0, {}, kSynOpts), 11'000'000);  // 11 s later
    ASSERT_EQ(sink.seen.size(), 1u);
    EXPECT_EQ(sink.seen[0].src_port, 40000);
    EXPECT_EQ(sink.seen[0].end, EndReason::Idle);
    EXPECT_EQ(e.stats().flows_expired, 1u);
    EXPECT_EQ(e.open_flows(), 1u);
}

TEST_F(EngineTest, TableCapacityEvictsTheOldest) {
    cfg.max_flows = 4;
    Engine e(cfg, sink);
    Feeder feed(e);
    for (uint16_t i = 0; i < 10; ++i) {
        Conn c;
        c.cport = static_cast<uint16_t>(30000 + i);
        feed(c.frame(true, SYN, c.cisn, 0, {}, kSynOpts));
    }
    EXPECT_EQ(e.open_flows(), 4u);
    EXPECT_EQ(e.stats().flows_evicted, 6u);
    ASSERT_EQ(sink.seen.size(), 6u);
    EXPECT_EQ(sink.seen[0].src_port, 30000);
    EXPECT_EQ(sink.seen[0].end, EndReason::Evicted);
}

TEST_F(EngineTest, ReassemblyMemoryIsBoundedAndCounted) {
    cfg.reassembly_buffers = 1;
    Engine e(cfg, sink);
    Feeder feed(e);
    // Two connections each waiting for the rest of a split ClientHello: only one gets a buffer.
    for (uint16_t port : {50001, 50002}) {
        Conn c;
        c.cport = port;
        feed(c.frame(true, SYN, c.cisn, 0, {}, kSynOpts));
        feed(c.frame(false, SYN | ACK, c.sisn, c.cisn + 1, {}, kSynOpts));
        feed(c.frame(true, ACK, c.cisn + 1, c.sisn + 1));
        feed(c.frame(true, PSH | ACK, c.cisn + 1, c.sisn + 1, Frame(ch.begin(), ch.begin() + 100)));
    }
    EXPECT_EQ(e.stats().reassembly_no_memory, 1u);
    e.flush();
    EXPECT_EQ(sink.seen.size(), 2u);  // both still reported, neither with a guessed JA4
    for (const auto& o : sink.seen)
        EXPECT_TRUE(o.ja4.empty());
}

TEST_F(EngineTest, MidStreamCaptureFindsRolesFromTheHello) {
    Engine e(cfg, sink);
    Feeder feed(e);
    Conn c;
    c.cport = 443;  // the client uses a lower port than the server: only the hello tells
    c.sport = 8443;
    feed(c.frame(true, PSH | ACK, c.cisn + 1, c.sisn + 1, ch));
    feed(c.frame(false, PSH | ACK, c.sisn + 1, c.cisn + 1 + uint32_t(ch.size()), sh));
    e.flush();
    ASSERT_EQ(sink.seen.size(), 1u);
    EXPECT_EQ(sink.seen[0].src.to_string(), "192.0.2.10");
    EXPECT_EQ(sink.seen[0].src_port, 443);
    EXPECT_EQ(sink.seen[0].ja4.view(), want["ja4"]);
    EXPECT_TRUE(sink.seen[0].ja4t.empty());  // no SYN seen: not computable, not guessed
}

TEST_F(EngineTest, HttpConnectPreambleBeforeTls) {
    Engine e(cfg, sink);
    Feeder feed(e);
    Conn c;
    c.sport = 3128;
    const std::string req = "CONNECT api.example.com:443 HTTP/1.1\r\nHost: api.example.com\r\n\r\n";
    const std::string resp = "HTTP/1.1 200 Connection established\r\n\r\n";
    feed(c.frame(true, SYN, c.cisn, 0, {}, kSynOpts));
    feed(c.frame(false, SYN | ACK, c.sisn, c.cisn + 1, {}, kSynOpts));
    feed(c.frame(true, ACK, c.cisn + 1, c.sisn + 1));
    uint32_t cs = c.cisn + 1, ss = c.sisn + 1;
    feed(c.frame(true, PSH | ACK, cs, ss, Frame(req.begin(), req.end())));
    cs += uint32_t(req.size());
    feed(c.frame(false, PSH | ACK, ss, cs, Frame(resp.begin(), resp.end())));
    ss += uint32_t(resp.size());
    feed(c.frame(true, PSH | ACK, cs, ss, ch));
    feed(c.frame(false, PSH | ACK, ss, cs + uint32_t(ch.size()), sh));
    e.flush();
    ASSERT_EQ(sink.seen.size(), 1u);
    EXPECT_EQ(sink.seen[0].ja4.view(), want["ja4"]);
    EXPECT_EQ(sink.seen[0].ja4s.view(), want["ja4s"]);
}

}  // namespace
}  // namespace sybilwatch::fingerprint

namespace sybilwatch::fingerprint {
namespace {

TEST_F(EngineTest, KernelFlowEndCarriesTheCadence) {
    cfg.cadence_from_packets = false;  // as fed by the eBPF path
    Engine e(cfg, sink);
    Feeder feed(e);
    Conn c;
    feed(c.frame(true, SYN, c.cisn, 0, {}, kSynOpts));
    feed(c.frame(false, SYN | ACK, c.sisn, c.cisn + 1, {}, kSynOpts));
    feed(c.frame(true, PSH | ACK, c.cisn + 1, c.sisn + 1, ch));
    Cadence k;
    k.requests = 12;
    k.client_bytes = 34567;
    net::Packet any;  // the key is direction-free: build it from the server's side
    any.ip_proto = 6;
    any.src = net::IpAddress::parse(c.server);
    any.dst = net::IpAddress::parse(c.client);
    any.src_port = c.sport;
    any.dst_port = c.cport;
    EXPECT_TRUE(e.end_flow(net::FlowKey::of(any), EndReason::Fin, &k));
    EXPECT_FALSE(e.end_flow(net::FlowKey::of(any), EndReason::Fin, &k));  // already gone
    ASSERT_EQ(sink.seen.size(), 1u);
    EXPECT_EQ(sink.seen[0].cadence.requests, 12u);
    EXPECT_EQ(sink.seen[0].cadence.client_bytes, 34567u);
    EXPECT_EQ(sink.seen[0].end, EndReason::Fin);
    EXPECT_EQ(sink.seen[0].ja4.view(), want["ja4"]);
}

// Past its handshake an open connection keeps no working state; the facts its hellos gave are
// stored once for all connections that share them, and its Observation is rebuilt unchanged
// when it ends.
TEST_F(EngineTest, OpenConnectionsPastTheirHandshakeShareTheirFacts) {
    cfg.deferred_settles = 0;  // interned as soon as the handshake is over
    Engine e(cfg, sink);
    Feeder feed(e);
    for (uint16_t i = 0; i < 3; ++i) {
        Conn c;
        c.cport = static_cast<uint16_t>(41000 + i);
        feed(c.frame(true, SYN, c.cisn, 0, {}, kSynOpts));
        feed(c.frame(false, SYN | ACK, c.sisn, c.cisn + 1, {}, kSynOpts), 2000);
        feed(c.frame(true, ACK, c.cisn + 1, c.sisn + 1), 4000);
        EXPECT_EQ(e.handshaking_flows(), 1u);
        feed(c.frame(true, PSH | ACK, c.cisn + 1, c.sisn + 1, ch));
        feed(c.frame(false, PSH | ACK, c.sisn + 1, c.cisn + 1 + uint32_t(ch.size()), sh));
        EXPECT_EQ(e.handshaking_flows(), 0u);
    }
    EXPECT_EQ(e.open_flows(), 3u);
    EXPECT_TRUE(sink.seen.empty());
    // Stack facts, order shape, per-connection order: one of each for three equal hellos.
    EXPECT_EQ(e.interned_facts(), 3u);
    e.flush();
    EXPECT_EQ(e.interned_facts(), 0u);
    ASSERT_EQ(sink.seen.size(), 3u);
    for (uint16_t i = 0; i < 3; ++i) {
        const Observation& o = sink.seen[i];
        EXPECT_EQ(o.src.to_string(), "192.0.2.10");
        EXPECT_EQ(o.src_port, 41000 + i);
        EXPECT_EQ(o.dst.to_string(), "198.51.100.1");
        EXPECT_EQ(o.dst_port, 443);
        EXPECT_EQ(o.ja4.view(), want["ja4"]);
        EXPECT_EQ(o.ja4_r, want["ja4_r"]);
        EXPECT_EQ(o.ja4_o.view(), want["ja4_o"]);
        EXPECT_EQ(o.ja4_ro, want["ja4_ro"]);
        EXPECT_EQ(o.ja3.view(), want["ja3"]);
        EXPECT_EQ(o.ja3_full, want["ja3_full"]);
        EXPECT_EQ(o.ja4s.view(), want["ja4s"]);
        EXPECT_EQ(o.ja4s_r, want["ja4s_r"]);
        EXPECT_EQ(o.sni.view(), want["sni"]);
        EXPECT_EQ(o.ja4t.view(), "64240_2-4-8-1-3_1460_7");
        EXPECT_EQ(o.ja4ts.view(), "65160_2-4-8-1-3_1460_7");
        EXPECT_EQ(o.ja4l_s.view(), "1000_57");
        EXPECT_EQ(o.ja4l_c.view(), "2000_64");
        EXPECT_EQ(o.rtt_us, 6000);
        EXPECT_EQ(o.tcp_sig.view(), "4:64+0:0:1460:mss*44,7:mss,sok,ts,nop,ws:df,id+:0");
        EXPECT_TRUE(o.syn_seen && o.client_hello_seen && o.server_hello_seen);
        EXPECT_EQ(o.end, EndReason::EndOfCapture);
    }
}

// Past its handshake a connection may keep its facts in its handshake state for a while
// (deferred_settles) instead of interning them: one that ends meanwhile is reported from that
// state. Whichever way, and whenever the deferral runs out, the observations are the same.
TEST_F(EngineTest, DeferredSettlingChangesNoObservation) {
    auto run = [&](uint32_t deferred, std::vector<std::string>& lines, uint32_t& interned) {
        EngineConfig c = cfg;
        c.deferred_settles = deferred;
        Collect out;
        Engine e(c, out);
        Feeder feed(e);
        for (uint16_t i = 0; i < 4; ++i) {
            Conn conn;
            conn.cport = static_cast<uint16_t>(42000 + i);
            feed(conn.frame(true, SYN, conn.cisn, 0, {}, kSynOpts));
            feed(conn.frame(false, SYN | ACK, conn.sisn, conn.cisn + 1, {}, kSynOpts), 2000);
            feed(conn.frame(true, ACK, conn.cisn + 1, conn.sisn + 1), 4000);
            feed(conn.frame(true, PSH | ACK, conn.cisn + 1, conn.sisn + 1, ch));
            const uint32_t cend = conn.cisn + 1 + static_cast<uint32_t>(ch.size());
            feed(conn.frame(false, PSH | ACK, conn.sisn + 1, cend, sh));
            EXPECT_EQ(e.handshaking_flows(), 0u) << "the handshake is over, deferred or not";
            if (i % 2 == 0) {  // half of them end now, half at the flush
                const uint32_t send = conn.sisn + 1 + static_cast<uint32_t>(sh.size());
                feed(conn.frame(true, FIN | ACK, cend, send));
                feed(conn.frame(false, FIN | ACK, send, cend + 1));
            }
        }
        interned = e.interned_facts();
        e.flush();
        EXPECT_EQ(e.interned_facts(), 0u);
        for (const Observation& o : out.seen) {
            std::string line;
            append_json(o, line);
            lines.push_back(line);
        }
    };
    std::vector<std::string> at_once, deferred, one_deferred;
    uint32_t interned_at_once = 0, interned_deferred = 0, interned_one = 0;
    run(0, at_once, interned_at_once);
    run(1024, deferred, interned_deferred);
    run(1, one_deferred, interned_one);  // the second open connection's end interns the first
    EXPECT_EQ(interned_at_once, 3u);     // stack facts, order shape, order facts: shared
    EXPECT_EQ(interned_deferred, 0u);    // two open connections, both still deferred
    EXPECT_EQ(interned_one, 3u);
    ASSERT_EQ(at_once.size(), 4u);
    EXPECT_EQ(deferred, at_once);
    EXPECT_EQ(one_deferred, at_once);
    EXPECT_NE(at_once[0].find(want["ja4"]), std::string::npos);
}

// Connections still in their handshake are bounded apart from the flow table: when every
// handshake state is taken, the oldest handshake ends (evicted), settled flows stay.
TEST_F(EngineTest, HandshakeTableFullEndsTheOldestHandshake) {
    cfg.max_flows = 16;
    cfg.max_handshakes = 2;
    Engine e(cfg, sink);
    Feeder feed(e);
    Conn done;
    done.cport = 30000;
    feed(done.frame(true, SYN, done.cisn, 0, {}, kSynOpts));
    feed(done.frame(false, SYN | ACK, done.sisn, done.cisn + 1, {}, kSynOpts));
    feed(done.frame(true, ACK, done.cisn + 1, done.sisn + 1));
    feed(done.frame(true, PSH | ACK, done.cisn + 1, done.sisn + 1, ch));
    feed(done.frame(false, PSH | ACK, done.sisn + 1, done.cisn + 1 + uint32_t(ch.size()), sh));
    for (uint16_t i = 1; i <= 3; ++i) {
        Conn c;
        c.cport = static_cast<uint16_t>(30000 + i);
        feed(c.frame(true, SYN, c.cisn, 0, {}, kSynOpts));
    }
    EXPECT_EQ(e.open_flows(), 3u);
    EXPECT_EQ(e.handshaking_flows(), 2u);
    EXPECT_EQ(e.stats().handshakes_evicted, 1u);
    EXPECT_EQ(e.stats().flows_evicted, 1u);
    ASSERT_EQ(sink.seen.size(), 1u);
    EXPECT_EQ(sink.seen[0].src_port, 30001);
    EXPECT_EQ(sink.seen[0].end, EndReason::Evicted);
    e.flush();
    ASSERT_EQ(sink.seen.size(), 4u);
    EXPECT_EQ(sink.seen[1].src_port, 30000);  // the settled one, least recently active
    EXPECT_EQ(sink.seen[1].ja4.view(), want["ja4"]);
}

}  // namespace
}  // namespace sybilwatch::fingerprint
