#include "capture/ebpf_capture.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <net/if.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdarg>
#include <cstring>
#include <ctime>
#include <fstream>
#include <limits>

#include "capture/ebpf_events.hpp"

#if defined(__clang__)
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wmissing-field-initializers"
#else
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#endif
#include "sybilwatch.skel.h"
#if defined(__clang__)
#pragma clang diagnostic pop
#else
#pragma GCC diagnostic pop
#endif

namespace sybilwatch::capture {

namespace {

// Our filters' fixed identity on the clsact hooks: a restart replaces them in place.
constexpr uint32_t kTcHandle = 0x5357;  // "SW"
// Priority 1 runs first, so no other filter's verdict hides packets from us; we return
// TC_ACT_UNSPEC, which lets the filters after us run as if we were not there.
constexpr uint32_t kTcPriority = 1;

constexpr const char* kBtfPath = "/sys/kernel/btf/vmlinux";

// libbpf reports through a global print callback; during load we collect its output (the
// verifier log on rejection) to quote its end in the exception.
thread_local std::string* g_libbpf_log = nullptr;

int libbpf_print(enum libbpf_print_level level, const char* fmt, va_list args) {
    if (g_libbpf_log) {
        char buf[1024];
        const int n = vsnprintf(buf, sizeof(buf), fmt, args);
        if (n > 0)
            g_libbpf_log->append(buf, std::min<size_t>(static_cast<size_t>(n), sizeof(buf) - 1));
        return n;
    }
    if (level == LIBBPF_DEBUG) return 0;
    return vfprintf(stderr, fmt, args);
}

class LogCapture {
  public:
    LogCapture() : old_(libbpf_set_print(libbpf_print)) { g_libbpf_log = &log_; }
    ~LogCapture() {
        g_libbpf_log = nullptr;
        libbpf_set_print(old_);
    }
    LogCapture(const LogCapture&) = delete;
    LogCapture& operator=(const LogCapture&) = delete;
    // The last `max` bytes: a verifier log ends with the reason.
    std::string tail(size_t max = 3000) const {
        return log_.size() <= max ? log_ : "...\n" + log_.substr(log_.size() - max);
    }

