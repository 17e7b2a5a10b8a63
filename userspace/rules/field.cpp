#include "rules/field.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstring>

#include "rules/did_you_mean.hpp"
#include "rules/eval_context.hpp"
#include "rules/hash_index.hpp"

namespace sybilwatch::rules {

const char* to_string(FieldType t) {
    switch (t) {
        case FieldType::String:
            return "string";
        case FieldType::Int:
            return "int";
        case FieldType::Float:
            return "float";
        case FieldType::Ip:
            return "ip";
        case FieldType::Net:
            return "network";
    }
    return "string";
}

namespace {

using enum FieldId;
using T = FieldType;

// Canonical entries first, in FieldId order (field_info indexes this array); aliases after.
constexpr std::array<FieldInfo, kFieldCount + 1> kFields{{
    {"account", Account, T::String, "the account that used the connection (identity feed)"},
    {"user_agent", UserAgent, T::String, "the request's User-Agent (identity feed)"},
    {"request_id", RequestId, T::String, "the gateway's request id (identity feed)"},
    {"ip", Ip, T::Ip, "the client address (alias: src)"},
    {"dst", Dst, T::Ip, "the server address"},
    {"src_port", SrcPort, T::Int, "the client port"},
    {"dst_port", DstPort, T::Int, "the server port"},
    {"net24", Net24, T::Net, "the client's network: /24 for IPv4, /48 for IPv6"},
    {"net48", Net48, T::Net, "the client's /48 (IPv6 clients only)"},
    {"transport", Transport, T::String, "tcp, quic or dtls"},
    {"sni", Sni, T::String, "TLS server name"},
    {"alpn", Alpn, T::String, "first ALPN value the client offered"},
    {"ja4", Ja4, T::String, "JA4 (TLS client)"},
    {"ja4_r", Ja4R, T::String, "JA4, raw (unhashed) form"},
    {"ja4_o", Ja4O, T::String, "JA4, original extension order"},
    {"ja4_ro", Ja4Ro, T::String, "JA4, raw form in original order"},
    {"ja3", Ja3, T::String, "JA3 (MD5)"},
    {"ja3_full", Ja3Full, T::String, "JA3, unhashed string"},
    {"ja4s", Ja4s, T::String, "JA4S (TLS server; FoxIO licence)"},
    {"ja4s_r", Ja4sR, T::String, "JA4S, raw form"},
    {"ja4t", Ja4t, T::String, "JA4T (client SYN; FoxIO licence)"},
    {"ja4ts", Ja4ts, T::String, "JA4TS (server SYN-ACK; FoxIO licence)"},
    {"ja4l_c", Ja4lC, T::String, "JA4L client latency (FoxIO licence)"},
    {"ja4l_s", Ja4lS, T::String, "JA4L server latency (FoxIO licence)"},
    {"tcp_sig", TcpSig, T::String, "p0f-style signature of the client SYN"},
    {"ttl", Ttl, T::Int, "the client's IP TTL / hop limit as seen"},
    {"rtt_ms", RttMs, T::Float, "round-trip time: SYN to client ACK (TCP) or Initial (QUIC)"},
    {"requests", Requests, T::Int, "client data bursts (requests)"},
    {"responses", Responses, T::Int, "server data bursts (responses)"},
    {"client_bytes", ClientBytes, T::Int, "client payload bytes"},
    {"server_bytes", ServerBytes, T::Int, "server payload bytes"},
    {"gap_mean_ms", GapMeanMs, T::Float, "mean gap between request starts (1+ gaps)"},
    {"gap_stddev_ms", GapStddevMs, T::Float, "standard deviation of those gaps (2+ gaps)"},
    {"gap_cv", GapCv, T::Float, "gap_stddev_ms / gap_mean_ms: low means machine-regular"},
    {"duration_ms", DurationMs, T::Float, "first to last packet"},
    {"ts", Ts, T::Float, "event time, seconds since the epoch"},
    {"hour", Hour, T::Int, "hour of the event time, 0-23 UTC"},
    {"weekday", Weekday, T::Int, "day of the week of the event time, 0 (Sunday) - 6, UTC"},
    {"src", Ip, T::Ip, "alias of ip"},
}};

static_assert([] {
    for (size_t i = 0; i < kFieldCount; ++i)
        if (static_cast<size_t>(kFields[i].id) != i) return false;
    return true;
}());

// 64-bit multiply-mix (the finaliser of MurmurHash3/splitmix): fast and fixed, so hashes agree
// across hosts.
constexpr uint64_t mix(uint64_t h) {
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 33;
    return h;
}

std::string_view number_text(double v, bool integral, std::span<char, kKeyTextMax> buf) {
    std::to_chars_result r;
    if (integral && std::fabs(v) < 9.2e18)
        r = std::to_chars(buf.data(), buf.data() + buf.size(), static_cast<int64_t>(v));
    else
        r = std::to_chars(buf.data(), buf.data() + buf.size(), v);
    return {buf.data(), static_cast<size_t>(r.ptr - buf.data())};
}

double bucket_of(double v, double width) {
    return std::floor(v / width);
}

}  // namespace

std::span<const FieldInfo> fields() {
    return kFields;
}

const FieldInfo* find_field(std::string_view name) {
    for (const FieldInfo& f : kFields)
        if (f.name == name) return &f;
    return nullptr;
}

const FieldInfo& field_info(FieldId id) {
    return kFields[static_cast<size_t>(id)];
}

namespace {

// wyhash (final version 4, public domain, github.com/wangyi-fudan/wyhash): 16 bytes per
// 64x64->128-bit multiply, where a murmur-style finaliser per 8 bytes was a chain of four
// dependent multiplies. Keys are hashed for every observation (the account, the JA4, link
// tuples), so this is on the rules engine's hot path.
// kWySecret and fold_mul (wyhash's mix) are in rules/hash_index.hpp.
inline void wymum(uint64_t& a, uint64_t& b) {
    const unsigned __int128 r = static_cast<unsigned __int128>(a) * b;
    a = static_cast<uint64_t>(r);
    b = static_cast<uint64_t>(r >> 64);
}
inline uint64_t wymix(uint64_t a, uint64_t b) {
    return fold_mul(a, b);
}
inline uint64_t wyr8(const uint8_t* p) {
    uint64_t v;
    std::memcpy(&v, p, 8);
    return v;
}
inline uint64_t wyr4(const uint8_t* p) {
    uint32_t v;
    std::memcpy(&v, p, 4);
    return v;
}
inline uint64_t wyr3(const uint8_t* p, size_t k) {
    return (uint64_t{p[0]} << 16) | (uint64_t{p[k >> 1]} << 8) | p[k - 1];
}

}  // namespace

uint64_t hash_bytes(std::span<const uint8_t> bytes, uint64_t seed) {
    const uint8_t* p = bytes.data();
    const size_t len = bytes.size();
    seed ^= wymix(seed ^ kWySecret[0], kWySecret[1]);
    uint64_t a, b;
    if (len <= 16) {
        if (len >= 4) {
            a = (wyr4(p) << 32) | wyr4(p + ((len >> 3) << 2));
            b = (wyr4(p + len - 4) << 32) | wyr4(p + len - 4 - ((len >> 3) << 2));
        } else if (len > 0) {
            a = wyr3(p, len);
            b = 0;
        } else {
            a = b = 0;
        }
    } else {
        size_t i = len;
        if (i >= 48) {
            uint64_t see1 = seed, see2 = seed;
            do {
                seed = wymix(wyr8(p) ^ kWySecret[1], wyr8(p + 8) ^ seed);
                see1 = wymix(wyr8(p + 16) ^ kWySecret[2], wyr8(p + 24) ^ see1);
                see2 = wymix(wyr8(p + 32) ^ kWySecret[3], wyr8(p + 40) ^ see2);
                p += 48;
                i -= 48;
            } while (i >= 48);
            seed ^= see1 ^ see2;
        }
        while (i > 16) {
            seed = wymix(wyr8(p) ^ kWySecret[1], wyr8(p + 8) ^ seed);
            i -= 16;
            p += 16;
        }
        a = wyr8(p + i - 16);
        b = wyr8(p + i - 8);
    }
    a ^= kWySecret[1];
    b ^= seed;
    wymum(a, b);
    return wymix(a ^ kWySecret[0] ^ len, b ^ kWySecret[1]);
}

std::optional<std::string_view> key_text(const EvalContext& ctx, const KeyItem& item,
                                         std::span<char, kKeyTextMax> buf) {
    const FieldValue v = ctx.get(item.field);
    if (!v.present) return std::nullopt;
    const FieldType t = field_info(item.field).type;
    if (item.bucket_width > 0) {
        return number_text(
            bucket_of(v.num, item.bucket_width) * item.bucket_width,
            t == FieldType::Int || std::floor(item.bucket_width) == item.bucket_width, buf);
    }
    switch (t) {
        case FieldType::String:
            return v.str;
        case FieldType::Int:
            return number_text(v.num, true, buf);
        case FieldType::Float:
            return number_text(v.num, false, buf);
        case FieldType::Ip:
            return v.ip.format(buf.first<net::IpAddress::kMaxText>());
        case FieldType::Net: {
            const std::string_view a = v.ip.format(buf.first<net::IpAddress::kMaxText>());
            char* p = buf.data() + a.size();
            *p++ = '/';
            const auto r = std::to_chars(p, buf.data() + buf.size(), v.prefix);
            return std::string_view(buf.data(), static_cast<size_t>(r.ptr - buf.data()));
        }
    }
    return std::nullopt;
}

std::optional<uint64_t> key_hash(const EvalContext& ctx, const KeyItem& item) {
    const FieldValue v = ctx.get(item.field);
    if (!v.present) return std::nullopt;
    const FieldType t = field_info(item.field).type;
    // The type is the seed, so "443" the string and 443 the port do not collide by design.
    const uint64_t seed = 0x5357'0000ull + static_cast<uint64_t>(t);
    if (item.bucket_width > 0) {
        // Clamped: a cast of a double beyond int64 is undefined.
        const double q = std::clamp(bucket_of(v.num, item.bucket_width), -9.0e18, 9.0e18);
        const auto b = static_cast<int64_t>(q);
        return mix(seed ^ mix(static_cast<uint64_t>(b) + 0x1b873593ull));
    }
    switch (t) {
        case FieldType::String:
            return string_key_hash(v.str);
        case FieldType::Int:
        case FieldType::Float: {
            uint64_t bits;
            const double d = v.num == 0 ? 0.0 : v.num;  // -0 and 0 are one value
            std::memcpy(&bits, &d, sizeof bits);
            return mix(seed ^ mix(bits));
        }
        case FieldType::Ip:
        case FieldType::Net:
            return mix(hash_bytes(v.ip.bytes, seed + v.ip.family) ^ v.prefix);
    }
    return std::nullopt;
}

uint64_t string_key_hash(std::string_view s) {
    return hash_bytes({reinterpret_cast<const uint8_t*>(s.data()), s.size()},
                      0x5357'0000ull + static_cast<uint64_t>(FieldType::String));
}

uint64_t tuple_hash_step(uint64_t h, uint64_t item_hash) {
    return mix(h ^ item_hash) + 0x9E3779B97F4A7C15ull;  // order matters: (a, b) != (b, a)
}

std::optional<uint64_t> key_hash(const EvalContext& ctx, std::span<const KeyItem> items) {
    return tuple_hash_of(items, [&](const KeyItem& k) { return key_hash(ctx, k); });
}

bool append_key_text(const EvalContext& ctx, std::span<const KeyItem> items, std::string& out) {
    const size_t start = out.size();
    std::array<char, kKeyTextMax> buf;
    for (size_t i = 0; i < items.size(); ++i) {
        const auto t = key_text(ctx, items[i], buf);
        if (!t) {
            out.resize(start);
            return false;
        }
        if (i) out += '|';
        out += *t;
    }
    return true;
}

std::string key_name(const KeyItem& item) {
    std::string n(field_info(item.field).name);
    if (item.bucket_width <= 0) return n;
    std::array<char, kKeyTextMax> buf;
    const bool integral = std::floor(item.bucket_width) == item.bucket_width;
    return "bucket(" + n + ", " + std::string(number_text(item.bucket_width, integral, buf)) + ")";
}

std::string key_name(std::span<const KeyItem> items) {
    std::string n;
    for (size_t i = 0; i < items.size(); ++i) {
        if (i) n += '+';
        n += key_name(items[i]);
    }
    return n;
}

std::optional<KeyItem> parse_key_item(std::string_view text, std::string& why) {
    auto trim = [](std::string_view s) {
        while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
            s.remove_prefix(1);
        while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
            s.remove_suffix(1);
        return s;
    };
    auto field = [&](std::string_view name) -> const FieldInfo* {
        const FieldInfo* f = find_field(name);
        if (!f) {
            std::vector<std::string_view> names;
            for (const FieldInfo& i : fields())
                names.push_back(i.name);
            why = "unknown field '" + std::string(name) + "'" + did_you_mean(name, names);
        }
        return f;
    };
    text = trim(text);
    if (!text.starts_with("bucket(")) {
        const FieldInfo* f = field(text);
        if (!f) return std::nullopt;
        return KeyItem{f->id, 0};
    }
    const size_t comma = text.find(',');
    if (comma == std::string_view::npos || !text.ends_with(")")) {
        why = "expected bucket(FIELD, WIDTH), got '" + std::string(text) + "'";
        return std::nullopt;
    }
    const FieldInfo* f = field(trim(text.substr(7, comma - 7)));
    if (!f) return std::nullopt;
    if (f->type != FieldType::Int && f->type != FieldType::Float) {
        why = "bucket() needs a numeric field, but " + std::string(f->name) + " is a " +
              to_string(f->type);
        return std::nullopt;
    }
    const std::string_view w = trim(text.substr(comma + 1, text.size() - comma - 2));
    double width = 0;
    const auto r = std::from_chars(w.data(), w.data() + w.size(), width);
    if (w.empty() || r.ec != std::errc() || r.ptr != w.data() + w.size() || !std::isfinite(width) ||
        width <= 0 || width > 1e15) {
        why = "bucket width must be a positive number, got '" + std::string(w) + "'";
        return std::nullopt;
    }
    return KeyItem{f->id, width};
}

}  // namespace sybilwatch::rules
