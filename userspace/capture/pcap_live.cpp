#include "capture/pcap_live.hpp"

#include <poll.h>

#include <stdexcept>

#include "capture/pcap_file.hpp"

namespace sybilwatch::capture {

namespace {

std::string port_list(const char* proto, std::span<const uint16_t> ports) {
    std::string s;
    for (uint16_t p : ports) {
        if (!s.empty()) s += " or ";
        s += std::string(proto) + " port " + std::to_string(p);
    }
    return s;
}

struct DispatchCtx {
    EventSink* sink;
    net::LinkType link;
    uint64_t* received;
};

void on_packet(u_char* user, const pcap_pkthdr* h, const u_char* bytes) {
    auto* ctx = reinterpret_cast<DispatchCtx*>(user);
    Frame f;
    f.ts_ns = int64_t(h->ts.tv_sec) * 1'000'000'000 + h->ts.tv_usec;  // nano precision
    f.link = ctx->link;
    f.data = {bytes, h->caplen};
    f.wire_len = h->len;
    ++*ctx->received;
    ctx->sink->on_frame(f);
}

}  // namespace

std::string PcapLive::filter_for(std::span<const uint16_t> tcp_ports,
                                 std::span<const uint16_t> udp_ports) {
    std::string inner = port_list("tcp", tcp_ports);
    const std::string udp = port_list("udp", udp_ports);
    if (!udp.empty()) inner = inner.empty() ? udp : inner + " or " + udp;
    if (inner.empty()) return "";
    // The same ports inside one or two VLAN tags.
    return "(" + inner + ") or (vlan and (" + inner + ")) or (vlan and vlan and (" + inner + "))";
}

PcapLive::PcapLive(const std::string& ifname, std::span<const uint16_t> tcp_ports,
                   std::span<const uint16_t> udp_ports, int buffer_bytes)
    : ifname_(ifname) {
    char err[PCAP_ERRBUF_SIZE] = {};
    pcap_.reset(pcap_create(ifname.c_str(), err));
    if (!pcap_) throw std::runtime_error(ifname + ": " + err);
    pcap_t* p = pcap_.get();
    pcap_set_snaplen(p, 65535);
    pcap_set_promisc(p, 0);
    pcap_set_immediate_mode(p, 1);  // deliver each frame now: live findings, not batches
    pcap_set_buffer_size(p, buffer_bytes);
    pcap_set_tstamp_precision(p, PCAP_TSTAMP_PRECISION_NANO);
    const int rc = pcap_activate(p);
    if (rc < 0) throw std::runtime_error(ifname + ": " + pcap_geterr(p));
    if (!link_type_from_dlt(pcap_datalink(p), link_))
        throw std::runtime_error(ifname + ": unsupported link type " +
                                 std::to_string(pcap_datalink(p)));
    const std::string filter = filter_for(tcp_ports, udp_ports);
    if (!filter.empty()) {
        bpf_program prog;
        if (pcap_compile(p, &prog, filter.c_str(), 1, PCAP_NETMASK_UNKNOWN) != 0)
            throw std::runtime_error(ifname + ": filter '" + filter + "': " + pcap_geterr(p));
        const int set = pcap_setfilter(p, &prog);
        pcap_freecode(&prog);
        if (set != 0) throw std::runtime_error(ifname + ": " + pcap_geterr(p));
    }
    if (pcap_setnonblock(p, 1, err) != 0) throw std::runtime_error(ifname + ": " + err);
}

int PcapLive::poll(int timeout_ms, EventSink& sink) {
    pollfd pfd{pcap_get_selectable_fd(pcap_.get()), POLLIN, 0};
    if (pfd.fd >= 0 && ::poll(&pfd, 1, timeout_ms) < 0) return 0;  // EINTR: let the caller look
    DispatchCtx ctx{&sink, link_, &received_};
    const int n = pcap_dispatch(pcap_.get(), -1, on_packet, reinterpret_cast<u_char*>(&ctx));
    if (n == PCAP_ERROR) throw std::runtime_error(ifname_ + ": " + pcap_geterr(pcap_.get()));
    return n < 0 ? 0 : n;
}

std::string PcapLive::stats() {
    const PcapLiveStats s = counters();
    return "received=" + std::to_string(s.received) +
           " kernel_dropped=" + std::to_string(s.kernel_dropped) +
           " if_dropped=" + std::to_string(s.if_dropped);
}

PcapLiveStats PcapLive::counters() {
    PcapLiveStats s;
    s.received = received_;
    pcap_stat ps{};
    if (pcap_stats(pcap_.get(), &ps) == 0) {
        s.kernel_dropped = ps.ps_drop;
        s.if_dropped = ps.ps_ifdrop;
    }
    return s;
}

}  // namespace sybilwatch::capture
