// One pipeline: the kernel's events, fed to the same fingerprint::Engine as a pcap, give the
// reference fingerprints (tests/data/tls/expected.tsv, the FoxIO conformance vectors), and the
// kernel's flow-end cadence becomes the observation's.
#include <optional>

#include "bpf_test_util.hpp"
#include "fingerprint/engine.hpp"
#include "quic/quic_test_util.hpp"
#include "tls/hello_test_data.hpp"

namespace sybilwatch::capture::test {
namespace {

struct Seen {
    std::string ja4, ja4s, ja4t, sni;
    fingerprint::Cadence cadence;
    fingerprint::EndReason end;
};

class Sink : public fingerprint::ObservationSink {
  public:
    void on_observation(const fingerprint::Observation& o) override {
        seen.push_back({std::string(o.ja4.view()), std::string(o.ja4s.view()),
                        std::string(o.ja4t.view()), std::string(o.sni.view()), o.cadence, o.end});
    }
    std::vector<Seen> seen;
};

// Feeds every event to the engine, as the capture CLI does.
class EngineFeed : public EbpfEventSink {
  public:
    explicit EngineFeed(fingerprint::Engine& e) : engine_(e) {}
    void on_packet(const EbpfPacket& p) override { engine_.on_ip(p.ts_ns, p.bytes, p.wire_len); }
    void on_flow_end(const EbpfFlowEnd& e) override {
        known.push_back(engine_.end_flow(e.key, e.reason, &e.cadence));
    }
    std::vector<bool> known;

  private:
    fingerprint::Engine& engine_;
};

class EnginePipeline : public BpfTest {
  protected:
    fingerprint::EngineConfig engine_config() const {
        fingerprint::EngineConfig cfg;
        cfg.cadence_from_packets = false;
        cfg.max_flows = 64;
        cfg.reassembly_buffers = 8;
        return cfg;
    }
    // Runs a frame and hands its events to the engine.
    void feed(bool ingress, const Frame& f, EngineFeed& to) {
        const TestRunResult r = bpf_test_run(ingress ? cap_->ingress_fd() : cap_->egress_fd(), f);
        ASSERT_EQ(r.error, 0);
        ASSERT_EQ(r.retval, kTcActUnspec);
        cap_->consume(to);
    }
};

TEST_F(EnginePipeline, TlsHelloInSegmentsGivesTheReferenceJa4) {
    const auto rows = testdata::read_expected();
    std::optional<testdata::Expected> want;
    for (const auto& r : rows)
        if (r.at("name") == "chrome_tls13") want = r;
    ASSERT_TRUE(want);

    Sink sink;
    fingerprint::Engine engine(engine_config(), sink);
    EngineFeed to(engine);
    const Conn c;
    const Frame hello = testdata::read_hex("chrome_tls13.client.hex");
    const Frame server_hello = testdata::read_hex("chrome_tls13.server.hex");
    feed(true, c.syn(), to);
    feed(false, c.syn_ack(), to);
    feed(true, c.ack(), to);
    // Out of order, with a retransmission: userspace reassembles.
    const auto parts = split(hello, 4);
    const uint32_t o1 = static_cast<uint32_t>(parts[0].size());
    const uint32_t o2 = o1 + static_cast<uint32_t>(parts[1].size());
    const uint32_t o3 = o2 + static_cast<uint32_t>(parts[2].size());
    feed(true, c.client_data(o2, parts[2]), to);
    feed(true, c.client_data(0, parts[0]), to);
    feed(true, c.client_data(o3, parts[3]), to);
    feed(true, c.client_data(o2, parts[2]), to);
    feed(true, c.client_data(o1, parts[1]), to);
    feed(false, c.server_data(0, server_hello), to);
    feed(true, c.client_data(517, nb::zeros(200)), to);
    feed(false, c.server_data(static_cast<uint32_t>(server_hello.size()), nb::zeros(3000)), to);
    EXPECT_TRUE(sink.seen.empty()) << "EmitAt::Close: nothing before the end";
    feed(true, c.client_data(717, {}, 0x11), to);
    feed(false, c.server_data(static_cast<uint32_t>(server_hello.size()) + 3000, {}, 0x11), to);

    ASSERT_EQ(to.known, std::vector<bool>{true});
    ASSERT_EQ(sink.seen.size(), 1u);
    const Seen& s = sink.seen[0];
    EXPECT_EQ(s.ja4, want->at("ja4"));
    EXPECT_EQ(s.ja4s, want->at("ja4s"));
    EXPECT_EQ(s.sni, want->at("sni"));
    EXPECT_EQ(s.ja4t, "65535_2-4-8-1-3_1460_7") << "the SYN went through byte for byte";
    EXPECT_EQ(s.end, fingerprint::EndReason::Fin);
    EXPECT_EQ(s.cadence.requests, 2u);
    // Payload bytes as sent, the retransmitted part included (the engine's definition too).
    EXPECT_EQ(s.cadence.client_bytes, 517u + parts[2].size() + 200);
    EXPECT_EQ(s.cadence.server_bytes, server_hello.size() + 3000);
    EXPECT_EQ(engine.stats().hello_errors, 0u);
}

TEST_F(EnginePipeline, QuicHandshakeGivesTheReferenceJa4) {
    Sink sink;
    fingerprint::Engine engine(engine_config(), sink);
    EngineFeed to(engine);
    Conn c;
    c.udp = true;
    c.client = "2001:db8:1::1";
    c.server = "2606:4700:10::6816:826";
    c.client_port = 50280;
    for (const auto& d : quic::test::load_datagrams("chrome-cloudflare.hex"))
        feed(d.from == 'C', c.datagram(d.from == 'C', d.bytes), to);
    timespec now{};
    clock_gettime(CLOCK_MONOTONIC, &now);
    ASSERT_EQ(cap_->sweep_idle(to, (now.tv_sec + 61) * 1'000'000'000LL), 1u);
    ASSERT_EQ(sink.seen.size(), 1u);
    // FoxIO conformance vectors (VECTORS.tsv), chrome-cloudflare-quic-with-secrets.pcapng, udp.
    EXPECT_EQ(sink.seen[0].ja4, "q13d0310h3_55b375c5d22e_cd85d2d88918");
    EXPECT_EQ(sink.seen[0].ja4s, "q130200_1301_234ea6891581");
    EXPECT_EQ(sink.seen[0].sni, "cloudflare-quic.com");
    EXPECT_EQ(sink.seen[0].end, fingerprint::EndReason::Idle);
}

}  // namespace
}  // namespace sybilwatch::capture::test
