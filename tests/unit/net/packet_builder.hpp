// Test helper: builds frames layer by layer, inside out, with consistent length fields, so a
// test can then break exactly one thing. Layouts follow the RFCs cited in decoder.cpp; the
// same encapsulations, built independently in tests/data/net/make_synthetic_captures.py, are
// checked against tshark by decoder_reference_test.cpp.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string_view>
#include <utility>
#include <vector>

#include "net/ip_address.hpp"

namespace sybilwatch::net::test {

using Frame = std::vector<uint8_t>;

inline Frame cat(std::initializer_list<Frame> parts) {
    Frame out;
    for (const auto& p : parts)
        out.insert(out.end(), p.begin(), p.end());
    return out;
}
inline Frame be16(uint32_t v) {
    return {uint8_t(v >> 8), uint8_t(v)};
}
inline Frame be32(uint32_t v) {
    return {uint8_t(v >> 24), uint8_t(v >> 16), uint8_t(v >> 8), uint8_t(v)};
}
inline Frame le32(uint32_t v) {
    return {uint8_t(v), uint8_t(v >> 8), uint8_t(v >> 16), uint8_t(v >> 24)};
}
inline Frame bytes(std::string_view s) {
    return Frame(s.begin(), s.end());
}
inline Frame zeros(size_t n) {
    return Frame(n, 0);
}
inline void put16(Frame& f, size_t off, uint32_t v) {
    f[off] = uint8_t(v >> 8);
    f[off + 1] = uint8_t(v);
}

inline Frame addr(std::string_view text) {
    const IpAddress a = IpAddress::parse(text);
    return Frame(a.bytes.begin(), a.bytes.begin() + (a.family == 4 ? 4 : 16));
}

namespace proto {
inline constexpr uint8_t Icmp = 1, IpIp = 4, Tcp = 6, Udp = 17, Ipv6 = 41, Routing = 43,
                         Fragment = 44, Gre = 47, Esp = 50, Ah = 51, NoNext = 59, DestOpts = 60,
                         Mobility = 135, HopByHop = 0;
}

struct TcpSpec {
    uint16_t sport = 50000, dport = 443;
    uint32_t seq = 0x11223344, ack = 0x55667788;
    uint8_t flags = 0x18;  // PSH|ACK
    uint8_t reserved = 0;
    uint16_t window = 65535, urgent = 0;
    Frame options{};
    Frame payload{};
};

inline Frame tcp(const TcpSpec& s) {
    const uint8_t doff = uint8_t(5 + s.options.size() / 4);
    return cat({be16(s.sport),
                be16(s.dport),
                be32(s.seq),
                be32(s.ack),
                {uint8_t(doff << 4 | s.reserved), s.flags},
                be16(s.window),
                be16(0),
                be16(s.urgent),
                s.options,
                s.payload});
}

inline Frame udp(uint16_t sport, uint16_t dport, const Frame& payload) {
    return cat({be16(sport), be16(dport), be16(uint32_t(8 + payload.size())), be16(0), payload});
}

struct Ipv4Spec {
    std::string_view src = "192.0.2.1", dst = "198.51.100.2";
    uint8_t proto = proto::Tcp, ttl = 64, tos = 0;
    uint16_t id = 0x1234;
    bool df = true, mf = false;
    uint16_t frag_offset = 0;  // in 8-byte units
    Frame options{};
};

inline Frame ipv4(const Ipv4Spec& s, const Frame& payload) {
    const uint8_t ihl = uint8_t(5 + s.options.size() / 4);
    const uint16_t flags = uint16_t((s.df ? 0x4000 : 0) | (s.mf ? 0x2000 : 0) | s.frag_offset);
    return cat({{uint8_t(0x40 | ihl), s.tos},
                be16(uint32_t(ihl * 4 + payload.size())),
                be16(s.id),
                be16(flags),
                {s.ttl, s.proto},
                be16(0),
                addr(s.src),
                addr(s.dst),
                s.options,
                payload});
}

struct Ipv6Spec {
    std::string_view src = "2001:db8::1", dst = "2001:db8::2";
    uint8_t next = proto::Tcp, hop_limit = 64, tclass = 0;
    uint32_t flow = 0;
};

inline Frame ipv6(const Ipv6Spec& s, const Frame& payload) {
    return cat({be32(6u << 28 | uint32_t{s.tclass} << 20 | s.flow),
                be16(uint32_t(payload.size())),
                {s.next, s.hop_limit},
                addr(s.src),
                addr(s.dst),
                payload});
}

// Hop-by-hop, routing, destination options, mobility: 8-byte units minus one; body is padded.
inline Frame ext_header(uint8_t next, size_t total_len) {
    Frame h = zeros(total_len);
    h[0] = next;
    h[1] = uint8_t(total_len / 8 - 1);
    return h;
}

inline Frame ah_header(uint8_t next, size_t icv_len) {
    // RFC 4302: length in 4-byte units minus 2, 12 fixed bytes + ICV.
    return cat({{next, uint8_t((12 + icv_len) / 4 - 2)},
                be16(0),
                be32(0x100),
                be32(1),
                Frame(icv_len, 0xAA)});
}

inline Frame fragment_header(uint8_t next, uint16_t offset_units, bool more) {
    return cat({{next, 0}, be16(uint32_t(offset_units << 3 | (more ? 1 : 0))), be32(0xABCD)});
}

inline Frame mac(uint8_t last) {
    return {0x02, 0, 0, 0, 0, last};
}

// tags: TPIDs from the outside in, each with a VLAN id.
inline Frame eth(uint16_t type, const Frame& payload,
                 std::vector<std::pair<uint16_t, uint16_t>> tags = {}) {
    Frame f = cat({mac(2), mac(1)});
    std::vector<uint16_t> types;
    for (const auto& t : tags)
        types.push_back(t.first);
    types.push_back(type);
    f = cat({f, be16(types[0])});
    for (size_t i = 0; i < tags.size(); ++i)
        f = cat({f, be16(tags[i].second), be16(types[i + 1])});
    return cat({f, payload});
}

inline Frame gre(uint16_t protocol, const Frame& payload, bool csum = false, bool key = false,
                 bool seq = false) {
    const uint16_t flags = uint16_t((csum ? 0x8000 : 0) | (key ? 0x2000 : 0) | (seq ? 0x1000 : 0));
    Frame f = cat({be16(flags), be16(protocol)});
    if (csum) f = cat({f, be32(0)});
    if (key) f = cat({f, be32(0xC0FFEE)});
    if (seq) f = cat({f, be32(7)});
    return cat({f, payload});
}

inline Frame erspan2(const Frame& frame, bool truncated = false) {
    return cat({be16(1u << 12 | 100), be16((truncated ? 0x0400u : 0u) | 20), be32(1), frame});
}

inline Frame erspan3(const Frame& frame, bool subheader, uint8_t frame_type = 0) {
    Frame h = cat({be16(2u << 12 | 100),
                   be16(21),
                   be32(0xDEADBEEF),
                   be16(0x0abc),
                   {uint8_t(frame_type << 2), uint8_t(subheader ? 1 : 0)}});
    if (subheader) h = cat({h, be32(3u << 26), be32(1)});
    return cat({h, frame});
}

inline Frame vxlan(const Frame& frame, uint8_t flags = 0x08) {
    return cat({{flags, 0, 0, 0}, be32(42u << 8), frame});
}

inline Frame geneve(uint16_t protocol, const Frame& inner, const Frame& options = {}) {
    return cat({{uint8_t(options.size() / 4), 0}, be16(protocol), be32(10u << 8), options, inner});
}

// GTP-U G-PDU; `ext` is a chain of extension headers (each: length byte, content, next type)
// whose first type goes into the optional fields.
inline Frame gtpu(const Frame& inner, bool seq = false, uint8_t first_ext = 0,
                  const Frame& ext = {}, uint8_t type = 0xff) {
    uint8_t flags = 0x30;
    Frame opt;
    if (seq || first_ext) {
        flags |= uint8_t((seq ? 0x02 : 0) | (first_ext ? 0x04 : 0));
        opt = cat({be16(9), {0, first_ext}, ext});
    }
    return cat(
        {{flags, type}, be16(uint32_t(opt.size() + inner.size())), be32(0x1000), opt, inner});
}

inline Frame mpls(std::vector<uint32_t> labels, const Frame& payload) {
    Frame f;
    for (size_t i = 0; i < labels.size(); ++i)
        f = cat({f, be32(labels[i] << 12 | (i + 1 == labels.size() ? 0x100u : 0u) | 64)});
    return cat({f, payload});
}

// Outer IPv4 (203.0.113.1 → 203.0.113.2) carrying `payload` as `proto`, in Ethernet.
inline Frame outer4(uint8_t proto, const Frame& payload) {
    return eth(
        0x0800,
        ipv4({.src = "203.0.113.1", .dst = "203.0.113.2", .proto = proto, .ttl = 255, .df = false},
             payload));
}

}  // namespace sybilwatch::net::test
