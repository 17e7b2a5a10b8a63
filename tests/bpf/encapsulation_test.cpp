// IPv6 (with extension headers) and 802.1Q / QinQ tags in the frame: the same events, each
// carrying the packet from its IP header on.
#include "bpf_test_util.hpp"

namespace sybilwatch::capture::test {
namespace {

class Encapsulation : public BpfTest {};

TEST_F(Encapsulation, Ipv6Handshake) {
    Conn c;
    c.client = "2001:db8::1";
    c.server = "2001:db8::2";
    const Recorder r = client(c.syn());
    ASSERT_EQ(r.packets.size(), 1u);
    EXPECT_EQ(r.packets[0].bytes, from_ip(c, c.syn()));
    EXPECT_EQ(r.packets[0].bytes[0] >> 4, 6);
    EXPECT_EQ(server(c.syn_ack()).packets.size(), 1u);
    EXPECT_EQ(client(c.ack()).packets.size(), 1u);
    EXPECT_EQ(
        client(c.client_data(0, Frame{0x16, 0x03, 0x01, 0x00, 0x05, 0x01, 0x00, 0x00, 0x01, 0x00}))
            .packets.size(),
        1u);
    EXPECT_EQ(client(c.client_data(10, nb::zeros(20))).packets.size(), 0u);
}

TEST_F(Encapsulation, Ipv6ExtensionHeadersAreSkipped) {
    const Conn c;
    const Frame tcp = nb::tcp({.sport = 50000, .dport = 443, .seq = 1, .ack = 0, .flags = 0x02});
    // hop-by-hop → destination options → routing → TCP
    const Frame chain =
        nb::cat({nb::ext_header(nb::proto::DestOpts, 8), nb::ext_header(nb::proto::Routing, 16),
                 nb::ext_header(nb::proto::Tcp, 8), tcp});
    const Frame f = nb::eth(
        0x86DD,
        nb::ipv6({.src = "2001:db8::1", .dst = "2001:db8::2", .next = nb::proto::HopByHop}, chain));
    const Recorder r = client(f);
    ASSERT_EQ(r.packets.size(), 1u);
    EXPECT_EQ(r.packets[0].bytes.size(), f.size() - 14);
}

TEST_F(Encapsulation, Ipv6LaterFragmentIsIgnored) {
    const Frame tcp = nb::tcp({.sport = 50000, .dport = 443, .seq = 1, .ack = 0, .flags = 0x02});
    const Frame f = nb::eth(
        0x86DD, nb::ipv6({.src = "2001:db8::1", .dst = "2001:db8::2", .next = nb::proto::Fragment},
                         nb::cat({nb::fragment_header(nb::proto::Tcp, 10, false), tcp})));
    EXPECT_TRUE(client(f).packets.empty());
    EXPECT_EQ(cap_->counters().matched, 0u);
}

TEST_F(Encapsulation, VlanTaggedFrame) {
    Conn c;
    c.vlan = {{0x8100, 100}};
    const Recorder r = client(c.syn());
    ASSERT_EQ(r.packets.size(), 1u);
    EXPECT_EQ(r.packets[0].bytes, from_ip(c, c.syn()));
    EXPECT_EQ(r.packets[0].wire_len, c.syn().size() - 18);
    EXPECT_EQ(server(c.syn_ack()).packets.size(), 1u);
}

TEST_F(Encapsulation, QinQTaggedIpv6Frame) {
    Conn c;
    c.client = "2001:db8::1";
    c.server = "2001:db8::2";
    c.vlan = {{0x88A8, 10}, {0x8100, 20}};
    const Recorder r = client(c.syn());
    ASSERT_EQ(r.packets.size(), 1u);
    EXPECT_EQ(r.packets[0].bytes, from_ip(c, c.syn()));
}

TEST_F(Encapsulation, EthernetPaddingIsNotPayload) {
    // A 54-byte ACK padded to the 60-byte Ethernet minimum: zero payload bytes, so no data
    // and no cadence.
    const Conn c;
    open(c);
    Frame ack = c.ack();
    ack.resize(60, 0);
    EXPECT_TRUE(client(ack).packets.empty());
    const Recorder r = client(c.client_data(0, {}, 0x14));  // RST: the flow's cadence
    ASSERT_EQ(r.ends.size(), 1u);
    EXPECT_EQ(r.ends[0].cadence.client_bytes, 0u);
    EXPECT_EQ(r.ends[0].cadence.requests, 0u);
}

}  // namespace
}  // namespace sybilwatch::capture::test