  private:
    libbpf_print_fn_t old_;
    std::string log_;
};

std::string errno_text(int err) {
    return std::strerror(err < 0 ? -err : err);
}

[[noreturn]] void fail_privilege(const std::string& what, int err) {
    throw EbpfError(what + ": " + errno_text(err) +
                    " (needs root, or CAP_BPF + CAP_NET_ADMIN + CAP_PERFMON; also check "
                    "kernel.unprivileged_bpf_disabled and any LSM policy)");
}

int64_t monotonic_to_wall_offset() {
    // The pair of readings closest together gives the tightest offset.
    int64_t best = 0, best_span = std::numeric_limits<int64_t>::max();
    for (int i = 0; i < 5; ++i) {
        timespec a{}, r{}, b{};
        clock_gettime(CLOCK_MONOTONIC, &a);
        clock_gettime(CLOCK_REALTIME, &r);
        clock_gettime(CLOCK_MONOTONIC, &b);
        const int64_t ma = a.tv_sec * 1'000'000'000LL + a.tv_nsec;
        const int64_t mb = b.tv_sec * 1'000'000'000LL + b.tv_nsec;
        const int64_t wall = r.tv_sec * 1'000'000'000LL + r.tv_nsec;
        if (mb - ma < best_span) {
            best_span = mb - ma;
            best = wall - (ma + (mb - ma) / 2);
        }
    }
    return best;
}

int64_t monotonic_now() {
    timespec t{};
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1'000'000'000LL + t.tv_nsec;
}

// Whether frames on this interface start with an Ethernet header (ARPHRD_ type from sysfs).
bool has_ethernet_header(const std::string& ifname) {
    if (if_nametoindex(ifname.c_str()) == 0)
        throw EbpfError("interface " + ifname + ": " + errno_text(errno));
    std::ifstream in("/sys/class/net/" + ifname + "/type");
    int type = -1;
    if (!(in >> type)) throw EbpfError("interface " + ifname + ": cannot read its link type");
    switch (type) {
        case 1:    // ARPHRD_ETHER (veth, bridges, bonds, VLAN devices too)
        case 772:  // ARPHRD_LOOPBACK
            return true;
        case 65534:  // ARPHRD_NONE: tun, wireguard
        case 519:    // ARPHRD_RAWIP
        case 768:    // ARPHRD_TUNNEL (ipip)
        case 769:    // ARPHRD_TUNNEL6
        case 776:    // ARPHRD_SIT
        case 778:    // ARPHRD_IPGRE
        case 823:    // ARPHRD_IP6GRE
            return false;
        default:
            throw EbpfError("interface " + ifname + ": link type " + std::to_string(type) +
                            " is not supported (Ethernet or IP-only devices are)");
    }
}

void check_ports(std::span<const uint16_t> ports) {
    for (uint16_t p : ports)
        if (p == 0) throw EbpfError("service port 0 is not a port");
}

}  // namespace

void EbpfCapture::SkelDeleter::operator()(sybilwatch_bpf* s) const {
    sybilwatch_bpf__destroy(s);
}
void EbpfCapture::RingDeleter::operator()(ring_buffer* r) const {
    ring_buffer__free(r);
}

EbpfCapture::EbpfCapture(const EbpfConfig& cfg) : cfg_(cfg) {
    const long page = sysconf(_SC_PAGESIZE);
    if (cfg_.ring_bytes < static_cast<uint32_t>(page) ||
        (cfg_.ring_bytes & (cfg_.ring_bytes - 1)) != 0)
        throw EbpfError("ring buffer size " + std::to_string(cfg_.ring_bytes) +
                        " must be a power of two of at least one page");
    if (cfg_.max_flows == 0) throw EbpfError("max_flows must be positive");
    check_ports(cfg_.tcp_ports);
    check_ports(cfg_.udp_ports);
    if (access(kBtfPath, R_OK) != 0)
        throw EbpfError(std::string("kernel BTF not found at ") + kBtfPath +
                        ": sybilwatch's eBPF programs need a kernel built with "
                        "CONFIG_DEBUG_INFO_BTF=y (or use the libpcap capture)");
    const bool ethernet = cfg_.interface.empty() || has_ethernet_header(cfg_.interface);

    LogCapture log;
    skel_.reset(sybilwatch_bpf__open());
    if (!skel_)
        throw EbpfError("opening the BPF object failed: " + errno_text(errno) + "\n" + log.tail());
    skel_->rodata->sw_l3_device = !ethernet;
    int err = bpf_map__set_max_entries(skel_->maps.sw_flows, cfg_.max_flows);
    if (!err) err = bpf_map__set_max_entries(skel_->maps.sw_events, cfg_.ring_bytes);
    if (err) throw EbpfError("sizing the BPF maps failed: " + errno_text(err));

    err = sybilwatch_bpf__load(skel_.get());
    if (err) {
        if (err == -EPERM || err == -EACCES) {
            // EACCES also comes from the verifier; its log says so.
            if (log.tail().find("processed") == std::string::npos &&
                log.tail().find("R0") == std::string::npos)
                fail_privilege("loading the BPF programs", err);
        }
        throw EbpfError("loading the BPF programs failed: " + errno_text(err) +
                        "\n--- libbpf / verifier log (end) ---\n" + log.tail());
    }
    mono_to_wall_ns_ = monotonic_to_wall_offset();
    last_sweep_ns_ = monotonic_now();

    ring_.reset(ring_buffer__new(bpf_map__fd(skel_->maps.sw_events), &EbpfCapture::on_ring_event,
                                 this, nullptr));
    if (!ring_) throw EbpfError("ring buffer setup failed: " + errno_text(errno));

    set_ports(cfg_.tcp_ports, cfg_.udp_ports);
    if (!cfg_.interface.empty()) attach(cfg_.interface);
}

EbpfCapture::~EbpfCapture() {
    try {
        detach();
    } catch (...) {
        // A destructor must not throw; the filters go away with the interface or the next run
        // replaces them.
    }
}

void EbpfCapture::attach(const std::string& ifname) {
    if (attached_) throw EbpfError("already attached to ifindex " + std::to_string(ifindex_));
    const unsigned idx = if_nametoindex(ifname.c_str());
    if (idx == 0) throw EbpfError("interface " + ifname + ": " + errno_text(errno));
    if (has_ethernet_header(ifname) == skel_->rodata->sw_l3_device)
        throw EbpfError("interface " + ifname +
                        ": its link type differs from the one the programs were loaded for; "
                        "name it in EbpfConfig::interface");

    LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = static_cast<int>(idx),
                .attach_point = static_cast<bpf_tc_attach_point>(BPF_TC_INGRESS | BPF_TC_EGRESS));
    int err = bpf_tc_hook_create(&hook);
    if (err && err != -EEXIST) {
        if (err == -EPERM) fail_privilege("creating the clsact qdisc on " + ifname, err);
        throw EbpfError("creating the clsact qdisc on " + ifname + ": " + errno_text(err));
    }
    ifindex_ = static_cast<int>(idx);
    created_qdisc_ = err == 0;
    attached_ = true;  // from here on detach() cleans up whatever was done

