// ObservationRecord: an Observation in a fixed, pointer-free layout, as it sits in a slot of the
// shared-memory ring (docs/shm.md has the byte offsets). Other processes read it, so it holds
// only fixed-width integers and byte arrays: no bool or enum whose invalid values would be UB,
// no double (stored as its IEEE-754 bits), no hidden padding.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <type_traits>

#include "fingerprint/observation.hpp"

namespace sybilwatch::shm {

// A string of at most N bytes. `len` comes from another process: view() clamps it, so a
// corrupt length can never read past the array.
template <size_t N>
struct RecordString {
    static constexpr size_t capacity = N;
    uint16_t len;
    char data[N + (N % 2)];  // even size: the next field needs no padding

    std::string_view view() const { return {data, len <= N ? len : N}; }
    bool valid() const { return len <= N; }
    // Like FixedString::assign: a value that does not fit is not stored (absent, not cut).
    bool assign(std::string_view s) {
        if (s.size() > N) {
            len = 0;
            return false;
        }
        if (!s.empty()) std::memcpy(data, s.data(), s.size());
        len = static_cast<uint16_t>(s.size());
        return true;
    }
};

// Bits of ObservationRecord::flags.
enum RecordFlag : uint8_t {
    kClientHelloSeen = 1 << 0,
    kServerHelloSeen = 1 << 1,
    kSynSeen = 1 << 2,
    kAccountTooLong = 1 << 3,     // the account did not fit in 128 bytes: left empty
    kUserAgentTruncated = 1 << 4  // the User-Agent was cut at a UTF-8 boundary to fit
};

struct ObservationRecord {
    // 8-byte fields.
    int64_t ts_ns;
    int64_t syn_ns;
    int64_t synack_ns;
    int64_t ack_ns;
    int64_t rtt_us;
    uint64_t client_bytes;
    uint64_t server_bytes;
    uint64_t gap_mean_us_bits;  // double, IEEE-754 binary64
    uint64_t gap_m2_bits;       // double
    uint64_t gap_min_us;
    uint64_t gap_max_us;
    int64_t duration_us;
    // 4-byte fields (cadence).
    uint32_t requests;
    uint32_t responses;
    uint32_t max_request_bytes;
    uint32_t min_request_bytes;
    uint32_t gap_count;
    // 2-byte fields.
    uint16_t src_port;
    uint16_t dst_port;
    uint16_t tls_version;
    // 1-byte fields.
    uint8_t transport;  // fingerprint::Transport
    uint8_t end;        // fingerprint::EndReason
    uint8_t client_ttl;
    uint8_t server_ttl;
    uint8_t src_family;  // 0, 4 or 6
    uint8_t dst_family;
    uint8_t flags;  // RecordFlag bits
    uint8_t reserved;
    uint8_t src_addr[16];  // IPv4 in the first 4 bytes
    uint8_t dst_addr[16];
    // Strings, capacities as in fingerprint::Observation.
    RecordString<255> sni;
    RecordString<255> alpn;
    RecordString<40> ja4;
    RecordString<40> ja4_o;
    RecordString<32> ja3;
    RecordString<40> ja4s;
    RecordString<200> ja4t;
    RecordString<200> ja4ts;
    RecordString<24> ja4l_c;
    RecordString<24> ja4l_s;
    RecordString<160> tcp_sig;
    // Attribution (filled by the identity stage; empty until then).
    RecordString<128> account;
    RecordString<256> user_agent;
    uint8_t tail_reserved[4];  // rounds the size to 8 bytes (slots are copied in 8-byte words)
};

static_assert(std::is_trivially_copyable_v<ObservationRecord>);
static_assert(std::is_standard_layout_v<ObservationRecord>);
// No padding anywhere: every byte is a field, so the layout is the same for any compiler.
static_assert(std::has_unique_object_representations_v<ObservationRecord>);
static_assert(sizeof(ObservationRecord) % 8 == 0);
static_assert(sizeof(ObservationRecord) == 1848, "layout changed: bump kRingVersion, docs/shm.md");

// Observation -> record. Every fixed field is copied; ja4_r, ja4_ro, ja3_full and ja4s_r are
// not carried (too long for a fixed slot; `sybilwatch fingerprint` prints them). The account
// must fit whole (else empty, kAccountTooLong); the User-Agent is cut to fit.
void to_record(const fingerprint::Observation& o, ObservationRecord& r,
               std::string_view account = {}, std::string_view user_agent = {});

// Record -> Observation (raw strings left empty). The record is another process's memory:
// lengths are clamped, an unknown enum value or address family becomes the default, a
// non-finite or out-of-range double becomes 0. Returns false when anything had to be fixed.
bool to_observation(const ObservationRecord& r, fingerprint::Observation& o);

// The record's account and User-Agent (clamped views into `r`).
inline std::string_view account_of(const ObservationRecord& r) {
    return r.account.view();
}
inline std::string_view user_agent_of(const ObservationRecord& r) {
    return r.user_agent.view();
}

}  // namespace sybilwatch::shm
