// The field catalog: every name a rule may use to read an attributed observation, its type, and
// how to turn its value into text or a stable 64-bit hash without allocating (the group keys of
// aggregate and link rules are built from these on every observation).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "net/ip_address.hpp"

namespace sybilwatch::rules {

class EvalContext;

enum class FieldType : uint8_t {
    String,  // compared as bytes; in-lists, startswith, regex, ...
    Int,     // ports, counters, TTL, hour
    Float,   // milliseconds, ratios, seconds
    Ip,      // an address: =, in (addresses and CIDRs)
    Net,     // a network (address + prefix length): =, in (CIDRs that contain it)
};
const char* to_string(FieldType t);

enum class FieldId : uint8_t {
    Account,
    UserAgent,
    RequestId,
    Ip,  // the client address; "src" is the same field
    Dst,
    SrcPort,
    DstPort,
    Net24,
    Net48,
    Transport,
    Sni,
    Alpn,
    Ja4,
    Ja4R,
    Ja4O,
    Ja4Ro,
    Ja3,
    Ja3Full,
    Ja4s,
    Ja4sR,
    Ja4t,
    Ja4ts,
    Ja4lC,
    Ja4lS,
    TcpSig,
    Ttl,
    RttMs,
    Requests,
    Responses,
    ClientBytes,
    ServerBytes,
    GapMeanMs,
    GapStddevMs,
    GapCv,
    DurationMs,
    Ts,
    Hour,
    Weekday,
    Count_,  // not a field: the number of fields
};
constexpr size_t kFieldCount = static_cast<size_t>(FieldId::Count_);

struct FieldInfo {
    std::string_view name;
    FieldId id;
    FieldType type;
    std::string_view doc;  // one line for docs and `rules check` messages
};

// Every field, in documentation order; aliases ("src") included.
std::span<const FieldInfo> fields();
// By name (aliases included); nullptr when unknown.
const FieldInfo* find_field(std::string_view name);
// The canonical entry of an id.
const FieldInfo& field_info(FieldId id);

// One typed value read from an observation. Strings point into the observation (or static
// text), so a FieldValue is only valid while the EvalContext it came from is.
struct FieldValue {
    bool present = false;
    std::string_view str;  // String
    double num = 0;        // Int and Float (ints are exact up to 2^53)
    net::IpAddress ip;     // Ip, Net (masked)
    uint8_t prefix = 0;    // Net: prefix length; Ip: 32 or 128
};

// A group_by / link_on element: a field, or bucket(field, width) for a numeric field (the
// value floor(v / width), so nearby RTTs land in one key).
struct KeyItem {
    FieldId field = FieldId::Ja4;
    double bucket_width = 0;  // 0: the field itself
    bool operator==(const KeyItem&) const = default;
};

// Bytes that always hold the text of a non-string value (a number, an address, a network).
constexpr size_t kKeyTextMax = 64;

// The text of a key item: strings as they are (a view into the observation), numbers in their
// shortest exact form, addresses as inet_ntop does, networks as "a.b.c.0/24", buckets as their
// lower bound ("25" for bucket(rtt_ms, 5) of 27.3). nullopt when the field is absent.
std::optional<std::string_view> key_text(const EvalContext& ctx, const KeyItem& item,
                                         std::span<char, kKeyTextMax> buf);

// A 64-bit hash of a key item's typed value, stable across processes and hosts (the engine's
// state is merged across a fleet): it depends on the value only, never on a random seed.
// nullopt when the field is absent.
std::optional<uint64_t> key_hash(const EvalContext& ctx, const KeyItem& item);
// key_hash of a present string field whose value is `s` (e.g. the account, which the account
// table files under this same hash).
uint64_t string_key_hash(std::string_view s);
// The hash of a tuple of key items; nullopt when any of them is absent. It is
// h = kTupleHashSeed, then h = tuple_hash_step(h, key_hash(item)) for each item in order.
inline constexpr uint64_t kTupleHashSeed = 0x243F6A8885A308D3ull;
uint64_t tuple_hash_step(uint64_t h, uint64_t item_hash);
std::optional<uint64_t> key_hash(const EvalContext& ctx, std::span<const KeyItem> items);
// The same tuple hash over item hashes that `one(item)` gives (the engine's, cached per
// observation): one definition of how a tuple's hash is formed.
template <typename OneHash>
std::optional<uint64_t> tuple_hash_of(std::span<const KeyItem> items, OneHash&& one) {
    uint64_t h = kTupleHashSeed;
    for (const KeyItem& k : items) {
        const std::optional<uint64_t> v = one(k);
        if (!v) return std::nullopt;
        h = tuple_hash_step(h, *v);
    }
    return h;
}
// Appends the tuple's text to `out`, items separated by '|'; false (out unchanged) when any is
// absent. `out` is the caller's and keeps its capacity, so steady state allocates nothing.
bool append_key_text(const EvalContext& ctx, std::span<const KeyItem> items, std::string& out);
// "ja4", "bucket(rtt_ms, 5)", and "ja4+ja4t" for a tuple (Finding::KeyCount::field).
std::string key_name(const KeyItem& item);
std::string key_name(std::span<const KeyItem> items);

// Parses "ja4" or "bucket(rtt_ms, 5)" (the width a positive number, the field numeric).
// nullopt with the reason (and a did-you-mean for misspelt fields) on failure.
std::optional<KeyItem> parse_key_item(std::string_view text, std::string& why);

// Stable 64-bit hash of bytes (the same function key_hash uses).
uint64_t hash_bytes(std::span<const uint8_t> bytes, uint64_t seed);

}  // namespace sybilwatch::rules
