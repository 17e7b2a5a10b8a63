// net::decode() on hand-built frames: one test per feature and per failure status. What tshark
// says about the same encapsulations is checked in decoder_reference_test.cpp.
#include <gtest/gtest.h>

#include <algorithm>
#include <utility>

#include "net/packet.hpp"
#include "unit/net/packet_builder.hpp"

namespace sybilwatch::net {
namespace {

using namespace test;  // NOLINT: the builder vocabulary reads like the layer diagrams
using S = DecodeStatus;

// Owns the frame, so the packet's views stay valid (moving a vector keeps its buffer).
struct Result {
    Frame frame;
    S status;
    Packet p;
};

Result run(LinkType link, Frame f) {
    Result r{std::move(f), S::Ok, {}};
    r.status = decode(link, r.frame, r.p);
    return r;
}
Result run_eth(Frame f) {
    return run(LinkType::Ethernet, std::move(f));
}

bool same_bytes(std::span<const uint8_t> a, const Frame& b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end());
}

const Frame kHello = bytes("\x16\x03\x01\x00\x05hello");

Frame tcp4_packet(uint16_t sport = 50000, const Frame& payload = kHello) {
    return ipv4({}, tcp({.sport = sport, .payload = payload}));
}
Frame tcp6_packet(uint16_t sport = 50001) {
    return ipv6({}, tcp({.sport = sport, .payload = kHello}));
}
Frame udp4_packet(uint16_t dport = 53) {
    return ipv4({.proto = proto::Udp}, udp(40000, dport, bytes("query")));
}

// Innermost TCP of tcp4_packet()/tcp6_packet().
void expect_inner_tcp(const Result& r, uint8_t version, uint16_t sport) {
    ASSERT_EQ(r.status, S::Ok) << to_string(r.status);
    EXPECT_EQ(r.p.ip_version, version);
    EXPECT_EQ(r.p.src, IpAddress::parse(version == 4 ? "192.0.2.1" : "2001:db8::1"));
    EXPECT_EQ(r.p.dst, IpAddress::parse(version == 4 ? "198.51.100.2" : "2001:db8::2"));
    EXPECT_TRUE(r.p.is_tcp());
    EXPECT_EQ(r.p.src_port, sport);
    EXPECT_EQ(r.p.dst_port, 443);
    EXPECT_TRUE(same_bytes(r.p.payload, kHello));
    EXPECT_EQ(r.p.payload_len, kHello.size());
}

// ---------------------------------------------------------------------------------------------
// Status names and plain Ethernet.

TEST(DecodeStatusNames, AreDistinctAndStable) {
    EXPECT_STREQ(to_string(S::Ok), "ok");
    EXPECT_STREQ(to_string(S::NotIp), "not_ip");
    EXPECT_STREQ(to_string(S::Unsupported), "unsupported");
    EXPECT_STREQ(to_string(S::Fragment), "fragment");
    EXPECT_STREQ(to_string(S::Truncated), "truncated");
    EXPECT_STREQ(to_string(S::Malformed), "malformed");
}

TEST(Decoder, EthernetIpv4TcpFillsEveryField) {
    const Frame options = {0x02, 0x04, 0x05, 0xb4, 0x01, 0x03, 0x03, 0x07};  // MSS, NOP, WS
    const Frame f =
        eth(0x0800, ipv4({.ttl = 57, .tos = 0x28, .id = 0xbeef}, tcp({.sport = 51515,
                                                                      .dport = 8443,
                                                                      .seq = 0xdeadbeef,
                                                                      .ack = 0x01020304,
                                                                      .flags = 0xc2,
                                                                      .reserved = 0x01,
                                                                      .window = 29200,
                                                                      .urgent = 0x55,
                                                                      .options = options,
                                                                      .payload = kHello})));
    Packet p;
    p.ts_ns = 123;
    p.wire_len = 999;
    p.tunnel_depth = 3;  // stale values from a previous packet must not survive
    p.src_port = 1;
    ASSERT_EQ(decode(LinkType::Ethernet, f, p), S::Ok);
    EXPECT_EQ(p.ts_ns, 123);  // capture metadata is the caller's
    EXPECT_EQ(p.wire_len, 999u);
    EXPECT_EQ(p.ip_version, 4);
    EXPECT_EQ(p.src.to_string(), "192.0.2.1");
    EXPECT_EQ(p.dst.to_string(), "198.51.100.2");
    EXPECT_EQ(p.ttl, 57);
    EXPECT_EQ(p.tos, 0x28);
    EXPECT_EQ(p.ip_id, 0xbeef);
    EXPECT_TRUE(p.df);
    EXPECT_FALSE(p.ip_options);
    EXPECT_EQ(p.ip_header_len, 20);
    EXPECT_EQ(p.ip_proto, 6);
    EXPECT_EQ(p.vlan_depth, 0);
    EXPECT_EQ(p.tunnel_depth, 0);
    EXPECT_EQ(p.src_port, 51515);
    EXPECT_EQ(p.dst_port, 8443);
    EXPECT_EQ(p.seq, 0xdeadbeefu);
    EXPECT_EQ(p.ack, 0x01020304u);
    EXPECT_EQ(p.tcp_flags, 0xc2);
    EXPECT_TRUE(p.has(tcp_flag::SYN));
    EXPECT_TRUE(p.has(tcp_flag::CWR));
    EXPECT_FALSE(p.has(tcp_flag::ACK));
    EXPECT_EQ(p.tcp_reserved, 0x01);  // NS
    EXPECT_EQ(p.window, 29200);
    EXPECT_EQ(p.urgent_ptr, 0x55);
    EXPECT_TRUE(same_bytes(p.tcp_options, options));
    EXPECT_TRUE(same_bytes(p.payload, kHello));
    EXPECT_EQ(p.payload_len, kHello.size());
    // Views into the frame, not copies.
    EXPECT_EQ(p.payload.data(), f.data() + f.size() - kHello.size());
}

TEST(Decoder, EthernetPaddingIsNeverPayload) {
    Frame f = eth(0x0800, ipv4({}, tcp({.flags = 0x10})));
    ASSERT_EQ(f.size(), 54u);
    f.resize(60, 0xee);  // minimum Ethernet frame
    auto r = run_eth(f);
    ASSERT_EQ(r.status, S::Ok);
    EXPECT_TRUE(r.p.payload.empty());
    EXPECT_EQ(r.p.payload_len, 0u);

    Frame g = eth(0x86DD, ipv6({}, tcp({.payload = bytes("x")})));
    g.resize(g.size() + 7, 0xee);
    r = run_eth(g);
    ASSERT_EQ(r.status, S::Ok);
    EXPECT_TRUE(same_bytes(r.p.payload, bytes("x")));
    EXPECT_EQ(r.p.payload_len, 1u);
}

TEST(Decoder, NonIpFramesAreNotIp) {
    Frame arp = eth(0x0806, zeros(28));
    EXPECT_EQ(run_eth(arp).status, S::NotIp);
    // 802.3: the type field is a length (here 38), LLC follows.
    Frame llc = eth(38, cat({{0x42, 0x42, 0x03}, zeros(35)}));
    EXPECT_EQ(run_eth(llc).status, S::NotIp);
    // A length that happens to equal the IPv4 ethertype's low byte is still a length.
    EXPECT_EQ(run_eth(eth(0x0008, tcp4_packet())).status, S::NotIp);
    EXPECT_EQ(run_eth(eth(0x88CC, zeros(20))).status, S::NotIp);  // LLDP
}

TEST(Decoder, ShortEthernetHeaderIsTruncated) {
    const Frame f = eth(0x0800, tcp4_packet());
    for (size_t n = 0; n < 14; ++n)
        EXPECT_EQ(run_eth(Frame(f.begin(), f.begin() + n)).status, S::Truncated) << n;
}

// ---------------------------------------------------------------------------------------------
// VLAN, MPLS.

TEST(Decoder, Vlan8021Q) {
    const auto r = run_eth(eth(0x0800, tcp4_packet(), {{0x8100, 100}}));
    expect_inner_tcp(r, 4, 50000);
    EXPECT_EQ(r.p.vlan_depth, 1);
}

TEST(Decoder, QinQEveryTpid) {
    auto r = run_eth(eth(0x86DD, tcp6_packet(), {{0x88A8, 10}, {0x8100, 20}}));
    expect_inner_tcp(r, 6, 50001);
    EXPECT_EQ(r.p.vlan_depth, 2);
    r = run_eth(eth(0x0800, tcp4_packet(), {{0x9100, 1}, {0x9100, 2}, {0x8100, 3}}));
    expect_inner_tcp(r, 4, 50000);
    EXPECT_EQ(r.p.vlan_depth, 3);
}

TEST(Decoder, VlanStackIsBounded) {
    std::vector<std::pair<uint16_t, uint16_t>> tags(8, {0x8100, 1});
    auto r = run_eth(eth(0x0800, tcp4_packet(), tags));
    EXPECT_EQ(r.status, S::Ok);
    EXPECT_EQ(r.p.vlan_depth, 8);
    tags.push_back({0x8100, 1});
    EXPECT_EQ(run_eth(eth(0x0800, tcp4_packet(), tags)).status, S::Unsupported);
}

TEST(Decoder, VlanTagCutShortIsTruncated) {
    const Frame f = eth(0x0800, tcp4_packet(), {{0x8100, 100}});
    EXPECT_EQ(run_eth(Frame(f.begin(), f.begin() + 16)).status, S::Truncated);
}

TEST(Decoder, MplsLabelStack) {
    auto r = run_eth(eth(0x8847, mpls({100, 200, 300}, tcp4_packet())));
    expect_inner_tcp(r, 4, 50000);
    r = run_eth(eth(0x8847, mpls({16}, tcp6_packet())));
    expect_inner_tcp(r, 6, 50001);
    // A pseudowire control word (first nibble 0) is not IP.
    EXPECT_EQ(run_eth(eth(0x8847, mpls({16}, cat({zeros(4), eth(0x0800, tcp4_packet())})))).status,
              S::Unsupported);
    // No bottom-of-stack bit within the bound.
    Frame endless;
    for (int i = 0; i < 12; ++i)
        endless = cat({endless, be32(16u << 12 | 64)});
    EXPECT_EQ(run_eth(eth(0x8847, cat({endless, tcp4_packet()}))).status, S::Unsupported);
}

// ---------------------------------------------------------------------------------------------
// Other link types.

TEST(Decoder, LinuxCookedV1) {
    const Frame hdr = cat({be16(0), be16(1), be16(6), mac(1), zeros(2)});
    expect_inner_tcp(run(LinkType::LinuxSll, cat({hdr, be16(0x0800), tcp4_packet()})), 4, 50000);
    // A VLAN tag the NIC did not strip stays in the payload.
    auto r =
        run(LinkType::LinuxSll, cat({hdr, be16(0x8100), be16(5), be16(0x86DD), tcp6_packet()}));
    expect_inner_tcp(r, 6, 50001);
    EXPECT_EQ(r.p.vlan_depth, 1);
    EXPECT_EQ(run(LinkType::LinuxSll, cat({hdr, be16(0x0806), zeros(28)})).status, S::NotIp);
    EXPECT_EQ(run(LinkType::LinuxSll, cat({hdr, be16(0x0004), zeros(28)})).status, S::NotIp);
    EXPECT_EQ(run(LinkType::LinuxSll, hdr).status, S::Truncated);
}

TEST(Decoder, LinuxCookedV2) {
    const Frame tail = cat({be16(0), be32(2), be16(1), {4, 6}, mac(1), zeros(2)});
    expect_inner_tcp(run(LinkType::LinuxSll2, cat({be16(0x86DD), tail, tcp6_packet()})), 6, 50001);
    expect_inner_tcp(run(LinkType::LinuxSll2, cat({be16(0x0800), tail, tcp4_packet()})), 4, 50000);
    EXPECT_EQ(run(LinkType::LinuxSll2, cat({be16(0x0800), zeros(10)})).status, S::Truncated);
}

TEST(Decoder, BsdNullInEitherByteOrder) {
    expect_inner_tcp(run(LinkType::Null, cat({le32(2), tcp4_packet()})), 4, 50000);
    expect_inner_tcp(run(LinkType::Null, cat({be32(2), tcp4_packet()})), 4, 50000);
    for (uint32_t af6 : {24u, 28u, 30u}) {
        expect_inner_tcp(run(LinkType::Null, cat({le32(af6), tcp6_packet()})), 6, 50001);
        expect_inner_tcp(run(LinkType::Null, cat({be32(af6), tcp6_packet()})), 6, 50001);
    }
    EXPECT_EQ(run(LinkType::Null, cat({le32(7), tcp4_packet()})).status, S::NotIp);
    EXPECT_EQ(run(LinkType::Null, {2, 0, 0}).status, S::Truncated);
}

TEST(Decoder, OpenBsdLoopIsNetworkOrder) {
    expect_inner_tcp(run(LinkType::Loop, cat({be32(2), tcp4_packet()})), 4, 50000);
    expect_inner_tcp(run(LinkType::Loop, cat({be32(24), tcp6_packet()})), 6, 50001);
    EXPECT_EQ(run(LinkType::Loop, cat({le32(2), tcp4_packet()})).status, S::NotIp);
}

TEST(Decoder, RawIpLinkTypes) {
    expect_inner_tcp(run(LinkType::Raw, tcp4_packet()), 4, 50000);
    expect_inner_tcp(run(LinkType::Raw, tcp6_packet()), 6, 50001);
    expect_inner_tcp(run(LinkType::Ipv4, tcp4_packet()), 4, 50000);
    expect_inner_tcp(run(LinkType::Ipv6, tcp6_packet()), 6, 50001);
    EXPECT_EQ(run(LinkType::Ipv4, tcp6_packet()).status, S::Malformed);
    EXPECT_EQ(run(LinkType::Ipv6, tcp4_packet()).status, S::Malformed);
    Frame bad = tcp4_packet();
    bad[0] = 0x55;
    EXPECT_EQ(run(LinkType::Raw, bad).status, S::Malformed);
    EXPECT_EQ(run(LinkType::Raw, {}).status, S::Truncated);
    EXPECT_EQ(run(static_cast<LinkType>(147), tcp4_packet()).status, S::Unsupported);
}

TEST(Decoder, DecodeIpStartsAtTheIpHeader) {
    Packet p;
    ASSERT_EQ(decode_ip(tcp6_packet(), p), S::Ok);
    EXPECT_EQ(p.ip_version, 6);
    EXPECT_EQ(p.src_port, 50001);
    ASSERT_EQ(decode_ip(udp4_packet(), p), S::Ok);
    EXPECT_EQ(p.ip_version, 4);
    EXPECT_TRUE(p.is_udp());
    EXPECT_EQ(p.seq, 0u);  // nothing left over from the TCP packet before
    EXPECT_EQ(decode_ip(eth(0x0800, tcp4_packet()), p), S::Malformed);
}

// ---------------------------------------------------------------------------------------------
// IPv4.

TEST(Decoder, Ipv4Options) {
    // Router alert + NOP NOP NOP EOL.
    const Frame f =
        eth(0x0800, ipv4({.options = {0x94, 0x04, 0, 0, 1, 1, 1, 0}}, tcp({.payload = kHello})));
    const auto r = run_eth(f);
    expect_inner_tcp(r, 4, 50000);
    EXPECT_TRUE(r.p.ip_options);
    EXPECT_EQ(r.p.ip_header_len, 28);
}

TEST(Decoder, Ipv4HeaderLengthChecks) {
    Frame f = tcp4_packet();
    f[0] = 0x44;  // IHL 4 < 5
    EXPECT_EQ(run(LinkType::Raw, f).status, S::Malformed);
    f = tcp4_packet();
    put16(f, 2, 19);  // total length below the header
    EXPECT_EQ(run(LinkType::Raw, f).status, S::Malformed);
    // IHL 15 needs 60 bytes: with only 40 declared the packet contradicts itself...
    f = tcp4_packet(50000, {});
    f[0] = 0x4f;
    EXPECT_EQ(run(LinkType::Raw, f).status, S::Malformed);
    // ...while an IHL the declared length allows but the snaplen cut is Truncated.
    f = ipv4({.options = zeros(40)}, tcp({}));
    EXPECT_EQ(run(LinkType::Raw, Frame(f.begin(), f.begin() + 40)).status, S::Truncated);
    EXPECT_EQ(run(LinkType::Raw, Frame(f.begin(), f.begin() + 19)).status, S::Truncated);
    // Ethernet type IPv4, version 6.
    EXPECT_EQ(run_eth(eth(0x0800, tcp6_packet())).status, S::Malformed);
    EXPECT_EQ(run_eth(eth(0x86DD, tcp4_packet())).status, S::Malformed);
}

TEST(Decoder, SnaplenCutPayloadKeepsDeclaredLength) {
    const Frame payload(1000, 'P');
    const Frame f = eth(0x0800, tcp4_packet(50000, payload));
    const auto r = run_eth(Frame(f.begin(), f.begin() + 14 + 40 + 100));
    ASSERT_EQ(r.status, S::Ok);
    EXPECT_EQ(r.p.payload.size(), 100u);
    EXPECT_EQ(r.p.payload_len, 1000u);
}

TEST(Decoder, ZeroTotalLengthMeansSegmentationOffload) {
    Frame f = eth(0x0800, tcp4_packet());
    put16(f, 14 + 2, 0);  // what a TSO super-packet shows on the sending host
    const auto r = run_eth(f);
    expect_inner_tcp(r, 4, 50000);
}

TEST(Decoder, Ipv4NonFirstFragment) {
    const auto r =
        run_eth(eth(0x0800, ipv4({.proto = proto::Udp, .id = 77, .df = false, .frag_offset = 185},
                                 zeros(100))));
    EXPECT_EQ(r.status, S::Fragment);
    EXPECT_EQ(r.p.ip_version, 4);
    EXPECT_EQ(r.p.ip_id, 77);
    EXPECT_EQ(r.p.ip_proto, proto::Udp);
    EXPECT_EQ(r.p.src.to_string(), "192.0.2.1");
    EXPECT_EQ(r.p.src_port, 0);
}

TEST(Decoder, Ipv4FirstFragmentDecodesTheTransportHeader) {
    const Frame dgram = udp(443, 50000, Frame(1200, 'Q'));
    auto r = run_eth(eth(0x0800, ipv4({.proto = proto::Udp, .df = false, .mf = true},
                                      Frame(dgram.begin(), dgram.begin() + 512))));
    ASSERT_EQ(r.status, S::Ok);
    EXPECT_EQ(r.p.src_port, 443);
    EXPECT_EQ(r.p.payload.size(), 504u);  // what this fragment carries
    EXPECT_EQ(r.p.payload_len, 1200u);    // what the datagram declares

    const Frame seg = tcp({.payload = Frame(1000, 'T')});
    r = run_eth(
        eth(0x0800, ipv4({.df = false, .mf = true}, Frame(seg.begin(), seg.begin() + 600))));
    ASSERT_EQ(r.status, S::Ok);
    EXPECT_EQ(r.p.seq, 0x11223344u);
    EXPECT_EQ(r.p.payload.size(), 580u);
    EXPECT_EQ(r.p.payload_len, 580u);

    // A first fragment too short for the transport header has nothing to decode.
    r = run_eth(eth(0x0800, ipv4({.df = false, .mf = true}, Frame(seg.begin(), seg.begin() + 16))));
    EXPECT_EQ(r.status, S::Fragment);
    r = run_eth(eth(0x0800, ipv4({.proto = proto::Udp, .df = false, .mf = true},
                                 Frame(dgram.begin(), dgram.begin() + 4))));
    EXPECT_EQ(r.status, S::Fragment);
    Frame with_options = tcp({.options = zeros(20)});
    r = run_eth(eth(0x0800, ipv4({.df = false, .mf = true},
                                 Frame(with_options.begin(), with_options.begin() + 24))));
    EXPECT_EQ(r.status, S::Fragment);
    // Nor has a fragmented tunnel.
    r = run_eth(eth(
        0x0800, ipv4({.proto = proto::Gre, .df = false, .mf = true}, gre(0x0800, tcp4_packet()))));
    EXPECT_EQ(r.status, S::Fragment);
}

TEST(Decoder, UnfollowedProtocolsAreUnsupported) {
    auto r = run_eth(eth(0x0800, ipv4({.proto = proto::Icmp}, zeros(8))));
    EXPECT_EQ(r.status, S::Unsupported);
    EXPECT_EQ(r.p.ip_proto, proto::Icmp);
    EXPECT_EQ(r.p.src.to_string(), "192.0.2.1");
    EXPECT_EQ(run_eth(eth(0x86DD, ipv6({.next = proto::Esp}, zeros(40)))).status, S::Unsupported);
}

// ---------------------------------------------------------------------------------------------
// IPv6.

TEST(Decoder, Ipv6HeaderFields) {
    const auto r = run_eth(eth(0x86DD, ipv6({.hop_limit = 42, .tclass = 0xb9, .flow = 0xabcde},
                                            tcp({.payload = kHello}))));
    ASSERT_EQ(r.status, S::Ok);
    EXPECT_EQ(r.p.ttl, 42);
    EXPECT_EQ(r.p.tos, 0xb9);
    EXPECT_EQ(r.p.flow_label, 0xabcdeu);
    EXPECT_FALSE(r.p.ip_options);
    EXPECT_EQ(r.p.ip_header_len, 40);
    EXPECT_FALSE(r.p.df);
}

TEST(Decoder, Ipv6EveryExtensionHeader) {
    struct Case {
        uint8_t first;
        Frame chain;  // extension headers ending in "next = TCP"
    };
    const Case cases[] = {
        {proto::HopByHop, ext_header(proto::Tcp, 8)},
        {proto::Routing, ext_header(proto::Tcp, 24)},
        {proto::DestOpts, ext_header(proto::Tcp, 16)},
        {proto::Mobility, ext_header(proto::Tcp, 8)},
        {proto::Ah, ah_header(proto::Tcp, 12)},
        {proto::Fragment, fragment_header(proto::Tcp, 0, false)},
        {proto::HopByHop,
         cat({ext_header(proto::DestOpts, 8), ext_header(proto::Routing, 16),
              ext_header(proto::Fragment, 24), fragment_header(proto::Ah, 0, false),
              ah_header(proto::DestOpts, 16), ext_header(proto::Tcp, 8)})},
    };
    for (const auto& c : cases) {
        const auto r =
            run_eth(eth(0x86DD, ipv6({.next = c.first}, cat({c.chain, tcp({.payload = kHello})}))));
        SCOPED_TRACE(int{c.first});
        expect_inner_tcp(r, 6, 50000);
        EXPECT_TRUE(r.p.ip_options);
        EXPECT_EQ(r.p.ip_proto, proto::Tcp);
        EXPECT_EQ(r.p.ip_header_len, 40 + c.chain.size());
    }
}

TEST(Decoder, Ipv6NoNextHeader) {
    auto r = run_eth(eth(0x86DD, ipv6({.next = proto::NoNext}, {})));
    EXPECT_EQ(r.status, S::Unsupported);
    EXPECT_EQ(r.p.ip_proto, proto::NoNext);
    // Mobility messages end their chain with "no next header" (RFC 6275).
    r = run_eth(eth(0x86DD, ipv6({.next = proto::Mobility}, ext_header(proto::NoNext, 16))));
    EXPECT_EQ(r.status, S::Unsupported);
    EXPECT_EQ(r.p.ip_proto, proto::NoNext);
    EXPECT_EQ(r.p.ip_header_len, 56);
}

TEST(Decoder, Ipv6Fragments) {
    const Frame dgram = udp(4433, 443, Frame(64, 'B'));
    auto r = run_eth(eth(
        0x86DD, ipv6({.next = proto::Fragment}, cat({fragment_header(proto::Udp, 0, true),
                                                     Frame(dgram.begin(), dgram.begin() + 32)}))));
    ASSERT_EQ(r.status, S::Ok);
    EXPECT_EQ(r.p.dst_port, 443);
    EXPECT_EQ(r.p.payload_len, 64u);
    EXPECT_EQ(r.p.payload.size(), 24u);
    r = run_eth(eth(
        0x86DD, ipv6({.next = proto::Fragment}, cat({fragment_header(proto::Udp, 4, false),
                                                     Frame(dgram.begin() + 32, dgram.end())}))));
    EXPECT_EQ(r.status, S::Fragment);
    EXPECT_EQ(r.p.ip_proto, proto::Udp);
    EXPECT_EQ(r.p.src_port, 0);
}

TEST(Decoder, Ipv6ExtensionChainIsBounded) {
    auto chain_of = [](int n) {
        Frame c;
        for (int i = 0; i < n; ++i)
            c = cat({c, ext_header(i + 1 < n ? proto::DestOpts : proto::Tcp, 8)});
        return c;
    };
    auto r = run_eth(eth(0x86DD, ipv6({.next = proto::DestOpts}, cat({chain_of(8), tcp({})}))));
    EXPECT_EQ(r.status, S::Ok);
    EXPECT_EQ(r.p.ip_header_len, 40 + 64);
    r = run_eth(eth(0x86DD, ipv6({.next = proto::DestOpts}, cat({chain_of(9), tcp({})}))));
    EXPECT_EQ(r.status, S::Unsupported);
}

TEST(Decoder, Ipv6LengthChecks) {
    // Extension header longer than the payload length says: Malformed.
    Frame f = eth(0x86DD, ipv6({.next = proto::HopByHop}, ext_header(proto::Tcp, 8)));
    f[14 + 40 + 1] = 4;  // 40 bytes
    EXPECT_EQ(run_eth(f).status, S::Malformed);
    // Payload length beyond what a tunnel carries: Malformed; beyond the snaplen: cut payload.
    Frame inner = tcp6_packet();
    put16(inner, 4, 4000);
    EXPECT_EQ(run_eth(outer4(proto::Ipv6, inner)).status, S::Malformed);
    const auto r = run(LinkType::Raw, inner);
    ASSERT_EQ(r.status, S::Ok);
    EXPECT_EQ(r.p.payload_len, 4000u - 20);
    EXPECT_EQ(r.p.payload.size(), kHello.size());
    // Short header.
    const Frame g = tcp6_packet();
    EXPECT_EQ(run(LinkType::Raw, Frame(g.begin(), g.begin() + 39)).status, S::Truncated);
}

// ---------------------------------------------------------------------------------------------
// TCP and UDP.

TEST(Decoder, TcpDataOffsetChecks) {
    Frame f = tcp4_packet();
    f[20 + 12] = 0x40;  // 16 bytes < 20
    auto r = run(LinkType::Raw, f);
    EXPECT_EQ(r.status, S::Malformed);
    EXPECT_EQ(r.p.src_port, 50000);  // what was decoded before the failure stays
    f = tcp4_packet(50000, {});
    f[20 + 12] = 0xf0;  // 60 bytes, but the IP packet carries only 20
    EXPECT_EQ(run(LinkType::Raw, f).status, S::Malformed);
    // Options declared and inside the IP length but cut by the snaplen.
    f = ipv4({}, tcp({.options = zeros(40)}));
    EXPECT_EQ(run(LinkType::Raw, Frame(f.begin(), f.begin() + 50)).status, S::Truncated);
    EXPECT_EQ(run(LinkType::Raw, Frame(f.begin(), f.begin() + 39)).status, S::Truncated);
    // An IP payload shorter than any TCP header.
    EXPECT_EQ(run(LinkType::Raw, ipv4({}, zeros(12))).status, S::Malformed);
}

TEST(Decoder, TcpReservedBitsAndAllFlags) {
    const auto r = run(LinkType::Raw, ipv4({}, tcp({.flags = 0xff, .reserved = 0x0f})));
    ASSERT_EQ(r.status, S::Ok);
    EXPECT_EQ(r.p.tcp_flags, 0xff);
    EXPECT_EQ(r.p.tcp_reserved, 0x0f);
}

TEST(Decoder, UdpLengthChecks) {
    auto r = run(LinkType::Raw, udp4_packet());
    ASSERT_EQ(r.status, S::Ok);
    EXPECT_TRUE(same_bytes(r.p.payload, bytes("query")));
    EXPECT_EQ(r.p.payload_len, 5u);
    EXPECT_EQ(r.p.tcp_options.size(), 0u);

    // UDP length shorter than the IP payload: the UDP length wins.
    Frame f = ipv4({.proto = proto::Udp}, cat({udp(1, 2, bytes("abc")), bytes("trailer")}));
    r = run(LinkType::Raw, f);
    ASSERT_EQ(r.status, S::Ok);
    EXPECT_TRUE(same_bytes(r.p.payload, bytes("abc")));
    // Longer than the IP payload, or shorter than its own header: Malformed.
    f = udp4_packet();
    put16(f, 20 + 4, 100);
    EXPECT_EQ(run(LinkType::Raw, f).status, S::Malformed);
    put16(f, 20 + 4, 7);
    EXPECT_EQ(run(LinkType::Raw, f).status, S::Malformed);
    // Zero: the rest of the IP payload (jumbograms, GSO).
    put16(f, 20 + 4, 0);
    r = run(LinkType::Raw, f);
    ASSERT_EQ(r.status, S::Ok);
    EXPECT_EQ(r.p.payload_len, 5u);
}

// ---------------------------------------------------------------------------------------------
// GRE, ERSPAN, IP-in-IP.

TEST(Decoder, GreWithEveryOptionalField) {
    for (int mask = 0; mask < 8; ++mask) {
        const auto r =
            run_eth(outer4(proto::Gre, gre(0x0800, tcp4_packet(), mask & 1, mask & 2, mask & 4)));
        SCOPED_TRACE(mask);
        expect_inner_tcp(r, 4, 50000);
        EXPECT_EQ(r.p.tunnel_depth, 1);
        EXPECT_EQ(r.p.ttl, 64);  // the inner header's, not the outer 255
    }
    expect_inner_tcp(run_eth(outer4(proto::Gre, gre(0x86DD, tcp6_packet(), false, true))), 6,
                     50001);
    expect_inner_tcp(run_eth(outer4(proto::Gre, gre(0x8847, mpls({17}, tcp6_packet())))), 6, 50001);
    // Transparent Ethernet bridging, with a VLAN inside.
    const auto r = run_eth(
        outer4(proto::Gre, gre(0x6558, eth(0x0800, tcp4_packet(), {{0x8100, 9}}), false, true)));
    expect_inner_tcp(r, 4, 50000);
    EXPECT_EQ(r.p.vlan_depth, 1);
}

TEST(Decoder, GreVariantsWeDoNotFollow) {
    Frame g = gre(0x880B, zeros(20));
    g[1] = 0x01;  // version 1: PPTP
    EXPECT_EQ(run_eth(outer4(proto::Gre, g)).status, S::Unsupported);
    g = gre(0x0800, cat({zeros(4), tcp4_packet()}));
    g[0] = 0x40;  // RFC 1701 routing present
    EXPECT_EQ(run_eth(outer4(proto::Gre, g)).status, S::Unsupported);
    EXPECT_EQ(run_eth(outer4(proto::Gre, gre(0x880B, zeros(20)))).status, S::Unsupported);
}

TEST(Decoder, GreHeaderLengthChecks) {
    // Key and sequence flagged but the IP packet ends after the first 4 bytes.
    Frame g = gre(0x0800, {}, false, true, true);
    g.resize(4);
    EXPECT_EQ(run_eth(outer4(proto::Gre, g)).status, S::Malformed);
    // Same header cut by the snaplen.
    const Frame f = outer4(proto::Gre, gre(0x0800, tcp4_packet(), false, true, true));
    EXPECT_EQ(run_eth(Frame(f.begin(), f.begin() + 14 + 20 + 6)).status, S::Truncated);
}

TEST(Decoder, ErspanTypesOneTwoThree) {
    const Frame inner = eth(0x0800, tcp4_packet());
    // Type I: no GRE sequence number, the mirrored frame right after GRE.
    auto r = run_eth(outer4(proto::Gre, gre(0x88BE, inner)));
    expect_inner_tcp(r, 4, 50000);
    EXPECT_EQ(r.p.tunnel_depth, 1);
    // Type II: sequence number and an 8-byte ERSPAN header.
    r = run_eth(outer4(proto::Gre, gre(0x88BE, erspan2(inner), false, false, true)));
    expect_inner_tcp(r, 4, 50000);
    // Type III with and without the platform-specific subheader.
    r = run_eth(outer4(proto::Gre, gre(0x22EB, erspan3(inner, true), false, false, true)));
    expect_inner_tcp(r, 4, 50000);
    r = run_eth(outer4(
        proto::Gre, gre(0x22EB, erspan3(eth(0x86DD, tcp6_packet()), false), false, false, true)));
    expect_inner_tcp(r, 6, 50001);
    // Type III frame type 2: the mirrored packet starts at its IP header.
    r = run_eth(
        outer4(proto::Gre, gre(0x22EB, erspan3(tcp4_packet(), false, 2), false, false, true)));
    expect_inner_tcp(r, 4, 50000);
    // Wrong ERSPAN version for the GRE protocol type.
    EXPECT_EQ(run_eth(outer4(proto::Gre, gre(0x22EB, erspan2(inner), false, false, true))).status,
              S::Malformed);
}

TEST(Decoder, ErspanTruncatedMirrorIsLikeASnaplenCut) {
    const Frame inner = eth(0x0800, tcp4_packet(50000, Frame(500, 'M')));
    const Frame cut(inner.begin(), inner.begin() + 14 + 40 + 60);
    // The T bit says the switch cut the mirrored frame: the inner lengths overstate it.
    auto r = run_eth(outer4(proto::Gre, gre(0x88BE, erspan2(cut, true), false, false, true)));
    ASSERT_EQ(r.status, S::Ok);
    EXPECT_EQ(r.p.payload.size(), 60u);
    EXPECT_EQ(r.p.payload_len, 500u);
    // Without it, an inner packet longer than its tunnel contradicts the outer header.
    r = run_eth(outer4(proto::Gre, gre(0x88BE, erspan2(cut, false), false, false, true)));
    EXPECT_EQ(r.status, S::Malformed);
}

TEST(Decoder, IpInIp) {
    auto r = run_eth(outer4(proto::IpIp, tcp4_packet()));
    expect_inner_tcp(r, 4, 50000);
    EXPECT_EQ(r.p.tunnel_depth, 1);
    expect_inner_tcp(run_eth(outer4(proto::Ipv6, tcp6_packet())), 6, 50001);
    r = run_eth(eth(0x86DD, ipv6({.next = proto::IpIp}, tcp4_packet())));
    expect_inner_tcp(r, 4, 50000);
    EXPECT_EQ(run_eth(outer4(proto::IpIp, tcp6_packet())).status, S::Malformed);
}

TEST(Decoder, TunnelNestingIsBounded) {
    Frame pkt = tcp4_packet();
    for (int i = 0; i < 4; ++i)
        pkt = ipv4({.proto = proto::Gre}, gre(0x0800, pkt));
    auto r = run(LinkType::Raw, pkt);
    expect_inner_tcp(r, 4, 50000);
    EXPECT_EQ(r.p.tunnel_depth, 4);
    pkt = ipv4({.proto = proto::IpIp}, pkt);
    EXPECT_EQ(run(LinkType::Raw, pkt).status, S::Unsupported);

    // At the bound a UDP tunnel is reported as the UDP datagram it is.
    Frame v = udp4_packet();
    v = ipv4({.proto = proto::Udp}, udp(1000, 4789, vxlan(eth(0x0800, v))));
    for (int i = 0; i < 4; ++i)
        v = ipv4({.proto = proto::Udp}, udp(1000, 4789, vxlan(eth(0x0800, v))));
    r = run(LinkType::Raw, v);
    ASSERT_EQ(r.status, S::Ok);
    EXPECT_EQ(r.p.tunnel_depth, 4);
    EXPECT_EQ(r.p.dst_port, 4789);
}

// ---------------------------------------------------------------------------------------------
// UDP tunnels.

TEST(Decoder, Vxlan) {
    for (uint16_t port : {4789, 8472}) {
        const auto r =
            run_eth(outer4(proto::Udp, udp(61000, port, vxlan(eth(0x86DD, tcp6_packet())))));
        SCOPED_TRACE(port);
        expect_inner_tcp(r, 6, 50001);
        EXPECT_EQ(r.p.tunnel_depth, 1);
    }
    // Inner ARP: nothing to fingerprint either way, so the datagram itself is reported (a
    // service on the port would look the same).
    const auto r = run_eth(outer4(proto::Udp, udp(61000, 4789, vxlan(eth(0x0806, zeros(28))))));
    EXPECT_EQ(r.status, S::Ok);
    EXPECT_EQ(r.p.tunnel_depth, 0);
    EXPECT_EQ(r.p.dst_port, 4789);
}

TEST(Decoder, VxlanGpe) {
    Frame h = vxlan(tcp4_packet(), 0x0c);
    h[3] = 1;  // next protocol IPv4
    expect_inner_tcp(run_eth(outer4(proto::Udp, udp(61000, 4790, h))), 4, 50000);
    h = vxlan(tcp6_packet(), 0x0c);
    h[3] = 2;  // IPv6
    expect_inner_tcp(run_eth(outer4(proto::Udp, udp(61000, 4790, h))), 6, 50001);
    h = vxlan(eth(0x0800, tcp4_packet()), 0x0c);
    h[3] = 3;  // Ethernet
    expect_inner_tcp(run_eth(outer4(proto::Udp, udp(61000, 4790, h))), 4, 50000);
    // No P flag: Ethernet, as in plain VXLAN.
    expect_inner_tcp(
        run_eth(outer4(proto::Udp, udp(61000, 4790, vxlan(eth(0x0800, tcp4_packet()))))), 4, 50000);
}

TEST(Decoder, GeneveWithOptions) {
    const Frame options = cat({be16(0x0102), {0x80, 1}, be32(42), be16(0xffff), {0x01, 0}});
    auto r = run_eth(
        outer4(proto::Udp, udp(61001, 6081, geneve(0x6558, eth(0x0800, tcp4_packet()), options))));
    expect_inner_tcp(r, 4, 50000);
    EXPECT_EQ(r.p.tunnel_depth, 1);
    expect_inner_tcp(run_eth(outer4(proto::Udp, udp(61002, 6081, geneve(0x86DD, tcp6_packet())))),
                     6, 50001);
    expect_inner_tcp(run_eth(outer4(proto::Udp, udp(61002, 6081, geneve(0x0800, tcp4_packet())))),
                     4, 50000);
}

TEST(Decoder, GtpU) {
    auto r = run_eth(outer4(proto::Udp, udp(2152, 2152, gtpu(tcp4_packet()))));
    expect_inner_tcp(r, 4, 50000);
    EXPECT_EQ(r.p.tunnel_depth, 1);
    expect_inner_tcp(run_eth(outer4(proto::Udp, udp(2152, 2152, gtpu(tcp6_packet(), true)))), 6,
                     50001);
    // Two extension headers: PDU session container (4 bytes), then an 8-byte one.
    const Frame ext = {1, 0x10, 0x09, 0x40, 2, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x00};
    r = run_eth(outer4(proto::Udp, udp(2152, 2152, gtpu(tcp4_packet(), false, 0x85, ext))));
    expect_inner_tcp(r, 4, 50000);
    // Without the E flag the next-extension type is to be ignored.
    Frame g = gtpu(tcp4_packet(), true);
    g[11] = 0x85;
    expect_inner_tcp(run_eth(outer4(proto::Udp, udp(2152, 2152, g))), 4, 50000);
}

TEST(Decoder, UdpTunnelPortWithoutATunnelIsPlainUdp) {
    const Frame payload = bytes("not a tunnel header, just data");
    struct Case {
        uint16_t port;
        Frame payload;
    };
    Frame no_i_flag = vxlan(eth(0x0800, tcp4_packet()), 0x00);
    Frame geneve_v1 = geneve(0x6558, eth(0x0800, tcp4_packet()));
    geneve_v1[0] |= 0x40;
    Frame geneve_long_opts = geneve(0x6558, zeros(8));
    geneve_long_opts[0] = 0x3f;  // 252 bytes of options in a 16-byte payload
    Frame gtp_echo = gtpu({}, true, 0, {}, 0x01);
    Frame gtp_v2 = gtpu(tcp4_packet());
    gtp_v2[0] = 0x48;
    Frame gtp_zero_ext = gtpu(tcp4_packet(), false, 0x85, {0, 0, 0, 0});
    Frame long_chain;
    for (int i = 0; i < 9; ++i)
        long_chain = cat({long_chain, {1, 0, 0, 0x85}});
    long_chain.back() = 0;
    Frame gtp_long_chain = gtpu(tcp4_packet(), false, 0x85, long_chain);
    Frame gtp_bad_len = gtpu(tcp4_packet());
    put16(gtp_bad_len, 2, 2000);
    Frame bad_inner_ip = vxlan(eth(0x0800, tcp4_packet()));
    bad_inner_ip[8 + 14] = 0x43;  // IHL 3
    const Case cases[] = {{4789, payload},          {4789, no_i_flag},   {6081, geneve_v1},
                          {6081, geneve_long_opts}, {2152, gtp_echo},    {2152, gtp_v2},
                          {2152, gtp_zero_ext},     {2152, gtp_bad_len}, {2152, gtp_long_chain},
                          {4789, bad_inner_ip},     {4789, {}},          {6081, zeros(4)}};
    for (const auto& c : cases) {
        SCOPED_TRACE(testing::Message() << c.port << " payload " << c.payload.size());
        const auto r = run_eth(outer4(proto::Udp, udp(33333, c.port, c.payload)));
        ASSERT_EQ(r.status, S::Ok);
        EXPECT_EQ(r.p.tunnel_depth, 0);
        EXPECT_EQ(r.p.src.to_string(), "203.0.113.1");
        EXPECT_EQ(r.p.src_port, 33333);
        EXPECT_EQ(r.p.dst_port, c.port);
        EXPECT_TRUE(same_bytes(r.p.payload, c.payload));
        EXPECT_EQ(r.p.vlan_depth, 0);
    }
}

TEST(Decoder, TruncatedOuterPacketOfAUdpTunnelStaysTruncated) {
    const Frame f = outer4(proto::Udp, udp(61000, 4789, vxlan(eth(0x0800, tcp4_packet()))));
    // Cut inside the inner IP header: the capture, not the sender, is at fault.
    const auto r = run_eth(Frame(f.begin(), f.begin() + 14 + 20 + 8 + 8 + 14 + 10));
    EXPECT_EQ(r.status, S::Truncated);
    // Cut inside the outer UDP header.
    EXPECT_EQ(run_eth(Frame(f.begin(), f.begin() + 14 + 20 + 4)).status, S::Truncated);
}

}  // namespace
}  // namespace sybilwatch::net
