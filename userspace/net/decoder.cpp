// net::decode(): link layer → (tunnels) → innermost IP → TCP/UDP, as views into the frame.
//
// Every layer works on a Region: the captured bytes plus the length the enclosing headers
// declare for them. The captured part is never longer than the declared one (trailing bytes,
// e.g. Ethernet padding, are cut off as soon as a header says how long its packet is), so a
// header that does not fit is Truncated when the snaplen cut it and Malformed when the
// enclosing header says there is no room for it. Straight-line code, no allocation, no
// exceptions, no virtual calls: this runs for every captured frame.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <span>

#include "net/big_endian.hpp"
#include "net/packet.hpp"

namespace sybilwatch::net {

const char* to_string(DecodeStatus s) {
    switch (s) {
        case DecodeStatus::Ok:
            return "ok";
        case DecodeStatus::NotIp:
            return "not_ip";
        case DecodeStatus::Unsupported:
            return "unsupported";
        case DecodeStatus::Fragment:
            return "fragment";
        case DecodeStatus::Truncated:
            return "truncated";
        case DecodeStatus::Malformed:
            return "malformed";
    }
    return "unknown";
}

namespace {

using Bytes = std::span<const uint8_t>;
using S = DecodeStatus;

// Bounds on attacker-controlled repetition: deeper nesting than this is not traffic we serve.
constexpr int kMaxVlanTags = 8;
constexpr int kMaxMplsLabels = 8;
constexpr int kMaxIpv6ExtHeaders = 8;
constexpr int kMaxGtpExtHeaders = 8;
constexpr uint8_t kMaxTunnelDepth = 4;

// A link-layer frame has no length of its own: whatever was not captured may still exist.
// Lengths are 32-bit so a Region fits in two registers when passed by value.
constexpr uint32_t kUnknownLen = std::numeric_limits<uint32_t>::max();

namespace ethertype {
constexpr uint16_t Ipv4 = 0x0800, Ipv6 = 0x86DD, Vlan = 0x8100, QinQ = 0x88A8, QinQLegacy = 0x9100,
                   MplsUnicast = 0x8847, MplsMulticast = 0x8848, TransparentEthernet = 0x6558,
                   ErspanII = 0x88BE, ErspanIII = 0x22EB;
}  // namespace ethertype

namespace ipproto {
constexpr uint8_t HopByHop = 0, IpIp = 4, Tcp = 6, Udp = 17, Ipv6 = 41, Routing = 43, Fragment = 44,
                  Gre = 47, Ah = 51, NoNext = 59, DestOpts = 60, Mobility = 135;
}

namespace udp_port {
constexpr uint16_t Vxlan = 4789, VxlanLinux = 8472, VxlanGpe = 4790, Geneve = 6081, GtpU = 2152;
}

struct Region {
    const uint8_t* ptr;  // captured bytes
    uint32_t size;       // captured length, <= len
    uint32_t len;        // length declared by the enclosing header (kUnknownLen at link level)