    const struct {
        bpf_tc_attach_point point;
        int fd;
        const char* name;
    } hooks[] = {{BPF_TC_INGRESS, ingress_fd(), "ingress"}, {BPF_TC_EGRESS, egress_fd(), "egress"}};
    for (const auto& h : hooks) {
        hook.attach_point = h.point;
        LIBBPF_OPTS(bpf_tc_opts, opts, .prog_fd = h.fd, .flags = BPF_TC_F_REPLACE,
                    .handle = kTcHandle, .priority = kTcPriority);
        err = bpf_tc_attach(&hook, &opts);
        if (err) {
            detach();
            if (err == -EPERM)
                fail_privilege(std::string("attaching to ") + ifname + " " + h.name, err);
            throw EbpfError(std::string("attaching to ") + ifname + " " + h.name + ": " +
                            errno_text(err));
        }
    }
}

void EbpfCapture::detach() {
    if (!attached_) return;
    attached_ = false;
    // Filters already gone (the interface went away, or a later run replaced ours) are fine:
    // keep libbpf's complaints about them off stderr.
    LogCapture quiet;
    LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex_, .attach_point = BPF_TC_INGRESS);
    for (bpf_tc_attach_point p : {BPF_TC_INGRESS, BPF_TC_EGRESS}) {
        hook.attach_point = p;
        LIBBPF_OPTS(bpf_tc_opts, opts, .handle = kTcHandle, .priority = kTcPriority);
        bpf_tc_detach(&hook, &opts);  // absent already (interface gone): nothing to do
    }
    if (created_qdisc_) {
        hook.attach_point = static_cast<bpf_tc_attach_point>(BPF_TC_INGRESS | BPF_TC_EGRESS);
        bpf_tc_hook_destroy(&hook);
        created_qdisc_ = false;
    }
}

void EbpfCapture::set_ports(std::span<const uint16_t> tcp, std::span<const uint16_t> udp) {
    check_ports(tcp);
    check_ports(udp);
    const int fd = bpf_map__fd(skel_->maps.sw_ports);
    auto bits = [&](uint16_t port) {
        uint8_t v = 0;
        if (std::find(tcp.begin(), tcp.end(), port) != tcp.end()) v |= SW_PORT_TCP;
        if (std::find(udp.begin(), udp.end(), port) != udp.end()) v |= SW_PORT_UDP;
        return v;
    };
    auto write = [&](uint16_t port) {
        const uint32_t key = port;
        const uint8_t v = bits(port);
        if (bpf_map_update_elem(fd, &key, &v, BPF_ANY) != 0)
            throw EbpfError("setting service port " + std::to_string(port) + ": " +
                            errno_text(errno));
    };
    // New ports first, then clear the old ones: no moment where a kept port is unmonitored.
    for (uint16_t p : tcp)
        write(p);
    for (uint16_t p : udp)
        write(p);
    for (uint16_t p : tcp_ports_)
        write(p);
    for (uint16_t p : udp_ports_)
        write(p);
    tcp_ports_.assign(tcp.begin(), tcp.end());
    udp_ports_.assign(udp.begin(), udp.end());
}

int EbpfCapture::on_ring_event(void* ctx, void* data, size_t size) {
    return static_cast<EbpfCapture*>(ctx)->handle_event(data, size);
}

int EbpfCapture::handle_event(const void* data, size_t size) {
    ++events_received_;
    sw_event_header hdr;
    if (size < sizeof(hdr)) {
        ++malformed_events_;
        return 0;
    }
    std::memcpy(&hdr, data, sizeof(hdr));
    const auto* bytes = static_cast<const uint8_t*>(data);
    if (hdr.type == SW_EVENT_PACKET) {
        if (hdr.cap_len > size - sizeof(hdr)) {
            ++malformed_events_;
            return 0;
        }
        EbpfPacket p;
        p.ts_ns = to_wall_ns(hdr.ts_ns);
        p.bytes = std::span<const uint8_t>(bytes + sizeof(hdr), hdr.cap_len);
        p.wire_len = hdr.wire_len;
        p.from_client = hdr.dir == SW_DIR_CLIENT;
        sink_->on_packet(p);
    } else if (hdr.type == SW_EVENT_FLOW_END && size >= sizeof(sw_flow_end_event)) {
        sw_flow_end_event e;
        std::memcpy(&e, data, sizeof(e));
        EbpfFlowEnd end;
        end.ts_ns = to_wall_ns(e.cadence.last_ns);
        end.key = flow_key_from(e.key);
        end.reason = end_reason_from(e.reason);
        end.cadence = cadence_from(e.cadence);
        sink_->on_flow_end(end);
    } else {
        ++malformed_events_;
    }
    return 0;
}

