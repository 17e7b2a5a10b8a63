// A connection's identity, the same whichever direction a packet travels.
#pragma once

#include <cstdint>
#include <functional>

#include "net/ip_address.hpp"
#include "net/packet.hpp"

namespace sybilwatch::net {

struct FlowKey {
    IpAddress a, b;  // a <= b by (address, port): canonical order
    uint16_t a_port = 0, b_port = 0;
    uint8_t proto = 0;

    static FlowKey of(const Packet& p) {
        FlowKey k;
        k.proto = p.ip_proto;
        const bool src_first = p.src < p.dst || (p.src == p.dst && p.src_port <= p.dst_port);
        const IpAddress& a = src_first ? p.src : p.dst;
        const IpAddress& b = src_first ? p.dst : p.src;
        // Family and bytes apart: the bytes in one 16-byte store each, which the lookup's loads
        // right after can be forwarded from (net/decoder.cpp, set_address).
        k.a.family = a.family;
        k.a.bytes = a.bytes;
        k.b.family = b.family;
        k.b.bytes = b.bytes;
        k.a_port = src_first ? p.src_port : p.dst_port;
        k.b_port = src_first ? p.dst_port : p.src_port;
        return k;
    }
    bool operator==(const FlowKey&) const = default;
};

}  // namespace sybilwatch::net

template <>
struct std::hash<sybilwatch::net::FlowKey> {
    size_t operator()(const sybilwatch::net::FlowKey& k) const noexcept {
        std::hash<sybilwatch::net::IpAddress> h;
        uint64_t x = h(k.a) * 0x9E3779B97F4A7C15ull ^ h(k.b);
        x ^= (uint64_t(k.a_port) << 24) ^ (uint64_t(k.b_port) << 8) ^ k.proto;
        x *= 0xBF58476D1CE4E5B9ull;
        return static_cast<size_t>(x ^ (x >> 31));
    }
};
