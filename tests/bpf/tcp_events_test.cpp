// Which TCP packets become ring-buffer events: the handshake packets JA4T/JA4L need, and every
// segment of the ClientHello and ServerHello (out of order and retransmitted ones too), nothing
// after the hellos. The hellos are Chrome's real ones (tests/data/tls/chrome_tls13.*.hex).
#include <algorithm>

#include "bpf_test_util.hpp"
#include "tls/hello_test_data.hpp"

namespace sybilwatch::capture::test {
namespace {

class TcpEvents : public BpfTest {
  protected:
    void SetUp() override {
        BpfTest::SetUp();
        hello_ = testdata::read_hex("chrome_tls13.client.hex");
        server_hello_ = testdata::read_hex("chrome_tls13.server.hex");
        ASSERT_EQ(hello_.size(), 517u);  // one record: 5 + 512
    }

    // Sends the hello split into `n` segments in the given order; returns the events.
    Recorder send_hello(const Conn& c, size_t n, std::vector<size_t> order = {}) {
        const auto parts = split(hello_, n);
        std::vector<uint32_t> offsets;
        uint32_t off = 0;
        for (const auto& p : parts)
            offsets.push_back(off), off += static_cast<uint32_t>(p.size());
        if (order.empty())
            for (size_t i = 0; i < n; ++i)
                order.push_back(i);
        Recorder rec;
        for (size_t i : order) {
            const Frame f = c.client_data(offsets[i], parts[i]);
            const size_t before = rec.packets.size();
            run_into(true, f, rec);
            EXPECT_EQ(rec.packets.size(), before + 1) << "segment " << i;
            if (rec.packets.size() == before + 1) {
                EXPECT_EQ(rec.packets.back().bytes, from_ip(c, f));
            }
        }
        return rec;
    }

