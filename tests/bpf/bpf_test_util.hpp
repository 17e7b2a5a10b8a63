// Shared by the BPF program tests: a fixture that loads the programs (skipping without root,
// failing under CI=true), runs them on hand-built frames through BPF_PROG_TEST_RUN, checks
// that every run left the packet alone, and collects the ring-buffer events it produced.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "capture/ebpf_capture.hpp"
#include "capture/ebpf_test_run.hpp"
#include "net/packet_builder.hpp"

namespace sybilwatch::capture::test {

using net::test::Frame;
namespace nb = net::test;

inline constexpr int32_t kTcActUnspec = -1;  // what the programs return: "carry on"

inline bool in_ci() {
    const char* ci = std::getenv("CI");
    return ci && std::string_view(ci) == "true";
}

// A copy of one packet event (the span is valid only during the callback).
struct PacketCopy {
    int64_t ts_ns = 0;
    std::vector<uint8_t> bytes;
    uint32_t wire_len = 0;
    bool from_client = false;
};

class Recorder : public EbpfEventSink {
  public:
    void on_packet(const EbpfPacket& p) override {
        packets.push_back({p.ts_ns, {p.bytes.begin(), p.bytes.end()}, p.wire_len, p.from_client});
    }
    void on_flow_end(const EbpfFlowEnd& e) override { ends.push_back(e); }
    std::vector<PacketCopy> packets;
    std::vector<EbpfFlowEnd> ends;
};

// One TCP or UDP connection's frames, built the same way for every test.
struct Conn {
    std::string_view client = "192.0.2.1";
    std::string_view server = "198.51.100.2";
    uint16_t client_port = 50000;
    uint16_t server_port = 443;
    bool udp = false;
    std::vector<std::pair<uint16_t, uint16_t>> vlan;  // in-packet tags (TPID, VLAN id)
    uint32_t client_isn = 1000;
    uint32_t server_isn = 700000;

    bool v6() const { return client.find(':') != std::string_view::npos; }

    Frame ip(bool from_client, const Frame& l4) const {
        const std::string_view src = from_client ? client : server;
        const std::string_view dst = from_client ? server : client;
        const uint8_t proto = udp ? nb::proto::Udp : nb::proto::Tcp;
        if (v6())
            return nb::eth(0x86DD, nb::ipv6({.src = src, .dst = dst, .next = proto}, l4), vlan);
        return nb::eth(0x0800, nb::ipv4({.src = src, .dst = dst, .proto = proto}, l4), vlan);
    }
    size_t l2_len() const { return 14 + 4 * vlan.size(); }

    // TCP segments; client data offsets are relative to the client's ISN + 1 (server alike).
    Frame tcp(bool from_client, uint8_t flags, uint32_t seq, uint32_t ack,
              const Frame& payload = {}, const Frame& options = {}) const {
        const uint16_t sp = from_client ? client_port : server_port;
        const uint16_t dp = from_client ? server_port : client_port;
        return ip(from_client, nb::tcp({.sport = sp,
                                        .dport = dp,
                                        .seq = seq,
                                        .ack = ack,
                                        .flags = flags,
                                        .options = options,
                                        .payload = payload}));
    }
    Frame syn() const { return tcp(true, 0x02, client_isn, 0, {}, syn_options()); }
    Frame syn_ack() const {
        return tcp(false, 0x12, server_isn, client_isn + 1, {}, syn_options());
    }
    Frame ack() const { return tcp(true, 0x10, client_isn + 1, server_isn + 1); }
    Frame client_data(uint32_t offset, const Frame& payload, uint8_t flags = 0x18) const {
        return tcp(true, flags, client_isn + 1 + offset, server_isn + 1, payload);
    }
    Frame server_data(uint32_t offset, const Frame& payload, uint8_t flags = 0x18) const {
        return tcp(false, flags, server_isn + 1 + offset, client_isn + 1, payload);
    }
    Frame datagram(bool from_client, const Frame& payload) const {
        return ip(from_client, nb::udp(from_client ? client_port : server_port,
                                       from_client ? server_port : client_port, payload));
    }
    // MSS 1460, SACK permitted, timestamps, NOP, window scale 7: a Linux SYN.
    static Frame syn_options() {
        return {0x02, 0x04, 0x05, 0xb4, 0x04, 0x02, 0x08, 0x0a, 0,    0,
                0,    1,    0,    0,    0,    0,    0x01, 0x03, 0x03, 0x07};
    }
};

// Splits bytes into `n` nearly equal pieces.
inline std::vector<Frame> split(const Frame& bytes, size_t n) {
    std::vector<Frame> out;
    size_t off = 0;
    for (size_t i = 0; i < n; ++i) {
        const size_t len = (bytes.size() - off) / (n - i);
        out.emplace_back(bytes.begin() + static_cast<long>(off),
                         bytes.begin() + static_cast<long>(off + len));
        off += len;
    }
    return out;
}

class BpfTest : public ::testing::Test {
  protected:
    void SetUp() override {
        if (geteuid() != 0) {
            if (in_ci()) FAIL() << "BPF tests need root; under CI=true they must run";
            GTEST_SKIP() << "BPF tests need root (CAP_BPF + CAP_NET_ADMIN): run as root";
        }
        EbpfConfig cfg;
        cfg.ring_bytes = ring_bytes();
        cfg.max_flows = max_flows();
        cap_ = std::make_unique<EbpfCapture>(cfg);
    }
    virtual uint32_t ring_bytes() const { return 1u << 20; }
    // Small: the LRU map is preallocated, and a test needs a handful of flows.
    virtual uint32_t max_flows() const { return 1024; }

    // Runs the ingress (client → server) or egress program on `frame`, checks that it let the
    // packet through untouched, and returns the events the run produced.
    Recorder run(bool ingress, const Frame& frame) {
        Recorder rec;
        run_into(ingress, frame, rec);
        return rec;
    }
    void run_into(bool ingress, const Frame& frame, Recorder& rec) {
        const TestRunResult r =
            bpf_test_run(ingress ? cap_->ingress_fd() : cap_->egress_fd(), frame);
        EXPECT_EQ(r.error, 0) << std::strerror(-r.error);
        EXPECT_EQ(r.retval, kTcActUnspec) << "the programs must let every packet through";
        EXPECT_EQ(r.data_out, frame) << "the programs must not change a packet";
        cap_->consume(rec);
    }
    Recorder client(const Frame& f) { return run(true, f); }
    Recorder server(const Frame& f) { return run(false, f); }

    // The handshake up to the client's ACK, each step checked for its one event.
    void open(const Conn& c) {
        ASSERT_EQ(client(c.syn()).packets.size(), 1u);
        ASSERT_EQ(server(c.syn_ack()).packets.size(), 1u);
        ASSERT_EQ(client(c.ack()).packets.size(), 1u);
    }

    static std::vector<uint8_t> from_ip(const Conn& c, const Frame& f) {
        return {f.begin() + static_cast<long>(c.l2_len()), f.end()};
    }

    std::unique_ptr<EbpfCapture> cap_;
};

}  // namespace sybilwatch::capture::test