    bool has(size_t n) const { return size >= n; }
    // Status for a header of n bytes that is not all there.
    S missing(size_t n) const { return n > len ? S::Malformed : S::Truncated; }
    const uint8_t* at(size_t off) const { return ptr + off; }
    uint8_t operator[](size_t i) const { return ptr[i]; }
    Bytes bytes() const { return {ptr, size}; }
    // Requires has(n).
    Region after(size_t n) const {
        const auto k = static_cast<uint32_t>(n);
        return {ptr + k, size - k, len == kUnknownLen ? kUnknownLen : len - k};
    }
    // Trims to a declared length n <= len.
    Region first(size_t n) const {
        const auto k = static_cast<uint32_t>(n);
        return {ptr, std::min(size, k), k};
    }
};

// Starts a new innermost IP layer: everything but capture metadata and the counters of the
// layers already removed describes the packet being decoded now. Copying a blank Packet is a
// few vector moves; value-initialising one compiles to a slow `rep stos`.
const Packet kBlankPacket{};

void reset_for_ip_layer(Packet& out) {
    const int64_t ts_ns = out.ts_ns;
    const uint32_t wire_len = out.wire_len;
    const uint8_t vlan_depth = out.vlan_depth;
    const uint8_t tunnel_depth = out.tunnel_depth;
    out = kBlankPacket;
    out.ts_ns = ts_ns;
    out.wire_len = wire_len;
    out.vlan_depth = vlan_depth;
    out.tunnel_depth = tunnel_depth;
}

S decode_ipv4(Region r, Packet& out);
S decode_ipv6(Region r, Packet& out);
S decode_ethernet(Region r, Packet& out);

S decode_ip_by_version(Region r, Packet& out) {
    if (!r.has(1)) return r.missing(1);
    switch (r[0] >> 4) {
        case 4:
            return decode_ipv4(r, out);
        case 6:
            return decode_ipv6(r, out);
        default:
            return S::Malformed;
    }
}

// MPLS label stack: the payload type is not signalled, so the first nibble after the
// bottom-of-stack label decides (anything else is a pseudowire we do not follow).
S decode_mpls(Region r, Packet& out) {
    for (int labels = 0;; ++labels) {
        if (labels == kMaxMplsLabels) return S::Unsupported;
        if (!r.has(4)) return r.missing(4);
        const bool bottom = (r[2] & 0x01) != 0;
        r = r.after(4);
        if (bottom) break;
    }
    if (!r.has(1)) return r.missing(1);
    const unsigned version = r[0] >> 4;
    if (version != 4 && version != 6) return S::Unsupported;
    return decode_ip_by_version(r, out);
}

// Everything after an Ethernet/SLL type field, including 802.1Q/QinQ tags (Linux cooked
// captures keep a tag when the NIC did not strip it).
S decode_ethertype(uint16_t type, Region r, Packet& out) {
    for (int tags = 0;
         type == ethertype::Vlan || type == ethertype::QinQ || type == ethertype::QinQLegacy;
         ++tags) {
        if (tags == kMaxVlanTags) return S::Unsupported;
        if (!r.has(4)) return r.missing(4);
        ++out.vlan_depth;
        type = load_be16(r.at(2));
        r = r.after(4);
    }
    switch (type) {
        case ethertype::Ipv4:
            return decode_ipv4(r, out);
        case ethertype::Ipv6:
            return decode_ipv6(r, out);
        case ethertype::MplsUnicast:
        case ethertype::MplsMulticast:
            return decode_mpls(r, out);
        // ARP, LLDP, ...; below 0x0600 the field is an 802.3 length and LLC follows.
        default:
            return S::NotIp;
    }
}

S decode_ethernet(Region r, Packet& out) {
    if (!r.has(14)) return r.missing(14);
    return decode_ethertype(load_be16(r.at(12)), r.after(14), out);
}

// ---------------------------------------------------------------------------------------------
// Transport and tunnels.

S decode_tcp(Region r, bool more_fragments, Packet& out) {
    // A first fragment may end inside the TCP header: nothing to decode without reassembly.
    if (r.len < 20) return more_fragments ? S::Fragment : S::Malformed;
    if (!r.has(20)) return S::Truncated;
    const uint8_t* p = r.at(0);
    out.src_port = load_be16(p);
    out.dst_port = load_be16(p + 2);
    out.seq = load_be32(p + 4);
    out.ack = load_be32(p + 8);
    out.tcp_reserved = p[12] & 0x0f;
    out.tcp_flags = p[13];
    out.window = load_be16(p + 14);
    out.urgent_ptr = load_be16(p + 18);
    const size_t header_len = static_cast<size_t>(p[12] >> 4) * 4;
    if (header_len < 20) return S::Malformed;
    if (header_len > r.len) return more_fragments ? S::Fragment : S::Malformed;
    if (!r.has(header_len)) return S::Truncated;
    out.tcp_options = r.bytes().subspan(20, header_len - 20);
    out.payload = r.bytes().subspan(header_len);
    out.payload_len = static_cast<uint32_t>(r.len - header_len);
    return S::Ok;
}

// VXLAN (RFC 7348): 8 bytes, I flag set, then an Ethernet frame.
S decode_vxlan(Region r, Packet& out) {
    if (!r.has(8)) return r.missing(8);
    if ((r[0] & 0x08) == 0) return S::Malformed;
    return decode_ethernet(r.after(8), out);
}

// VXLAN-GPE (draft-ietf-nvo3-vxlan-gpe): like VXLAN, but with the P flag the last byte of the
// first word names the payload (1 IPv4, 2 IPv6, 3 Ethernet).
S decode_vxlan_gpe(Region r, Packet& out) {
    if (!r.has(8)) return r.missing(8);
    const uint8_t flags = r[0];
    if ((flags & 0x08) == 0) return S::Malformed;
    const Region inner = r.after(8);
    if ((flags & 0x04) == 0) return decode_ethernet(inner, out);
    switch (r[3]) {
        case 1:
            return decode_ipv4(inner, out);
        case 2:
            return decode_ipv6(inner, out);
        case 3:
            return decode_ethernet(inner, out);
        default:
            return S::Malformed;  // NSH, MPLS, ...: the caller reports the datagram
    }
}

// Geneve (RFC 8926): 8 bytes + options, version 0, payload named by an Ethernet type.
S decode_geneve(Region r, Packet& out) {
    if (!r.has(8)) return r.missing(8);
    if ((r[0] >> 6) != 0) return S::Malformed;
    const size_t header_len = 8 + size_t{r[0] & 0x3fu} * 4;
    const uint16_t protocol = load_be16(r.at(2));
    if (!r.has(header_len)) return r.missing(header_len);
    const Region inner = r.after(header_len);
    switch (protocol) {
        case ethertype::TransparentEthernet:
            return decode_ethernet(inner, out);
        case ethertype::Ipv4:
            return decode_ipv4(inner, out);
        case ethertype::Ipv6:
            return decode_ipv6(inner, out);
        default:
            return S::Malformed;  // the caller reports the datagram
    }
}

// GTP-U v1 (3GPP TS 29.281): G-PDUs carry the user's IP packet. Signalling messages (echo,
// error indication, ...) carry none and are reported as plain UDP by the caller.
S decode_gtpu(Region r, Packet& out) {
    if (!r.has(8)) return r.missing(8);
    const uint8_t flags = r[0];
    if ((flags >> 5) != 1 || (flags & 0x10) == 0) return S::Malformed;  // version 1, PT=GTP
    if (r[1] != 0xff) return S::Malformed;                              // not a G-PDU
    // The length field counts everything after the mandatory 8 bytes.
    const size_t msg_len = 8 + size_t{load_be16(r.at(2))};
    if (msg_len > r.len) return S::Malformed;
    r = r.first(msg_len);
    size_t header_len = 8;
    if ((flags & 0x07) != 0) {  // E, S or PN: sequence, N-PDU and next-extension fields
        header_len = 12;
        if (!r.has(header_len)) return r.missing(header_len);
        // The next-extension type only counts with the E flag.
        uint8_t next = (flags & 0x04) ? r[11] : 0;
        for (int n = 0; next != 0; ++n) {
            if (n == kMaxGtpExtHeaders) return S::Malformed;
            if (!r.has(header_len + 1)) return r.missing(header_len + 1);
            // Length in 4-byte units, covering the length byte and the next-type byte.
            const size_t ext_len = size_t{r[header_len]} * 4;
            if (ext_len == 0) return S::Malformed;
            if (!r.has(header_len + ext_len)) return r.missing(header_len + ext_len);
            next = r[header_len + ext_len - 1];
            header_len += ext_len;
        }
    }
    return decode_ip_by_version(r.after(header_len), out);
}

enum class UdpTunnel : uint8_t { None, Vxlan, VxlanGpe, Geneve, GtpU };

UdpTunnel udp_tunnel_for(uint16_t dst_port) {
    switch (dst_port) {
        // Linux's own VXLAN default (flannel and friends) shares the IANA port's format.
        case udp_port::Vxlan:
        case udp_port::VxlanLinux:
            return UdpTunnel::Vxlan;
        case udp_port::VxlanGpe:
            return UdpTunnel::VxlanGpe;
        case udp_port::Geneve:
            return UdpTunnel::Geneve;
        case udp_port::GtpU:
            return UdpTunnel::GtpU;
        default:
            return UdpTunnel::None;
    }
}

S decode_udp(Region r, bool more_fragments, Packet& out) {
    if (r.len < 8) return more_fragments ? S::Fragment : S::Malformed;
    if (!r.has(8)) return S::Truncated;
    out.src_port = load_be16(r.at(0));
    out.dst_port = load_be16(r.at(2));
    size_t udp_len = load_be16(r.at(4));
    if (udp_len == 0) udp_len = r.len;  // IPv6 jumbogram / GSO super-packet convention
    if (udp_len < 8) return S::Malformed;
    // In a first fragment the datagram goes on in later fragments: payload_len still says how
    // long it is, payload holds what this one carries.
    if (udp_len > r.len && !more_fragments) return S::Malformed;
    const Region payload = r.first(std::min<size_t>(udp_len, r.len)).after(8);
    out.payload = payload.bytes();
    out.payload_len = static_cast<uint32_t>(udp_len - 8);
    if (more_fragments) return S::Ok;

    const UdpTunnel tunnel = udp_tunnel_for(out.dst_port);
    if (tunnel == UdpTunnel::None || out.tunnel_depth >= kMaxTunnelDepth) return S::Ok;
    // A service may really listen on a tunnel port: when the payload is no valid encapsulated
    // packet, the datagram itself is what was sent. A tunnel header is too weak a signature
    // (half of all random bytes have VXLAN's I flag) to let a non-IP inner frame win either:
    // then too the datagram is reported, which for a real tunnel costs nothing.
    const Packet outer = out;
    ++out.tunnel_depth;
    S s = S::Ok;
    switch (tunnel) {
        case UdpTunnel::Vxlan:
            s = decode_vxlan(payload, out);
            break;
        case UdpTunnel::VxlanGpe:
            s = decode_vxlan_gpe(payload, out);
            break;
        case UdpTunnel::Geneve:
            s = decode_geneve(payload, out);
            break;
        case UdpTunnel::GtpU:
            s = decode_gtpu(payload, out);
            break;
        case UdpTunnel::None:
            break;
    }
    if (s == S::Malformed || s == S::NotIp) {
        out = outer;
        return S::Ok;
    }
    return s;
}

// ERSPAN type II/III headers (draft-foschiano-erspan). The T bit says the mirrored frame was
// cut to fit: its IP lengths then exceed what the tunnel carries, like a snaplen cut.
Region erspan_payload(Region r, size_t header_len) {
    const bool truncated = (r[2] & 0x04) != 0;
    Region inner = r.after(header_len);
    if (truncated) inner.len = kUnknownLen;
    return inner;
}

S decode_erspan2(Region r, Packet& out) {
    if (!r.has(8)) return r.missing(8);
    if ((r[0] >> 4) != 1) return S::Malformed;
    return decode_ethernet(erspan_payload(r, 8), out);
}

S decode_erspan3(Region r, Packet& out) {
    if (!r.has(12)) return r.missing(12);
    if ((r[0] >> 4) != 2) return S::Malformed;
    const unsigned frame_type = (r[10] >> 2) & 0x1f;
    const bool platform_subheader = (r[11] & 0x01) != 0;  // O flag: 8 more bytes
    const size_t header_len = platform_subheader ? 20 : 12;
    if (!r.has(header_len)) return r.missing(header_len);
    switch (frame_type) {
        case 0:
            return decode_ethernet(erspan_payload(r, header_len), out);
        case 2:
            return decode_ip_by_version(erspan_payload(r, header_len), out);
        default:
            return S::Unsupported;
    }
}

// GRE (RFC 2784/2890): version 0 only (version 1 is PPTP's PPP carrier).
S decode_gre(Region r, Packet& out) {
    if (!r.has(4)) return r.missing(4);
    const uint16_t flags = load_be16(r.at(0));
    const uint16_t protocol = load_be16(r.at(2));
    constexpr uint16_t kChecksum = 0x8000, kRouting = 0x4000, kKey = 0x2000, kSeq = 0x1000;
    if ((flags & 0x0007) != 0 || (flags & kRouting) != 0) return S::Unsupported;
    const size_t header_len =
        4 + ((flags & kChecksum) ? 4 : 0) + ((flags & kKey) ? 4 : 0) + ((flags & kSeq) ? 4 : 0);
    if (!r.has(header_len)) return r.missing(header_len);
    if (out.tunnel_depth >= kMaxTunnelDepth) return S::Unsupported;
    ++out.tunnel_depth;
    const Region inner = r.after(header_len);
    switch (protocol) {
        case ethertype::Ipv4:
            return decode_ipv4(inner, out);
        case ethertype::Ipv6:
            return decode_ipv6(inner, out);
        case ethertype::MplsUnicast:
        case ethertype::MplsMulticast:
            return decode_mpls(inner, out);
        case ethertype::TransparentEthernet:
            return decode_ethernet(inner, out);
        // ERSPAN type I has no sequence number and no ERSPAN header of its own.
        case ethertype::ErspanII:
            return (flags & kSeq) ? decode_erspan2(inner, out) : decode_ethernet(inner, out);
        case ethertype::ErspanIII:
            return decode_erspan3(inner, out);
        default:
            return S::Unsupported;
    }
}

S decode_ip_in_ip(Region r, uint8_t version, Packet& out) {
    if (out.tunnel_depth >= kMaxTunnelDepth) return S::Unsupported;
    ++out.tunnel_depth;
    return version == 4 ? decode_ipv4(r, out) : decode_ipv6(r, out);
}

S decode_l4(uint8_t proto, Region r, bool more_fragments, Packet& out) {
    switch (proto) {
        case ipproto::Tcp:
            return decode_tcp(r, more_fragments, out);
        case ipproto::Udp:
            return decode_udp(r, more_fragments, out);
        default:
            break;
    }
    const bool tunnel = proto == ipproto::Gre || proto == ipproto::IpIp || proto == ipproto::Ipv6;
    if (!tunnel) return S::Unsupported;
    // The inner packet continues in later fragments; its lengths cannot be checked here.
    if (more_fragments) return S::Fragment;
    switch (proto) {
        case ipproto::Gre:
            return decode_gre(r, out);
        case ipproto::IpIp:
            return decode_ip_in_ip(r, 4, out);
        default:
            return decode_ip_in_ip(r, 6, out);
    }
}

// ---------------------------------------------------------------------------------------------
// IP.

// Total length 0 is what TSO/GSO super-packets show on the sending host: the real length is
// whatever the layer below carries.
size_t length_when_zero(const Region& r) {
    return r.len == kUnknownLen ? r.size : r.len;
}

// In place rather than through IpAddress::v4/v6, and the 16 address bytes in one store: the
// flow lookup reads them right back, as a whole or as two words, and a load the CPU cannot
// forward from a single earlier store stalls (a 17-byte temporary copied in, or 4 bytes and a
// 12-byte fill, cost ~10 ns per packet).
void set_address(IpAddress& a, uint8_t family, const uint8_t* p) {
    std::array<uint8_t, 16> b{};
    std::memcpy(b.data(), p, family == 4 ? 4 : 16);
    a.family = family;
    a.bytes = b;
}

S decode_ipv4(Region r, Packet& out) {
    if (!r.has(20)) return r.missing(20);
    const uint8_t* p = r.at(0);
    if ((p[0] >> 4) != 4) return S::Malformed;
    if (out.ip_version != 0) reset_for_ip_layer(out);  // a tunnel's inner packet
    const size_t header_len = size_t{p[0] & 0x0fu} * 4;
    const uint16_t frag = load_be16(p + 6);
    out.ip_version = 4;
    out.tos = p[1];
    out.ip_id = load_be16(p + 4);
    out.df = (frag & 0x4000) != 0;
    out.ttl = p[8];
    out.ip_proto = p[9];
    set_address(out.src, 4, p + 12);
    set_address(out.dst, 4, p + 16);
    out.ip_header_len = static_cast<uint16_t>(header_len);
    out.ip_options = header_len > 20;
    if (header_len < 20) return S::Malformed;
    size_t total_len = load_be16(p + 2);
    if (total_len == 0) total_len = length_when_zero(r);
    if (total_len < header_len || total_len > r.len) return S::Malformed;
    const Region packet = r.first(total_len);
    if (!packet.has(header_len)) return S::Truncated;
    if ((frag & 0x1fff) != 0) return S::Fragment;
    return decode_l4(out.ip_proto, packet.after(header_len), (frag & 0x2000) != 0, out);
}

S decode_ipv6(Region r, Packet& out) {
    if (!r.has(40)) return r.missing(40);
    const uint8_t* p = r.at(0);
    if ((p[0] >> 4) != 6) return S::Malformed;
    if (out.ip_version != 0) reset_for_ip_layer(out);  // a tunnel's inner packet
    const uint32_t word0 = load_be32(p);
    out.ip_version = 6;
    out.tos = static_cast<uint8_t>(word0 >> 20);
    out.flow_label = word0 & 0xfffff;
    out.ttl = p[7];
    set_address(out.src, 6, p + 8);
    set_address(out.dst, 6, p + 24);
    out.ip_header_len = 40;
    uint8_t next = p[6];
    out.ip_proto = next;
    size_t total_len = 40 + size_t{load_be16(p + 4)};
    if (total_len == 40) total_len = length_when_zero(r);  // jumbogram or GSO
    if (total_len > r.len) return S::Malformed;

    Region rest = r.first(total_len).after(40);
    size_t ext_len = 0;
    bool more_fragments = false;
    for (int n = 0;; ++n) {
        size_t len = 0;
        switch (next) {
            case ipproto::HopByHop:
            case ipproto::Routing:
            case ipproto::DestOpts:
            case ipproto::Mobility:
                if (!rest.has(2)) return rest.missing(2);
                len = (size_t{rest[1]} + 1) * 8;
                break;
            case ipproto::Ah:  // RFC 4302: in 4-byte units, minus 2
                if (!rest.has(2)) return rest.missing(2);
                len = (size_t{rest[1]} + 2) * 4;
                break;
            case ipproto::Fragment:
                len = 8;
                break;
            case ipproto::NoNext:
                return S::Unsupported;
            default:
                return decode_l4(next, rest, more_fragments, out);
        }
        if (n == kMaxIpv6ExtHeaders) return S::Unsupported;
        if (!rest.has(len)) return rest.missing(len);
        const uint8_t* h = rest.at(0);
        const bool fragment_header = next == ipproto::Fragment;
        next = h[0];
        ext_len += len;
        out.ip_options = true;
        out.ip_proto = next;
        out.ip_header_len = static_cast<uint16_t>(40 + ext_len);
        rest = rest.after(len);
        if (fragment_header) {
            if ((load_be16(h + 2) >> 3) != 0) return S::Fragment;
            more_fragments = (h[3] & 0x01) != 0;
        }
    }
}

Region link_region(Bytes frame) {
    // Nothing captured is 4 GiB long; clamping keeps the 32-bit lengths exact.
    const auto size = static_cast<uint32_t>(std::min<size_t>(frame.size(), kUnknownLen - 1));
    return {frame.data(), size, kUnknownLen};
}

}  // namespace

DecodeStatus decode(LinkType link, std::span<const uint8_t> frame, Packet& out) {
    out.vlan_depth = 0;
    out.tunnel_depth = 0;
    reset_for_ip_layer(out);  // also makes ip_version 0: the first IP layer needs no reset
    const Region r = link_region(frame);
    switch (link) {
        case LinkType::Ethernet:
            return decode_ethernet(r, out);
        case LinkType::Raw:
            return decode_ip_by_version(r, out);
        case LinkType::Ipv4:
            return decode_ipv4(r, out);
        case LinkType::Ipv6:
            return decode_ipv6(r, out);
        case LinkType::LinuxSll:
            if (!r.has(16)) return S::Truncated;
            return decode_ethertype(load_be16(r.at(14)), r.after(16), out);
        case LinkType::LinuxSll2:
            if (!r.has(20)) return S::Truncated;
            return decode_ethertype(load_be16(r.at(0)), r.after(20), out);
        case LinkType::Null:
        case LinkType::Loop: {
            if (!r.has(4)) return S::Truncated;
            uint32_t family = load_be32(r.at(0));
            // Null is in the writer's byte order: a family is small, so the wrong order
            // shows up as high bits.
            if (link == LinkType::Null && (family & 0xffff0000u) != 0) family = load_le32(r.at(0));
            switch (family) {
                case 2:
                    return decode_ipv4(r.after(4), out);  // AF_INET everywhere
                case 24:                                  // AF_INET6: NetBSD/OpenBSD
                case 28:                                  // FreeBSD
                case 30:
                    return decode_ipv6(r.after(4), out);  // macOS
                default:
                    return S::NotIp;
            }
        }
    }
    return S::Unsupported;
}

DecodeStatus decode_ip(std::span<const uint8_t> bytes, Packet& out) {
    out.vlan_depth = 0;
    out.tunnel_depth = 0;
    reset_for_ip_layer(out);
    return decode_ip_by_version(link_region(bytes), out);
}

}  // namespace sybilwatch::net
