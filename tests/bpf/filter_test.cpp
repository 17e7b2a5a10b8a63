// What the programs ignore: other ports, the host's own client connections, other protocols;
// and the service-port map set from userspace.
#include "bpf_test_util.hpp"

namespace sybilwatch::capture::test {
namespace {

class Filter : public BpfTest {};

TEST_F(Filter, OtherPortsProduceNothing) {
    Conn http;
    http.server_port = 80;
    EXPECT_TRUE(client(http.syn()).packets.empty());
    EXPECT_TRUE(server(http.syn_ack()).packets.empty());
    Conn dns;
    dns.udp = true;
    dns.server_port = 53;
    EXPECT_TRUE(client(dns.datagram(true, nb::zeros(40))).packets.empty());
    const EbpfCounters n = cap_->counters();
    EXPECT_EQ(n.packets, 3u);
    EXPECT_EQ(n.matched, 0u);
    EXPECT_EQ(n.flows_created, 0u);
}

TEST_F(Filter, HostAsClientIsNotMonitored) {
    // Egress TO a remote 443 and ingress FROM it: this host is the client there.
    const Conn c;
    EXPECT_TRUE(server(c.syn()).packets.empty());
    EXPECT_TRUE(client(c.syn_ack()).packets.empty());
    EXPECT_EQ(cap_->counters().matched, 0u);
}

TEST_F(Filter, NonIpFramesProduceNothing) {
    const Frame arp = nb::eth(0x0806, nb::zeros(28));
    EXPECT_TRUE(client(arp).packets.empty());
    const Frame icmp = nb::eth(0x0800, nb::ipv4({.proto = nb::proto::Icmp}, nb::zeros(16)));
    EXPECT_TRUE(client(icmp).packets.empty());
    // An IPv4 header that says TCP, and the frame ends before the ports.
    Frame cut = nb::eth(0x0800, nb::ipv4({}, nb::zeros(2)));
    EXPECT_TRUE(client(cut).packets.empty());
    EXPECT_EQ(cap_->counters().matched, 0u);
    EXPECT_EQ(cap_->counters().nonlinear, 1u);
}

TEST_F(Filter, TcpPortIsNotAUdpPort) {
    const std::vector<uint16_t> tcp{443}, udp{};
    cap_->set_ports(tcp, udp);
    Conn quic;
    quic.udp = true;
    EXPECT_TRUE(client(quic.datagram(true, nb::zeros(1200))).packets.empty());
    EXPECT_EQ(cap_->counters().matched, 0u);
}

TEST_F(Filter, ServicePortsAreReplaced) {
    const std::vector<uint16_t> tcp{8080}, udp{};
    cap_->set_ports(tcp, udp);
    const Conn https;
    EXPECT_TRUE(client(https.syn()).packets.empty()) << "443 is no longer monitored";
    Conn alt;
    alt.server_port = 8080;
    EXPECT_EQ(client(alt.syn()).packets.size(), 1u);
    EXPECT_THROW(cap_->set_ports(std::vector<uint16_t>{0}, udp), EbpfError);
}

TEST_F(Filter, DefaultPortsIncludeAlternateHttps) {
    Conn c;
    c.server_port = 8443;
    EXPECT_EQ(client(c.syn()).packets.size(), 1u);
}

}  // namespace
}  // namespace sybilwatch::capture::test
