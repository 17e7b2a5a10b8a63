// The kernel's cadence sums turn into the engine's Welford statistics, and its keys into the
// engine's canonical flow keys. Pure userspace: runs without root.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "capture/ebpf_events.hpp"

namespace sybilwatch::capture {
namespace {

// The kernel's add_gap, in userspace.
void kernel_add_gap(sw_cadence& c, uint64_t g) {
    c.gap_count++;
    c.gap_sum_us += g;
    const uint64_t sq = g * g;
    c.gap_sumsq_lo += sq;
    if (c.gap_sumsq_lo < sq) c.gap_sumsq_hi++;
    if (c.gap_count == 1 || g < c.gap_min_us) c.gap_min_us = g;
    if (g > c.gap_max_us) c.gap_max_us = g;
}

TEST(EbpfEvents, CadenceSumsEqualWelford) {
    // Gaps like a bot's: ~1 s apart with a few ms of jitter, a 4-minute pause, and two of over
    // an hour whose squares together overflow 64 bits.
    const uint64_t gaps[] = {1'000'120,     999'870,   1'003'400, 240'000'000,
                             4'000'000'000, 1'000'005, 998'999,   4'100'000'000};
    sw_cadence k{};
    fingerprint::Cadence w;
    for (uint64_t g : gaps) {
        kernel_add_gap(k, g);
        w.add_gap(g);
    }
    k.requests = 8;
    k.first_ns = 1'000;
    k.last_ns = 5'000'001'000;
    const fingerprint::Cadence c = cadence_from(k);
    EXPECT_EQ(c.gap_count, w.gap_count);
    EXPECT_DOUBLE_EQ(c.gap_mean_us, w.gap_mean_us);
    EXPECT_NEAR(c.gap_m2, w.gap_m2, w.gap_m2 * 1e-12);
    EXPECT_NEAR(c.gap_stddev_us(), w.gap_stddev_us(), w.gap_stddev_us() * 1e-12);
    EXPECT_EQ(c.gap_min_us, w.gap_min_us);
    EXPECT_EQ(c.gap_max_us, w.gap_max_us);
    EXPECT_EQ(c.duration_us, 5'000'000);
    EXPECT_GT(k.gap_sumsq_hi, 0u) << "the test must exercise the 128-bit carry";
}

TEST(EbpfEvents, OpenRequestBurstIsClosed) {
    sw_cadence k{};
    k.requests = 2;
    k.min_request_bytes = 500;
    k.max_request_bytes = 500;
    k.burst_dir = 1;
    k.burst_bytes = 70;
    const fingerprint::Cadence c = cadence_from(k);
    EXPECT_EQ(c.min_request_bytes, 70u);
    EXPECT_EQ(c.max_request_bytes, 500u);
    k.burst_dir = 2;  // a response is open: nothing to close
    EXPECT_EQ(cadence_from(k).min_request_bytes, 500u);
}

TEST(EbpfEvents, FlowKeyIsTheEnginesCanonicalKey) {
    sw_flow_key k{};
    k.family = 4;
    const uint8_t client[4] = {203, 0, 113, 9}, server[4] = {192, 0, 2, 1};
    std::memcpy(k.client_addr, client, 4);
    std::memcpy(k.server_addr, server, 4);
    k.client_port = 51000;
    k.server_port = 443;
    k.proto = 6;
    net::Packet from_server;
    from_server.ip_proto = 6;
    from_server.src = net::IpAddress::parse("192.0.2.1"), from_server.src_port = 443;
    from_server.dst = net::IpAddress::parse("203.0.113.9"), from_server.dst_port = 51000;
    EXPECT_TRUE(flow_key_from(k) == net::FlowKey::of(from_server));
}

TEST(EbpfEvents, EndReasons) {
    EXPECT_EQ(end_reason_from(SW_END_FIN), fingerprint::EndReason::Fin);
    EXPECT_EQ(end_reason_from(SW_END_RST), fingerprint::EndReason::Rst);
    EXPECT_EQ(end_reason_from(SW_END_IDLE), fingerprint::EndReason::Idle);
}

}  // namespace
}  // namespace sybilwatch::capture
