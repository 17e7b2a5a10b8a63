#include "fingerprint/tcp_sig.hpp"

#include <array>

#include "fingerprint/text_writer.hpp"

namespace sybilwatch::fingerprint {

uint8_t initial_ttl(uint8_t ttl) {
    if (ttl <= 32) return 32;
    if (ttl <= 64) return 64;
    if (ttl <= 128) return 128;
    return 255;
}

namespace {

// The multiplier p0f finds between the window and the MSS or MTU, in its order of preference.
// Returns 0 when the window is no clean multiple; sets use_mtu when the divisor was an MTU.
uint32_t window_multiple(const net::Packet& p, const net::TcpOptions& o, uint16_t syn_mss,
                         bool& use_mtu) {
    const int32_t win = p.window, mss = o.mss;
    if (win == 0 || mss < 100) return 0;
    auto div = [&](int32_t d, bool mtu) {
        if (d > 0 && win % d == 0) {
            use_mtu = mtu;
            return static_cast<uint32_t>(win / d);
        }
        return 0u;
    };
    constexpr int32_t kMinTcp4 = 40, kMinTcp6 = 60;
    uint32_t m;
    if ((m = div(mss, false))) return m;
    if (o.has_ts && o.ts_val && (m = div(mss - 12, false))) return m;
    if ((m = div(1500 - kMinTcp4, false))) return m;
    if ((m = div(1500 - kMinTcp4 - 12, false))) return m;
    if (p.ip_version == 6) {
        if ((m = div(1500 - kMinTcp6, false))) return m;
        if ((m = div(1500 - kMinTcp6 - 12, false))) return m;
    }
    if ((m = div(mss + kMinTcp4, true))) return m;
    const int32_t tot_hdr = p.ip_header_len + 20 + static_cast<int32_t>(p.tcp_options.size());
    if ((m = div(mss + tot_hdr, true))) return m;
    if (p.ip_version == 6 && (m = div(mss + kMinTcp6, true))) return m;
    if ((m = div(1500, true))) return m;
    if (syn_mss) {
        if ((m = div(syn_mss, false))) return m;
        if ((m = div(syn_mss - 12, false))) return m;
    }
    return 0;
}

}  // namespace

void tcp_sig(const net::Packet& p, const net::TcpOptions& o, uint16_t syn_mss,
             FixedString<160>& out) {
    std::array<char, 160> buf;
    TextWriter w(buf);
    const uint8_t ittl = initial_ttl(p.ttl);
    w.put(p.ip_version == 6 ? '6' : '4').put(':');
    w.num(p.ttl).put('+').num(ittl - p.ttl).put(':');
    w.num(p.ip_version == 4 && p.ip_header_len > 20 ? p.ip_header_len - 20 : 0).put(':');
    w.num(o.mss > 0 ? o.mss : 0).put(':');

    bool use_mtu = false;
    if (uint32_t m = window_multiple(p, o, syn_mss, use_mtu)) {
        w.put(use_mtu ? "mtu*" : "mss*").num(m);
    } else {
        w.num(p.window);
    }
    w.put(',').num(o.wscale > 0 ? o.wscale : 0).put(':');

    // Option layout.
    bool first = true;
    auto item = [&](std::string_view s) {
        if (!first) w.put(',');
        first = false;
        w.put(s);
    };
    for (uint8_t k : o.kind_list()) {
        switch (k) {
            case 0:  // p0f shows EOL once, with the padding length after it
                item("eol+");
                w.num(o.eol_padding);
                goto layout_done;
            case 1:
                item("nop");
                break;
            case 2:
                item("mss");
                break;
            case 3:
                item("ws");
                break;
            case 4:
                item("sok");
                break;
            case 5:
                item("sack");
                break;
            case 8:
                item("ts");
                break;
            default:
                item("?");
                w.num(k);
        }
    }
layout_done:
    w.put(':');

    // Quirks, in p0f's order.
    first = true;
    const bool syn_only = p.has(net::tcp_flag::SYN) && !p.has(net::tcp_flag::ACK);
    if (p.ip_version == 4) {
        if (p.df) item("df");
        if (p.df && p.ip_id != 0) item("id+");
        if (!p.df && p.ip_id == 0) item("id-");
    }
    if ((p.tos & 0x03) || p.has(net::tcp_flag::ECE) || p.has(net::tcp_flag::CWR) ||
        (p.tcp_reserved & 0x01))
        item("ecn");
    if (p.ip_version == 4 && p.ip_reserved) item("0+");
    if (p.ip_version == 6 && p.flow_label) item("flow");
    if (p.seq == 0) item("seq-");
    if (p.has(net::tcp_flag::ACK)) {
        if (p.ack == 0) item("ack-");
    } else if (p.ack != 0 && !p.has(net::tcp_flag::RST)) {
        item("ack+");
    }
    if (p.has(net::tcp_flag::URG))
        item("urgf+");
    else if (p.urgent_ptr)
        item("uptr+");
    if (p.has(net::tcp_flag::PSH)) item("pushf+");
    if (o.has_ts && o.ts_val == 0) item("ts1-");
    if (o.has_ts && o.ts_ecr != 0 && syn_only) item("ts2+");
    if (o.data_after_eol) item("opt+");
    if (o.wscale > 14) item("exws");
    if (o.malformed) item("bad");
    w.put(':').put(p.payload_len ? '+' : '0');

    if (w.overflow())
        out.clear();
    else
        out.assign(w.view());
}

}  // namespace sybilwatch::fingerprint