int EbpfCapture::poll(int timeout_ms, EbpfEventSink& sink) {
    sink_ = &sink;
    int n = ring_buffer__poll(ring_.get(), timeout_ms);
    sink_ = nullptr;
    if (n < 0 && n != -EINTR) throw EbpfError("ring buffer poll: " + errno_text(n));
    if (n < 0) n = 0;
    const int64_t now = monotonic_now();
    if (now - last_sweep_ns_ >= cfg_.sweep_interval_ns)
        n += static_cast<int>(sweep_idle(sink, now));
    return n;
}

namespace {

// The eBPF events as the capture-source events every source delivers.
class AsSourceEvents : public EbpfEventSink {
  public:
    explicit AsSourceEvents(EventSink& s) : s_(s) {}
    void on_packet(const EbpfPacket& p) override { s_.on_ip(p.ts_ns, p.bytes, p.wire_len); }
    void on_flow_end(const EbpfFlowEnd& e) override { s_.on_flow_end(e.key, e.reason, e.cadence); }

  private:
    EventSink& s_;
};

}  // namespace

int EbpfCapture::poll(int timeout_ms, EventSink& sink) {
    AsSourceEvents events(sink);
    return poll(timeout_ms, static_cast<EbpfEventSink&>(events));
}

std::string EbpfCapture::stats() {
    const EbpfCounters c = counters();
    std::string out;
    auto add = [&](const char* name, uint64_t v) {
        if (!out.empty()) out += ' ';
        out += name;
        out += '=';
        out += std::to_string(v);
    };
    add("packets", c.packets);
    add("matched", c.matched);
    add("packet_events", c.packet_events);
    add("flow_end_events", c.flow_end_events);
    add("packet_drops", c.packet_drops);
    add("flow_end_drops", c.flow_end_drops);
    add("flows_created", c.flows_created);
    add("insert_failures", c.flow_insert_failures);
    add("evictions", c.flow_evictions);
    add("hello_lost_flows", c.hello_lost_flows);
    add("nonlinear", c.nonlinear);
    add("truncated", c.truncated);
    add("events_received", c.events_received);
    add("malformed_events", c.malformed_events);
    return out;
}

int EbpfCapture::consume(EbpfEventSink& sink) {
    sink_ = &sink;
    const int n = ring_buffer__consume(ring_.get());
    sink_ = nullptr;
    if (n < 0) throw EbpfError("ring buffer consume: " + errno_text(n));
    return n;
}

template <typename Fn>
size_t EbpfCapture::scan_flows(Fn&& fn) {
    const int fd = flows_fd();
    constexpr uint32_t kBatch = 1024;
    sweep_keys_.resize(kBatch * sizeof(sw_flow_key));
    sweep_values_.resize(kBatch * sizeof(sw_flow));
    size_t n = 0;
    auto visit = [&](const uint8_t* k, const uint8_t* v) {
        sw_flow_key key;
        sw_flow flow;
        std::memcpy(&key, k, sizeof(key));
        std::memcpy(&flow, v, sizeof(flow));
        fn(key, flow);
        ++n;
    };
    // Batch lookups: two syscalls per 1024 flows instead of two per flow.
    uint8_t token[sizeof(sw_flow_key)];
    for (bool first = true;; first = false) {
        uint32_t count = kBatch;
        const int err = bpf_map_lookup_batch(fd, first ? nullptr : token, token, sweep_keys_.data(),
                                             sweep_values_.data(), &count, nullptr);
        const int e = err ? errno : 0;
        if (err && e != ENOENT) {
            if (!first) break;  // rare (a bucket larger than the batch): walk key by key
            n = 0;
            sw_flow_key key, next;
            sw_flow v;
            const void* prev = nullptr;
            while (bpf_map_get_next_key(fd, prev, &next) == 0) {
                if (bpf_map_lookup_elem(fd, &next, &v) == 0)
                    visit(reinterpret_cast<const uint8_t*>(&next),
                          reinterpret_cast<const uint8_t*>(&v));
                key = next;
                prev = &key;
            }
            return n;
        }
        for (uint32_t i = 0; i < count; ++i)
            visit(sweep_keys_.data() + i * sizeof(sw_flow_key),
                  sweep_values_.data() + i * sizeof(sw_flow));
        if (err) break;  // ENOENT: that was the last batch
    }
    return n;
}

