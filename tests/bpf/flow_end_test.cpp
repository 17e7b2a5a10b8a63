// Flow ends: FIN from both sides or a RST ends the flow in the kernel with one flow-end event
// carrying the connection's whole cadence; idle flows are swept by the loader.
#include "bpf_test_util.hpp"
#include "tls/hello_test_data.hpp"

namespace sybilwatch::capture::test {
namespace {

class FlowEnd : public BpfTest {};

TEST_F(FlowEnd, FinFromBothSidesReportsTheCadence) {
    const Conn c;
    open(c);
    const Frame hello = testdata::read_hex("chrome_tls13.client.hex");
    const Frame server_hello = testdata::read_hex("chrome_tls13.server.hex");
    // Bursts: client 517 | server SH | client 100 | server 1000 | client 50+60 | server 10.
    uint32_t co = 0, so = 0;
    auto cdata = [&](size_t n, const Frame* bytes = nullptr) {
        const Frame payload = bytes ? *bytes : nb::zeros(n);
        run(true, c.client_data(co, payload));
        co += static_cast<uint32_t>(payload.size());
    };
    auto sdata = [&](size_t n, const Frame* bytes = nullptr) {
        const Frame payload = bytes ? *bytes : nb::zeros(n);
        run(false, c.server_data(so, payload));
        so += static_cast<uint32_t>(payload.size());
    };
    cdata(0, &hello);
    sdata(0, &server_hello);
    cdata(100);
    sdata(1000);
    cdata(50);
    cdata(60);
    sdata(10);

    EXPECT_TRUE(client(c.client_data(co, {}, 0x11)).ends.empty()) << "one FIN is not the end";
    const Recorder r = server(c.server_data(so, {}, 0x11));
    ASSERT_EQ(r.ends.size(), 1u);
    EXPECT_TRUE(r.packets.empty());
    const EbpfFlowEnd& e = r.ends[0];
    EXPECT_EQ(e.reason, fingerprint::EndReason::Fin);
    net::Packet p;
    p.ip_proto = 6;
    p.src = net::IpAddress::parse(c.client), p.src_port = c.client_port;
    p.dst = net::IpAddress::parse(c.server), p.dst_port = c.server_port;
    EXPECT_TRUE(e.key == net::FlowKey::of(p));
    const fingerprint::Cadence& k = e.cadence;
    EXPECT_EQ(k.requests, 3u);
    EXPECT_EQ(k.responses, 3u);
    EXPECT_EQ(k.client_bytes, 517u + 100 + 110);
    EXPECT_EQ(k.server_bytes, server_hello.size() + 1000 + 10);
    EXPECT_EQ(k.max_request_bytes, 517u);
    EXPECT_EQ(k.min_request_bytes, 100u);
    EXPECT_EQ(k.gap_count, 2u);
    EXPECT_LE(k.gap_min_us, k.gap_max_us);
    EXPECT_GE(k.gap_mean_us, static_cast<double>(k.gap_min_us));
    EXPECT_LE(k.gap_mean_us, static_cast<double>(k.gap_max_us));
    EXPECT_GE(k.duration_us, 0);

    const EbpfCounters n = cap_->counters();
    EXPECT_EQ(n.flows_ended, 1u);
    EXPECT_EQ(n.flow_end_events, 1u);
    EXPECT_EQ(n.flows_tracked, 0u);
    // The flow is gone: a late ACK is not sent and the sweep finds nothing.
    EXPECT_TRUE(client(c.client_data(co + 1, {}, 0x10)).packets.empty());
    Recorder swept;
    EXPECT_EQ(cap_->sweep_idle(swept, INT64_MAX), 0u);
}

TEST_F(FlowEnd, LastRequestBurstIsClosedAtTheEnd) {
    const Conn c;
    open(c);
    run(true, c.client_data(0, nb::zeros(300)));
    run(false, c.server_data(0, nb::zeros(20)));
    run(true, c.client_data(300, nb::zeros(40)));  // the open burst when the RST comes
    const Recorder r = client(c.client_data(340, {}, 0x14));
    ASSERT_EQ(r.ends.size(), 1u);
    EXPECT_EQ(r.ends[0].reason, fingerprint::EndReason::Rst);
    EXPECT_EQ(r.ends[0].cadence.requests, 2u);
    EXPECT_EQ(r.ends[0].cadence.min_request_bytes, 40u);
    EXPECT_EQ(r.ends[0].cadence.max_request_bytes, 300u);
}

TEST_F(FlowEnd, ServerRstEndsTheFlow) {
    const Conn c;
    ASSERT_EQ(client(c.syn()).packets.size(), 1u);
    const Recorder r = server(c.tcp(false, 0x14, 0, c.client_isn + 1));
    ASSERT_EQ(r.ends.size(), 1u);
    EXPECT_EQ(r.ends[0].reason, fingerprint::EndReason::Rst);
    EXPECT_EQ(cap_->counters().flows_tracked, 0u);
}

TEST_F(FlowEnd, IdleSweepEndsOnlyIdleFlows) {
    Conn a, b;
    b.client_port = 50001;
    ASSERT_EQ(client(a.syn()).packets.size(), 1u);
    ASSERT_EQ(client(b.syn()).packets.size(), 1u);
    run(true, b.client_data(0, nb::zeros(10)));
    Recorder none;
    EXPECT_EQ(cap_->sweep_idle(none, 0), 0u) << "nothing is 5 minutes old yet";

    timespec now{};
    clock_gettime(CLOCK_MONOTONIC, &now);
    const int64_t later = (now.tv_sec + 301) * 1'000'000'000LL + now.tv_nsec;
    Recorder r;
    EXPECT_EQ(cap_->sweep_idle(r, later), 2u);
    ASSERT_EQ(r.ends.size(), 2u);
    for (const auto& e : r.ends)
        EXPECT_EQ(e.reason, fingerprint::EndReason::Idle);
    const auto& eb = r.ends[0].cadence.client_bytes == 10 ? r.ends[0] : r.ends[1];
    EXPECT_EQ(eb.cadence.requests, 1u);
    EXPECT_EQ(eb.cadence.min_request_bytes, 10u) << "the open burst is closed by the sweep";
    const EbpfCounters n = cap_->counters();
    EXPECT_EQ(n.flows_idle, 2u);
    EXPECT_EQ(n.flows_tracked, 0u);
    EXPECT_EQ(cap_->sweep_idle(r, later), 0u);
}

class FullFlowMap : public BpfTest {
  protected:
    uint32_t max_flows() const override { return 256; }
};

TEST_F(FullFlowMap, EvictionsAreCountedExactly) {
    // The LRU map evicts silently and in batches, before it is full: the loader counts what is
    // missing. Every flow created is ended, swept, still tracked, or evicted.
    constexpr int kFlows = 400;
    for (int i = 0; i < kFlows; ++i) {
        Conn c;
        c.client_port = static_cast<uint16_t>(20000 + i);
        const TestRunResult r = bpf_test_run(cap_->ingress_fd(), c.syn());
        ASSERT_EQ(r.error, 0);
        if (i % 50 == 0) {
            Recorder drained;
            cap_->consume(drained);
        }
    }
    Recorder rec;
    cap_->consume(rec);
    // End the newest flow (certainly still there) with a RST, then sweep everything else.
    Conn last;
    last.client_port = 20000 + kFlows - 1;
    EXPECT_EQ(client(last.tcp(true, 0x04, last.client_isn + 1, 0)).ends.size(), 1u);

    EbpfCounters n = cap_->counters();
    EXPECT_EQ(n.flows_created, static_cast<uint64_t>(kFlows));
    EXPECT_LE(n.flows_tracked, 256u);
    EXPECT_GE(n.flow_evictions, static_cast<uint64_t>(kFlows - 256));
    EXPECT_EQ(n.flows_ended + n.flows_tracked + n.flow_evictions, static_cast<uint64_t>(kFlows));

    Recorder swept;
    const size_t idle = cap_->sweep_idle(swept, INT64_MAX);
    EXPECT_EQ(idle, n.flows_tracked);
    const uint64_t evicted = n.flow_evictions;
    n = cap_->counters();
    EXPECT_EQ(n.flows_tracked, 0u);
    EXPECT_EQ(n.flows_idle, idle);
    EXPECT_EQ(n.flow_evictions, evicted);
}

}  // namespace
}  // namespace sybilwatch::capture::test
