// net::decode() against tshark's reading of real captures (the FoxIO reference set) and of the
// synthetic captures in tests/data/net/: status, innermost IP and TCP/UDP fields, tunnel and
// VLAN depth, for every frame listed in tests/data/net/reference_expectations.tsv (made by
// make_reference_expectations.py next to it).
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "net/packet.hpp"
#include "unit/net/capture_file.hpp"

namespace sybilwatch::net {
namespace {

using test::CapturedFrame;
using test::CaptureFileReader;

std::vector<std::string> split_tabs(const std::string& line) {
    std::vector<std::string> out;
    std::stringstream ss(line);
    std::string field;
    while (std::getline(ss, field, '\t'))
        out.push_back(field);
    return out;
}

enum Col {
    kFrame,
    kStatus,
    kIpVer,
    kSrc,
    kDst,
    kTtl,
    kTos,
    kIpProto,
    kIpId,
    kDf,
    kFlow,
    kSport,
    kDport,
    kTcpFlags,
    kSeq,
    kAck,
    kWindow,
    kUrgent,
    kTcpHdrLen,
    kPayloadLen,
    kTunnelDepth,
    kVlanDepth,
    kColumns
};

// Compares one expectation row with the decoded packet; "-" means tshark has no such field.
void check_row(const std::vector<std::string>& e, DecodeStatus status, const Packet& p) {
    ASSERT_EQ(e[kStatus], to_string(status));
    auto expect_num = [&](Col c, uint64_t actual, const char* what) {
        if (e[c] == "-") return;
        EXPECT_EQ(std::stoull(e[c]), actual) << what;
    };
    expect_num(kVlanDepth, p.vlan_depth, "vlan_depth");
    if (e[kStatus] == "not_ip") return;
    expect_num(kIpVer, p.ip_version, "ip_version");
    EXPECT_EQ(IpAddress::parse(e[kSrc]), p.src) << e[kSrc] << " vs " << p.src.to_string();
    EXPECT_EQ(IpAddress::parse(e[kDst]), p.dst) << e[kDst] << " vs " << p.dst.to_string();
    expect_num(kTtl, p.ttl, "ttl");
    expect_num(kTos, p.tos, "tos");
    expect_num(kIpProto, p.ip_proto, "ip_proto");
    expect_num(kIpId, p.ip_id, "ip_id");
    expect_num(kDf, p.df, "df");
    expect_num(kFlow, p.flow_label, "flow_label");
    expect_num(kTunnelDepth, p.tunnel_depth, "tunnel_depth");
    if (status != DecodeStatus::Ok) return;
    expect_num(kSport, p.src_port, "src_port");
    expect_num(kDport, p.dst_port, "dst_port");
    expect_num(kPayloadLen, p.payload_len, "payload_len");
    EXPECT_LE(p.payload.size(), p.payload_len);
    if (p.is_tcp()) {
        // tshark's 12 flag bits: the 8 classic flags, then NS/AE and the 3 reserved bits.
        expect_num(kTcpFlags, p.tcp_flags | (uint32_t{p.tcp_reserved} << 8), "tcp flags");
        expect_num(kSeq, p.seq, "seq");
        expect_num(kAck, p.ack, "ack");
        expect_num(kWindow, p.window, "window");
        expect_num(kUrgent, p.urgent_ptr, "urgent_ptr");
        expect_num(kTcpHdrLen, 20 + p.tcp_options.size(), "tcp header length");
    }
}

std::string expectations_path() {
    if (const char* env = std::getenv("SW_NET_REFERENCE_TSV")) return env;
    return std::string(SW_SOURCE_DIR) + "/tests/data/net/reference_expectations.tsv";
}

TEST(DecoderReference, AgreesWithTsharkOnEveryListedFrame) {
    std::ifstream in(expectations_path());
    ASSERT_TRUE(in) << expectations_path();
    std::vector<CapturedFrame> frames;
    std::string capture;
    std::map<std::string, int> statuses;
    int rows = 0;
    for (std::string line; std::getline(in, line);) {
        if (line.empty() || line[0] == '#') continue;
        const auto f = split_tabs(line);
        if (line[0] == '@') {
            ASSERT_EQ(f.size(), 2u) << line;
            const std::string root = f[0] == "@shared" ? SW_SHARED_DIR : SW_SOURCE_DIR;
            capture = root + "/" + f[1];
            frames = CaptureFileReader::read(capture);
            continue;
        }
        ASSERT_EQ(f.size(), size_t{kColumns}) << line;
        const size_t n = std::stoul(f[kFrame]);
        ASSERT_GE(n, 1u);
        ASSERT_LE(n, frames.size()) << capture;
        const CapturedFrame& frame = frames[n - 1];
        Packet p;
        const DecodeStatus s = decode(frame.link, frame.data, p);
        SCOPED_TRACE(capture + " frame " + f[kFrame]);
        check_row(f, s, p);
        ++statuses[f[kStatus]];
        ++rows;
    }
    // The committed file covers every status the captures exercise; a truncated file or one
    // with lost sections would show here.
    EXPECT_GE(rows, 1800);
    EXPECT_GE(statuses["ok"], 1700);
    EXPECT_GE(statuses["not_ip"], 5);
    EXPECT_GE(statuses["unsupported"], 20);
    EXPECT_EQ(statuses["fragment"], 2);
}

// The tunnel captures in detail: every frame decapsulates to the innermost TCP/ICMP packet.
TEST(DecoderReference, GreErspanVxlanDecapsulatesToInnerTcp) {
    const auto frames = CaptureFileReader::read(std::string(SW_SHARED_DIR) +
                                                "/conformance/foxio/pcap/gre-erspan-vxlan.pcap");
    ASSERT_EQ(frames.size(), 7u);
    for (const auto& f : frames) {
        Packet p;
        ASSERT_EQ(decode(f.link, f.data, p), DecodeStatus::Ok);
        EXPECT_EQ(p.tunnel_depth, 2);
        EXPECT_TRUE(p.is_tcp());
        EXPECT_EQ(p.src.family, 4);
        // 10.16.27.0/24 on both ends of the inner connection.
        EXPECT_EQ(p.src.bytes[0], 10);
        EXPECT_EQ(p.dst.bytes[0], 10);
    }
}

}  // namespace
}  // namespace sybilwatch::net
