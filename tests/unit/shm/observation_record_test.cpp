// Observation <-> ObservationRecord: every field survives, the raw strings are dropped, and a
// record from a broken writer is made safe.
#include "shm/observation_record.hpp"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <limits>
#include <string>

#include "fingerprint/observation_json.hpp"
#include "shm_test_util.hpp"

namespace sybilwatch::shm {
namespace {

using fingerprint::EndReason;
using fingerprint::Observation;
using fingerprint::Transport;

// Field by field: what a JSON comparison would hide (flags, the exact M2, zero-valued counts).
void expect_same_fixed_fields(const Observation& a, const Observation& b) {
    EXPECT_EQ(a.ts_ns, b.ts_ns);
    EXPECT_EQ(a.transport, b.transport);
    EXPECT_EQ(a.src, b.src);
    EXPECT_EQ(a.dst, b.dst);
    EXPECT_EQ(a.src_port, b.src_port);
    EXPECT_EQ(a.dst_port, b.dst_port);
    EXPECT_EQ(a.sni.view(), b.sni.view());
    EXPECT_EQ(a.alpn.view(), b.alpn.view());
    EXPECT_EQ(a.tls_version, b.tls_version);
    EXPECT_EQ(a.ja4.view(), b.ja4.view());
    EXPECT_EQ(a.ja4_o.view(), b.ja4_o.view());
    EXPECT_EQ(a.ja3.view(), b.ja3.view());
    EXPECT_EQ(a.ja4s.view(), b.ja4s.view());
    EXPECT_EQ(a.ja4t.view(), b.ja4t.view());
    EXPECT_EQ(a.ja4ts.view(), b.ja4ts.view());
    EXPECT_EQ(a.ja4l_c.view(), b.ja4l_c.view());
    EXPECT_EQ(a.ja4l_s.view(), b.ja4l_s.view());
    EXPECT_EQ(a.tcp_sig.view(), b.tcp_sig.view());
    EXPECT_EQ(a.syn_ns, b.syn_ns);
    EXPECT_EQ(a.synack_ns, b.synack_ns);
    EXPECT_EQ(a.ack_ns, b.ack_ns);
    EXPECT_EQ(a.client_ttl, b.client_ttl);
    EXPECT_EQ(a.server_ttl, b.server_ttl);
    EXPECT_EQ(a.rtt_us, b.rtt_us);
    const auto &ca = a.cadence, &cb = b.cadence;
    EXPECT_EQ(ca.requests, cb.requests);
    EXPECT_EQ(ca.responses, cb.responses);
    EXPECT_EQ(ca.client_bytes, cb.client_bytes);
    EXPECT_EQ(ca.server_bytes, cb.server_bytes);
    EXPECT_EQ(ca.max_request_bytes, cb.max_request_bytes);
    EXPECT_EQ(ca.min_request_bytes, cb.min_request_bytes);
    EXPECT_EQ(ca.gap_count, cb.gap_count);
    EXPECT_EQ(std::bit_cast<uint64_t>(ca.gap_mean_us), std::bit_cast<uint64_t>(cb.gap_mean_us));
    EXPECT_EQ(std::bit_cast<uint64_t>(ca.gap_m2), std::bit_cast<uint64_t>(cb.gap_m2));
    EXPECT_EQ(ca.gap_min_us, cb.gap_min_us);
    EXPECT_EQ(ca.gap_max_us, cb.gap_max_us);
    EXPECT_EQ(ca.duration_us, cb.duration_us);
    EXPECT_EQ(a.end, b.end);
    EXPECT_EQ(a.client_hello_seen, b.client_hello_seen);
    EXPECT_EQ(a.server_hello_seen, b.server_hello_seen);
    EXPECT_EQ(a.syn_seen, b.syn_seen);
}

template <size_t N>
void fill_to_capacity(fingerprint::FixedString<N>& s, char c) {
    ASSERT_TRUE(s.assign(std::string(N, c)));
}

// Every field set away from its default, every string at its capacity.
Observation full_observation() {
    Observation o;
    o.ts_ns = 1'700'000'000'123'456'789;
    o.transport = Transport::Quic;
    o.src = net::IpAddress::parse("2001:db8:1:2::10");
    o.dst = net::IpAddress::parse("192.0.2.77");
    o.src_port = 51234;
    o.dst_port = 443;
    fill_to_capacity(o.sni, 's');
    fill_to_capacity(o.alpn, 'a');
    o.tls_version = 0x0304;
    fill_to_capacity(o.ja4, '4');
    fill_to_capacity(o.ja4_o, 'o');
    fill_to_capacity(o.ja3, '3');
    fill_to_capacity(o.ja4s, 'S');
    fill_to_capacity(o.ja4t, 't');
    fill_to_capacity(o.ja4ts, 'T');
    fill_to_capacity(o.ja4l_c, 'c');
    fill_to_capacity(o.ja4l_s, 'l');
    fill_to_capacity(o.tcp_sig, 'g');
    o.ja4_r = "raw-ja4";
    o.ja4_ro = "raw-ja4-o";
    o.ja3_full = "771,4865,0,,";
    o.ja4s_r = "raw-ja4s";
    o.syn_ns = o.ts_ns;
    o.synack_ns = o.ts_ns + 1000;
    o.ack_ns = o.ts_ns + 2000;
    o.client_ttl = 64;
    o.server_ttl = 57;
    o.rtt_us = 2;
    o.cadence.requests = 3;
    o.cadence.responses = 4;
    o.cadence.client_bytes = 5'000'000'000ull;
    o.cadence.server_bytes = 6;
    o.cadence.max_request_bytes = 700;
    o.cadence.min_request_bytes = 80;
    o.cadence.add_gap(1000);
    o.cadence.add_gap(1500);
    o.cadence.add_gap(4000);
    o.cadence.duration_us = 123'456;
    o.end = EndReason::Rst;
    o.client_hello_seen = o.server_hello_seen = o.syn_seen = true;
    return o;
}

TEST(ObservationRecord, EveryFixedFieldRoundTrips) {
    const Observation o = full_observation();
    ObservationRecord r{};
    to_record(o, r, "acct-42", "curl/8.5.0");
    Observation back;
    back.ja4_r = "stale";  // what was in a reused Observation must not survive
    EXPECT_TRUE(to_observation(r, back));
    expect_same_fixed_fields(o, back);
    EXPECT_TRUE(back.ja4_r.empty());
    EXPECT_TRUE(back.ja4_ro.empty());
    EXPECT_TRUE(back.ja3_full.empty());
    EXPECT_TRUE(back.ja4s_r.empty());
    EXPECT_EQ(account_of(r), "acct-42");
    EXPECT_EQ(user_agent_of(r), "curl/8.5.0");
    EXPECT_EQ(r.flags & (kAccountTooLong | kUserAgentTruncated), 0);
}

// A new Observation field must find its way into the record: this size is the tripwire.
TEST(ObservationRecord, ObservationLayoutIsTheOneTheRecordMirrors) {
#if defined(__GLIBCXX__) && defined(__x86_64__)
    EXPECT_EQ(sizeof(Observation), 1600u)
        << "fingerprint::Observation changed: carry the new field in shm::ObservationRecord, "
           "to_record, to_observation and docs/shm.md, then update this size";
#else
    GTEST_SKIP() << "size checked on x86-64 libstdc++ only";
#endif
}

// Real observations (the engine on the reference captures): the JSON line after the round
// trip is the original's without the raw strings.
TEST(ObservationRecord, RealObservationsRoundTrip) {
    size_t n = 0;
    for (const char* cap : {"tls-handshake.pcapng", "tls-sni.pcapng", "ipv6.pcapng",
                            "quic-tls-handshake.pcapng", "latest.pcapng", "tls12.pcap"}) {
        for (Observation o : test::observations_of(test::foxio_pcap(cap))) {
            ObservationRecord r{};
            to_record(o, r);
            Observation back;
            EXPECT_TRUE(to_observation(r, back)) << cap;
            expect_same_fixed_fields(o, back);
            o.ja4_r.clear();
            o.ja4_ro.clear();
            o.ja3_full.clear();
            o.ja4s_r.clear();
            std::string want, got;
            fingerprint::append_json(o, want);
            fingerprint::append_json(back, got);
            EXPECT_EQ(want, got) << cap;
            ++n;
        }
    }
    EXPECT_GT(n, 20u);  // the captures hold dozens of connections; an empty run proves nothing
}

TEST(ObservationRecord, AccountThatDoesNotFitIsLeftOutNotCut) {
    ObservationRecord r{};
    to_record(Observation{}, r, std::string(129, 'x'));
    EXPECT_EQ(account_of(r), "");
    EXPECT_NE(r.flags & kAccountTooLong, 0);
    to_record(Observation{}, r, std::string(128, 'x'));
    EXPECT_EQ(account_of(r).size(), 128u);
    EXPECT_EQ(r.flags & kAccountTooLong, 0);
}

TEST(ObservationRecord, LongUserAgentIsCutOnACharacterBoundary) {
    // 255 ASCII bytes then "é" (2 bytes): the cut at 256 would split it, so it goes whole.
    const std::string ua = std::string(255, 'm') + "\xc3\xa9" + "tail";
    ObservationRecord r{};
    to_record(Observation{}, r, {}, ua);
    EXPECT_EQ(user_agent_of(r), std::string(255, 'm'));
    EXPECT_NE(r.flags & kUserAgentTruncated, 0);
}

// A record is another process's memory: whatever it holds, reading it is defined and the
// result is bounded.
TEST(ObservationRecord, CorruptRecordIsClampedAndReported) {
    ObservationRecord r{};
    to_record(full_observation(), r);
    r.sni.len = 60000;
    r.ja3.len = 33;
    r.transport = 9;
    r.end = 200;
    r.src_family = 7;
    r.dst_family = 4;
    r.gap_mean_us_bits = std::bit_cast<uint64_t>(std::numeric_limits<double>::quiet_NaN());
    r.gap_m2_bits = std::bit_cast<uint64_t>(-1.0);
    Observation o;
    EXPECT_FALSE(to_observation(r, o));
    EXPECT_EQ(o.sni.size(), 255u);  // clamped to the array
    EXPECT_EQ(o.ja3.size(), 32u);
    EXPECT_EQ(o.transport, Transport::Tcp);
    EXPECT_EQ(o.end, EndReason::Open);
    EXPECT_EQ(o.src.family, 0);
    EXPECT_EQ(o.dst.family, 4);
    EXPECT_EQ(o.cadence.gap_mean_us, 0.0);
    EXPECT_EQ(o.cadence.gap_m2, 0.0);
    std::string line;
    fingerprint::append_json(o, line);  // must not hit UB on the doubles (UBSan build)
    EXPECT_EQ(line.substr(line.size() - 2), "}\n");
    EXPECT_NE(line.find("\"transport\":\"tcp\""), std::string::npos);
}

}  // namespace
}  // namespace sybilwatch::shm