size_t EbpfCapture::sweep_idle(EbpfEventSink& sink, int64_t now_mono_ns) {
    if (now_mono_ns == 0) now_mono_ns = monotonic_now();
    last_sweep_ns_ = now_mono_ns;
    auto idle = [&](const sw_flow_key& key, const sw_flow& f) {
        const int64_t timeout = key.proto == 6 ? cfg_.tcp_idle_ns : cfg_.udp_idle_ns;
        return now_mono_ns - static_cast<int64_t>(f.cadence.last_ns) >= timeout;
    };
    idle_keys_.clear();
    scan_flows([&](const sw_flow_key& key, const sw_flow& f) {
        if (!idle(key, f)) return;
        const auto* k = reinterpret_cast<const uint8_t*>(&key);
        idle_keys_.insert(idle_keys_.end(), k, k + sizeof(key));
    });

    const int fd = flows_fd();
    size_t ended = 0;
    for (size_t off = 0; off + sizeof(sw_flow_key) <= idle_keys_.size();
         off += sizeof(sw_flow_key)) {
        sw_flow_key key;
        sw_flow v;
        std::memcpy(&key, idle_keys_.data() + off, sizeof(key));
        // Read again just before deleting: a packet may have arrived since the scan.
        if (bpf_map_lookup_elem(fd, &key, &v) != 0 || !idle(key, v)) continue;
        if (bpf_map_delete_elem(fd, &key) != 0) continue;  // the kernel ended it meanwhile
        ++flows_idle_;
        ++ended;
        EbpfFlowEnd end;
        end.ts_ns = to_wall_ns(v.cadence.last_ns);
        end.key = flow_key_from(key);
        end.reason = fingerprint::EndReason::Idle;
        end.cadence = cadence_from(v.cadence);
        sink.on_flow_end(end);
    }
    return ended;
}

EbpfCounters EbpfCapture::counters() {
    EbpfCounters out;
    const int ncpu = libbpf_num_possible_cpus();
    if (ncpu > 0) {
        // Per-CPU values come back one per possible CPU, each rounded up to 8 bytes.
        std::vector<uint64_t> values(static_cast<size_t>(ncpu) * SW_CNT_MAX);
        const uint32_t key = 0;
        if (bpf_map_lookup_elem(bpf_map__fd(skel_->maps.sw_counters), &key, values.data()) == 0) {
            uint64_t sum[SW_CNT_MAX] = {};
            for (int cpu = 0; cpu < ncpu; ++cpu)
                for (int i = 0; i < SW_CNT_MAX; ++i)
                    sum[i] += values[static_cast<size_t>(cpu) * SW_CNT_MAX + i];
            out.packets = sum[SW_CNT_PACKETS];
            out.matched = sum[SW_CNT_MATCHED];
            out.packet_events = sum[SW_CNT_PACKET_EVENTS];
            out.flow_end_events = sum[SW_CNT_FLOW_END_EVENTS];
            out.packet_drops = sum[SW_CNT_PACKET_DROPS];
            out.flow_end_drops = sum[SW_CNT_FLOW_END_DROPS];
            out.flows_created = sum[SW_CNT_FLOWS_CREATED];
            out.flow_insert_failures = sum[SW_CNT_FLOW_INSERT_FAILED];
            out.flows_ended = sum[SW_CNT_FLOWS_ENDED];
            out.truncated = sum[SW_CNT_TRUNCATED];
            out.nonlinear = sum[SW_CNT_NONLINEAR];
            out.hello_lost_flows = sum[SW_CNT_HELLO_LOST_FLOWS];
        }
    }
    out.flows_tracked = scan_flows([](const sw_flow_key&, const sw_flow&) {});
    // The LRU map evicts silently, and in batches before it is full (per-CPU free lists), so
    // evictions are what is missing: every flow created was ended, swept, or is still there.
    const uint64_t accounted = out.flows_ended + flows_idle_ + out.flows_tracked;
    out.flow_evictions = out.flows_created > accounted ? out.flows_created - accounted : 0;
    out.flows_idle = flows_idle_;
    out.events_received = events_received_;
    out.malformed_events = malformed_events_;
    return out;
}

int EbpfCapture::ingress_fd() const {
    return bpf_program__fd(skel_->progs.sw_ingress);
}
int EbpfCapture::egress_fd() const {
    return bpf_program__fd(skel_->progs.sw_egress);
}
int EbpfCapture::flows_fd() const {
    return bpf_map__fd(skel_->maps.sw_flows);
}

}  // namespace sybilwatch::capture
