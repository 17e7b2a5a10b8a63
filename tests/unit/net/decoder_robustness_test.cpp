// net::decode() on damaged input: every prefix of fully tunnelled frames (snaplen cuts at every
// byte) and every single-byte corruption. A cut frame is Truncated until all headers up to the
// innermost transport header are in, and from then on decodes to exactly the same packet with
// a shorter payload: never Ok with fields read from garbage. Out-of-bounds reads are caught by
// the ASan/UBSan build of this test and by fuzz_packet_decoder.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "net/packet.hpp"
#include "unit/net/capture_file.hpp"
#include "unit/net/packet_builder.hpp"

namespace sybilwatch::net {
namespace {

using namespace test;  // NOLINT
using S = DecodeStatus;

struct Sample {
    std::string name;
    LinkType link;
    Frame frame;
};

std::vector<Sample> samples() {
    std::vector<Sample> out;
    const std::string foxio = std::string(SW_SHARED_DIR) + "/conformance/foxio/pcap/";
    // Real frames: GRE/ERSPAN II/VXLAN-GPE with an HTTP payload, Geneve with options, GRE.
    const auto erspan_cap = CaptureFileReader::read(foxio + "gre-erspan-vxlan.pcap");
    out.push_back({"gre-erspan-vxlan #4", erspan_cap.at(3).link, erspan_cap.at(3).data});
    const auto geneve_cap = CaptureFileReader::read(foxio + "tcpdump-geneve.pcap");
    out.push_back({"geneve #6", geneve_cap.at(5).link, geneve_cap.at(5).data});
    const auto gre_sample = CaptureFileReader::read(foxio + "gre-sample.pcap");
    out.push_back({"gre-sample #9", gre_sample.at(8).link, gre_sample.at(8).data});
    const auto v6 = CaptureFileReader::read(foxio + "ipv6.pcapng");
    out.push_back({"ipv6 null #4", v6.at(3).link, v6.at(3).data});

    // Built: every tunnel type once, with extension headers and VLANs on the way.
    const Frame hello = bytes("\x16\x03\x01\x00\x05hello");
    const Frame tcp6 =
        ipv6({.next = proto::HopByHop},
             cat({ext_header(proto::Fragment, 8), fragment_header(proto::Ah, 0, false),
                  ah_header(proto::Tcp, 12), tcp({.options = Frame(12, 1), .payload = hello})}));
    const Frame tcp4 = ipv4({.options = Frame(8, 1)}, tcp({.payload = hello}));
    const Frame gtp_ext = {1, 0x10, 0x09, 0};
    out.push_back(
        {"qinq gre key erspan3", LinkType::Ethernet,
         eth(0x0800,
             ipv4({.proto = proto::Gre},
                  gre(0x22EB, erspan3(eth(0x86DD, tcp6, {{0x8100, 1}}), true), true, true, true)),
             {{0x88A8, 1}, {0x8100, 2}})});
    out.push_back(
        {"sll geneve options ipv6", LinkType::LinuxSll,
         cat({zeros(14), be16(0x0800),
              ipv4({.proto = proto::Udp},
                   udp(1, 6081, geneve(0x86DD, tcp6, cat({be16(1), {2, 1}, be32(3)}))))})});
    out.push_back(
        {"sll2 gtpu ext", LinkType::LinuxSll2,
         cat({be16(0x86DD), zeros(18),
              ipv6({.next = proto::Udp}, udp(2152, 2152, gtpu(tcp4, true, 0x85, gtp_ext)))})});
    out.push_back(
        {"null mpls-less 6in4 vxlan", LinkType::Null,
         cat({le32(2), ipv4({.proto = proto::Ipv6},
                            ipv6({.next = proto::Udp}, udp(9, 4789, vxlan(eth(0x0800, tcp4)))))})});
    out.push_back({"mpls gre erspan2 udp", LinkType::Ethernet,
                   eth(0x8847, mpls({1, 2}, ipv4({.proto = proto::Gre},
                                                 gre(0x88BE,
                                                     erspan2(eth(0x0800, ipv4({.proto = proto::Udp},
                                                                              udp(5, 443, hello)))),
                                                     false, false, true))))});
    return out;
}

TEST(DecoderRobustness, EveryPrefixIsTruncatedOrTheSamePacket) {
    for (const auto& s : samples()) {
        SCOPED_TRACE(s.name);
        Packet full;
        ASSERT_EQ(decode(s.link, s.frame, full), S::Ok);
        ASSERT_FALSE(full.payload.empty());
        const size_t headers_end = static_cast<size_t>(full.payload.data() - s.frame.data());
        const size_t payload_end = headers_end + full.payload.size();
        for (size_t n = 0; n < s.frame.size(); ++n) {
            SCOPED_TRACE(n);
            const Frame cut(s.frame.begin(), s.frame.begin() + static_cast<ptrdiff_t>(n));
            Packet p;
            const S st = decode(s.link, cut, p);
            if (n < headers_end) {
                ASSERT_EQ(st, S::Truncated) << to_string(st);
                continue;
            }
            ASSERT_EQ(st, S::Ok) << to_string(st);
            EXPECT_EQ(p.src, full.src);
            EXPECT_EQ(p.dst, full.dst);
            EXPECT_EQ(p.ip_proto, full.ip_proto);
            EXPECT_EQ(p.src_port, full.src_port);
            EXPECT_EQ(p.dst_port, full.dst_port);
            EXPECT_EQ(p.seq, full.seq);
            EXPECT_EQ(p.tcp_flags, full.tcp_flags);
            EXPECT_EQ(p.tunnel_depth, full.tunnel_depth);
            EXPECT_EQ(p.vlan_depth, full.vlan_depth);
            EXPECT_EQ(p.payload_len, full.payload_len);
            EXPECT_EQ(p.payload.size(), std::min(n, payload_end) - headers_end);
            EXPECT_EQ(p.payload.data(), cut.data() + headers_end);
        }
    }
}

bool inside(std::span<const uint8_t> view, const Frame& f) {
    return view.empty() ||
           (view.data() >= f.data() && view.data() + view.size() <= f.data() + f.size());
}

TEST(DecoderRobustness, EverySingleByteCorruptionStaysInBounds) {
    int ok = 0, total = 0;
    for (const auto& s : samples()) {
        SCOPED_TRACE(s.name);
        for (size_t i = 0; i < s.frame.size(); ++i) {
            for (uint8_t v : {uint8_t{0x00}, uint8_t{0xff}, uint8_t(s.frame[i] ^ 0x80),
                              uint8_t(s.frame[i] + 1)}) {
                Frame f = s.frame;
                f[i] = v;
                Packet p;
                const S st = decode(s.link, f, p);
                ++total;
                if (st != S::Ok) continue;
                ++ok;
                ASSERT_TRUE(inside(p.payload, f)) << i;
                ASSERT_TRUE(inside(p.tcp_options, f)) << i;
                ASSERT_LE(p.payload.size(), p.payload_len) << i;
                ASSERT_LE(p.tunnel_depth, 4);
                ASSERT_TRUE(p.ip_version == 4 || p.ip_version == 6);
                ASSERT_TRUE(p.is_tcp() || p.is_udp());
            }
        }
    }
    // Most corruptions hit fields the decoder does not judge (addresses, ports, payload).
    EXPECT_GT(ok, total / 2);
    EXPECT_LT(ok, total);
}

}  // namespace
}  // namespace sybilwatch::net
