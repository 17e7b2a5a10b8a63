// One decoded packet: the innermost IP header and its TCP or UDP header, as views into the
// captured bytes. Produced by net::decode() for every capture source (pcap file, libpcap live,
// eBPF events), consumed by the fingerprint engine. Holds no memory of its own.
#pragma once

#include <array>
#include <cstdint>
#include <span>

#include "net/ip_address.hpp"

namespace sybilwatch::net {

// Link types use the pcap LINKTYPE_ numbers so a capture's header maps directly.
enum class LinkType : uint16_t {
    Null = 0,        // BSD loopback, 4-byte host-order family
    Ethernet = 1,    // Ethernet II, with 802.1Q / QinQ tags
    Raw = 101,       // raw IPv4 or IPv6, version from the first nibble
    Loop = 108,      // OpenBSD loopback, 4-byte network-order family
    LinuxSll = 113,  // Linux cooked capture v1
    Ipv4 = 228,
    Ipv6 = 229,
    LinuxSll2 = 276,  // Linux cooked capture v2
};

enum class DecodeStatus : uint8_t {
    Ok,           // IP and L4 headers decoded; payload may still be truncated by the snaplen
    NotIp,        // ARP, LLDP, ... : nothing to fingerprint
    Unsupported,  // an IP protocol or tunnel we do not follow (ICMP, ESP, ...)
    Fragment,     // a non-first IP fragment: no L4 header in it
    Truncated,    // the capture ends inside a header
    Malformed,    // a header contradicts itself (bad length, bad version)
};

const char* to_string(DecodeStatus s);

namespace tcp_flag {
inline constexpr uint8_t FIN = 0x01, SYN = 0x02, RST = 0x04, PSH = 0x08, ACK = 0x10, URG = 0x20,
                         ECE = 0x40, CWR = 0x80;
}

struct Packet {
    int64_t ts_ns = 0;      // capture timestamp, nanoseconds since the epoch
    uint32_t wire_len = 0;  // frame length on the wire (may exceed the captured bytes)

    // Innermost IP header (after any tunnels).
    uint8_t ip_version = 0;  // 4 or 6
    IpAddress src;
    IpAddress dst;
    uint8_t ttl = 0;             // IPv4 TTL or IPv6 hop limit
    uint8_t ip_proto = 0;        // final L4 protocol (after IPv6 extension headers)
    uint8_t tos = 0;             // IPv4 TOS / IPv6 traffic class (ECN in the low 2 bits)
    bool df = false;             // IPv4 don't-fragment
    bool ip_reserved = false;    // IPv4 reserved ("evil") flag bit, a p0f quirk
    bool ip_options = false;     // IPv4 options or IPv6 extension headers present
    uint16_t ip_id = 0;          // IPv4 identification
    uint32_t flow_label = 0;     // IPv6 flow label
    uint16_t ip_header_len = 0;  // IPv4 IHL*4; IPv6 40 + extension headers
    uint8_t vlan_depth = 0;      // 802.1Q/QinQ tags seen on the way in (all layers)
    uint8_t tunnel_depth = 0;    // GRE/ERSPAN, VXLAN, Geneve, GTP-U, IP-in-IP layers removed

    // Transport.
    uint16_t src_port = 0;
    uint16_t dst_port = 0;
    // TCP only.
    uint32_t seq = 0;
    uint32_t ack = 0;
    uint8_t tcp_flags = 0;     // tcp_flag:: bits
    uint8_t tcp_reserved = 0;  // the 4 reserved bits (NS included), for p0f quirks
    uint16_t window = 0;
    uint16_t urgent_ptr = 0;
    std::span<const uint8_t> tcp_options;  // the raw option bytes, bounds-checked

    // L4 payload: the captured part, trimmed to the length the IP header declares (so Ethernet
    // padding never counts). payload_len is the declared length; payload.size() < payload_len
    // means the capture's snaplen cut it (or, in a first IP fragment, that the rest follows in
    // later fragments).
    std::span<const uint8_t> payload;
    uint32_t payload_len = 0;

    bool is_tcp() const { return ip_proto == 6; }
    bool is_udp() const { return ip_proto == 17; }
    bool has(uint8_t flag) const { return (tcp_flags & flag) != 0; }
};

// Decodes one frame of the given link type. Never reads outside `frame`; never allocates.
// Resets every field of `out` except ts_ns and wire_len (the capture source's to fill).
// On anything but Ok, `out` holds whatever was decoded before the failure. A datagram to a
// UDP tunnel port (VXLAN 4789/8472, VXLAN-GPE 4790, Geneve 6081, GTP-U 2152) whose payload is
// no valid encapsulated IP packet is reported as that UDP datagram.
DecodeStatus decode(LinkType link, std::span<const uint8_t> frame, Packet& out);

// Decodes from an IP header (version from the first nibble); used by eBPF events, which carry
// the packet from its IP header on.
DecodeStatus decode_ip(std::span<const uint8_t> bytes, Packet& out);

}  // namespace sybilwatch::net
