// QUIC: the client's Initial opens the flow; the long-header datagrams of the handshake go to
// userspace (Chrome's real handshake with Cloudflare, tests/data/quic/chrome-cloudflare.hex);
// short-header (1-RTT) datagrams only count toward the cadence.
#include "bpf_test_util.hpp"
#include "quic/quic_test_util.hpp"

namespace sybilwatch::capture::test {
namespace {

class QuicEvents : public BpfTest {
  protected:
    static Conn conn() {
        Conn c;
        c.udp = true;
        c.client = "2001:db8:1::1";
        c.server = "2606:4700:10::6816:826";
        c.client_port = 50280;
        return c;
    }
};

TEST_F(QuicEvents, HandshakeDatagramsAreSent) {
    const Conn c = conn();
    const auto datagrams = quic::test::load_datagrams("chrome-cloudflare.hex");
    ASSERT_EQ(datagrams.size(), 7u);
    for (size_t i = 0; i < datagrams.size(); ++i) {
        const bool from_client = datagrams[i].from == 'C';
        const Frame f = c.datagram(from_client, datagrams[i].bytes);
        const Recorder r = run(from_client, f);
        ASSERT_EQ(r.packets.size(), 1u) << "datagram " << i;
        EXPECT_EQ(r.packets[0].bytes, from_ip(c, f));
        EXPECT_EQ(r.packets[0].from_client, from_client);
    }
    // 1-RTT traffic afterwards: counted, not sent.
    EXPECT_TRUE(client(c.datagram(true, Frame(100, 0x41))).packets.empty());
    EXPECT_TRUE(server(c.datagram(false, Frame(900, 0x52))).packets.empty());
    EXPECT_EQ(cap_->counters().flows_created, 1u);

    Recorder swept;
    timespec now{};
    clock_gettime(CLOCK_MONOTONIC, &now);
    ASSERT_EQ(cap_->sweep_idle(swept, (now.tv_sec + 61) * 1'000'000'000LL), 1u)
        << "UDP idles after 60 s";
    const fingerprint::Cadence& k = swept.ends[0].cadence;
    // Bursts: C | S S S S | C C C | S.
    EXPECT_EQ(k.requests, 2u);
    EXPECT_EQ(k.responses, 2u);
}

TEST_F(QuicEvents, OnlyAClientInitialOpensAFlow) {
    const Conn c = conn();
    const auto datagrams = quic::test::load_datagrams("chrome-cloudflare.hex");
    // A server datagram first, a short-header client datagram, a client Handshake packet:
    // none of them opens a flow.
    EXPECT_TRUE(server(c.datagram(false, datagrams[1].bytes)).packets.empty());
    EXPECT_TRUE(client(c.datagram(true, Frame(100, 0x41))).packets.empty());
    EXPECT_TRUE(client(c.datagram(true, datagrams[5].bytes)).packets.empty());
    EXPECT_EQ(cap_->counters().flows_created, 0u);
    EXPECT_EQ(client(c.datagram(true, datagrams[0].bytes)).packets.size(), 1u);
}

TEST_F(QuicEvents, Rfc9001ClientInitialOverIpv4) {
    Conn c;
    c.udp = true;
    const Frame initial = quic::test::load_blob("rfc9001_a2_client_initial.hex");
    const Recorder r = client(c.datagram(true, initial));
    ASSERT_EQ(r.packets.size(), 1u);
    EXPECT_EQ(r.packets[0].wire_len, 20 + 8 + initial.size());
}

TEST_F(QuicEvents, LongHeaderDatagramsAreBounded) {
    const Conn c = conn();
    const auto datagrams = quic::test::load_datagrams("chrome-cloudflare.hex");
    size_t sent = 0;
    for (int i = 0; i < 40; ++i)
        sent += client(c.datagram(true, datagrams[0].bytes)).packets.size();
    EXPECT_EQ(sent, 16u);
}

}  // namespace
}  // namespace sybilwatch::capture::test
