// The p0f-style TCP signature equals p0f's own raw_sig for every SYN and SYN+ACK of the
// reference captures (expected values made by Debian's p0f, tests/data/p0f/make_expected.py).
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "fingerprint/tcp_sig.hpp"
#include "net/tcp_options.hpp"
#include "unit/pcap_test_util.hpp"

namespace sybilwatch {
namespace {

std::string endpoint(const net::IpAddress& a, uint16_t port) {
    return a.to_string() + "/" + std::to_string(port);
}

// p0f prints IPv6 addresses unabbreviated: bring them to the canonical form.
std::string canonical(const std::string& ep) {
    const auto slash = ep.rfind('/');
    return net::IpAddress::parse(ep.substr(0, slash)).to_string() + ep.substr(slash);
}

TEST(TcpSigP0f, MatchesP0fRawSigOnReferenceCaptures) {
    std::ifstream tsv(std::string(SW_SOURCE_DIR) + "/tests/data/p0f/raw_sigs.tsv");
    ASSERT_TRUE(tsv) << "missing tests/data/p0f/raw_sigs.tsv";
    // pcap -> expected (kind, sender, receiver, sig)
    std::map<std::string, std::vector<std::array<std::string, 4>>> expected;
    for (std::string line; std::getline(tsv, line);) {
        if (line.empty() || line[0] == '#') continue;
        std::istringstream ls(line);
        std::string pcap, kind, sender, receiver, sig;
        std::getline(ls, pcap, '\t');
        std::getline(ls, kind, '\t');
        std::getline(ls, sender, '\t');
        std::getline(ls, receiver, '\t');
        std::getline(ls, sig, '\t');
        expected[pcap].push_back({kind, canonical(sender), canonical(receiver), sig});
    }
    ASSERT_GT(expected.size(), 10u);

    size_t checked = 0;
    for (const auto& [pcap, rows] : expected) {
        // Our signature of every SYN and SYN+ACK, by (kind, sender, receiver).
        std::map<std::array<std::string, 3>, std::set<std::string>> ours;
        std::map<std::string, uint16_t> syn_mss;  // client endpoint -> MSS of its SYN
        for (const auto& op : testing::read_capture(testing::shared_pcap(pcap))) {
            const net::Packet& p = op.packet;
            if (op.status != net::DecodeStatus::Ok || !p.is_tcp() || !p.has(net::tcp_flag::SYN))
                continue;
            const auto opts = net::parse_tcp_options(p.tcp_options);
            const bool synack = p.has(net::tcp_flag::ACK);
            const std::string s = endpoint(p.src, p.src_port), d = endpoint(p.dst, p.dst_port);
            if (!synack) syn_mss[s] = opts.mss > 0 ? static_cast<uint16_t>(opts.mss) : 0;
            fingerprint::FixedString<160> sig;
            fingerprint::tcp_sig(p, opts, synack ? syn_mss[d] : 0, sig);
            ours[{synack ? "syn+ack" : "syn", s, d}].insert(std::string(sig.view()));
        }
        for (const auto& row : rows) {
            const auto it = ours.find({row[0], row[1], row[2]});
            ASSERT_NE(it, ours.end())
                << pcap << ": no " << row[0] << " " << row[1] << " -> " << row[2];
            EXPECT_TRUE(it->second.count(row[3]))
                << pcap << " " << row[0] << " " << row[1] << ": p0f " << row[3] << ", ours "
                << *it->second.begin();
            ++checked;
        }
    }
    EXPECT_GT(checked, 100u);
}

}  // namespace
}  // namespace sybilwatch