    Frame hello_;
    Frame server_hello_;
};

TEST_F(TcpEvents, VerifierAcceptsBothPrograms) {
    EXPECT_GT(cap_->ingress_fd(), 0);
    EXPECT_GT(cap_->egress_fd(), 0);
}

TEST_F(TcpEvents, SynIsOneEventWithItsBytes) {
    const Conn c;
    const Frame syn = c.syn();
    const Recorder r = client(syn);
    ASSERT_EQ(r.packets.size(), 1u);
    EXPECT_TRUE(r.ends.empty());
    const PacketCopy& p = r.packets[0];
    EXPECT_EQ(p.bytes, from_ip(c, syn));
    EXPECT_EQ(p.wire_len, syn.size() - 14);
    EXPECT_TRUE(p.from_client);
    EXPECT_GT(p.ts_ns, 1'600'000'000'000'000'000LL) << "wall clock, not monotonic";
    const EbpfCounters n = cap_->counters();
    EXPECT_EQ(n.flows_created, 1u);
    EXPECT_EQ(n.packet_events, 1u);
    EXPECT_EQ(n.flows_tracked, 1u);
}

TEST_F(TcpEvents, SynAckAndHandshakeAckAreOneEventEach) {
    const Conn c;
    ASSERT_EQ(client(c.syn()).packets.size(), 1u);
    const Recorder sa = server(c.syn_ack());
    ASSERT_EQ(sa.packets.size(), 1u);
    EXPECT_FALSE(sa.packets[0].from_client);
    EXPECT_EQ(sa.packets[0].bytes, from_ip(c, c.syn_ack()));
    EXPECT_EQ(client(c.ack()).packets.size(), 1u);  // JA4L-C
    EXPECT_EQ(client(c.ack()).packets.size(), 0u) << "only the first ACK after the SYN-ACK";
}

TEST_F(TcpEvents, SynRetransmissionIsSentAgainOnTheSameFlow) {
    const Conn c;
    EXPECT_EQ(client(c.syn()).packets.size(), 1u);
    const Recorder again = client(c.syn());
    EXPECT_EQ(again.packets.size(), 1u);
    EXPECT_TRUE(again.ends.empty());
    EXPECT_EQ(cap_->counters().flows_created, 1u);
}

TEST_F(TcpEvents, SynAckWithoutSynOpensTheFlow) {
    const Conn c;
    EXPECT_EQ(server(c.syn_ack()).packets.size(), 1u);
    EXPECT_EQ(cap_->counters().flows_created, 1u);
}

TEST_F(TcpEvents, PacketsOfUnknownConnectionsAreNotSent) {
    const Conn c;
    EXPECT_EQ(client(c.ack()).packets.size(), 0u);
    EXPECT_EQ(client(c.client_data(0, hello_)).packets.size(), 0u);
    EXPECT_EQ(server(c.server_data(0, server_hello_)).packets.size(), 0u);
    const EbpfCounters n = cap_->counters();
    EXPECT_EQ(n.matched, 3u);
    EXPECT_EQ(n.flows_created, 0u);
}

TEST_F(TcpEvents, ClientHelloInOneSegment) {
    const Conn c;
    open(c);
    send_hello(c, 1);
}

TEST_F(TcpEvents, ClientHelloInThreeSegments) {
    const Conn c;
    open(c);
    EXPECT_EQ(send_hello(c, 3).packets.size(), 3u);
}

TEST_F(TcpEvents, ClientHelloInEightSegments) {
    const Conn c;
    open(c);
    EXPECT_EQ(send_hello(c, 8).packets.size(), 8u);
}

TEST_F(TcpEvents, ClientHelloOutOfOrder) {
    const Conn c;
    open(c);
    // Offset 0 last: until it comes the hello's length is unknown (the 16 KiB window applies).
    EXPECT_EQ(send_hello(c, 3, {2, 1, 0}).packets.size(), 3u);
    EXPECT_EQ(client(c.client_data(517, nb::bytes("GET / HTTP/1.1\r\n"))).packets.size(), 0u);
}

TEST_F(TcpEvents, RetransmittedHelloSegmentIsSentAgain) {
    const Conn c;
    open(c);
    EXPECT_EQ(send_hello(c, 3, {0, 1, 1, 2}).packets.size(), 4u);
    // And once the hello is covered, a retransmission of its first segment still is.
    const auto parts = split(hello_, 3);
    EXPECT_EQ(client(c.client_data(0, parts[0])).packets.size(), 1u);
}

TEST_F(TcpEvents, DataAfterTheHelloIsNotSent) {
    const Conn c;
    open(c);
    send_hello(c, 1);
    EXPECT_EQ(client(c.client_data(517, nb::zeros(100))).packets.size(), 0u);
    EXPECT_EQ(client(c.client_data(617, nb::zeros(1400))).packets.size(), 0u);
    EXPECT_EQ(client(c.ack()).packets.size(), 0u);
}

TEST_F(TcpEvents, ServerHelloSegmentsAndNothingAfter) {
    const Conn c;
    open(c);
    send_hello(c, 1);
    ASSERT_GT(server_hello_.size(), 10u);
    const auto parts = split(server_hello_, 2);
    const Recorder a = server(c.server_data(0, parts[0]));
    ASSERT_EQ(a.packets.size(), 1u);
    EXPECT_FALSE(a.packets[0].from_client);
    EXPECT_EQ(
        server(c.server_data(static_cast<uint32_t>(parts[0].size()), parts[1])).packets.size(), 1u);
    EXPECT_EQ(server(c.server_data(static_cast<uint32_t>(server_hello_.size()), nb::zeros(1000)))
                  .packets.size(),
              0u);
}

TEST_F(TcpEvents, ProxyPreambleThenHello) {
    // HTTP CONNECT before TLS: the preamble segment goes out (userspace skips it as the pcap
    // path does), then the segment that starts the hello record, then nothing after the hello.
    const Conn c;
    open(c);
    const Frame connect =
        nb::bytes("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com\r\n\r\n");
    EXPECT_EQ(client(c.client_data(0, connect)).packets.size(), 1u);
    const uint32_t base = static_cast<uint32_t>(connect.size());
    EXPECT_EQ(client(c.client_data(base, hello_)).packets.size(), 1u);
    EXPECT_EQ(client(c.client_data(base + 517, nb::zeros(50))).packets.size(), 0u);
}

TEST_F(TcpEvents, NotTlsStopsAfterEightPreambleSegments) {
    const Conn c;
    open(c);
    uint32_t off = 0;
    size_t sent = 0;
    for (int i = 0; i < 12; ++i) {
        const Frame line = nb::bytes("GET /x HTTP/1.1\r\n");
        sent += client(c.client_data(off, line)).packets.size();
        off += static_cast<uint32_t>(line.size());
    }
    // The first segment and 8 more: the one that makes userspace give up is sent too.
    EXPECT_EQ(sent, 9u);
}

TEST_F(TcpEvents, NewSynOnTheSameTupleEndsTheOldFlowFirst) {
    Conn c;
    open(c);
    c.client_isn = 99999;
    const Recorder r = client(c.syn());
    ASSERT_EQ(r.ends.size(), 1u);
    ASSERT_EQ(r.packets.size(), 1u);
    EXPECT_EQ(r.ends[0].reason, fingerprint::EndReason::Idle);
    EXPECT_EQ(cap_->counters().flows_created, 2u);
    EXPECT_EQ(cap_->counters().flows_tracked, 1u);
}

TEST_F(TcpEvents, JumboSegmentIsSentWhole) {
    // Beyond the MTU record size: the next size class holds it all. (BPF_PROG_TEST_RUN takes
    // at most about a page, so the 16 KiB class and the cut beyond it are not reachable here.)
    const Conn c;
    open(c);
    Frame big = hello_;
    big.resize(3000, 0xAB);
    const Frame f = c.client_data(0, big);
    const Recorder r = client(f);
    ASSERT_EQ(r.packets.size(), 1u);
    EXPECT_EQ(r.packets[0].bytes, from_ip(c, f));
    EXPECT_EQ(r.packets[0].wire_len, 20 + 20 + 3000u);
    EXPECT_EQ(cap_->counters().truncated, 0u);
}

}  // namespace
}  // namespace sybilwatch::capture::test
