// The eBPF capture source: loads the kernel programs of bpf/sybilwatch.bpf.c (libbpf skeleton),
// attaches them to an interface's TC clsact ingress and egress hooks, and consumes their ring
// buffer. Packet events carry the packet from its IP header on (for fingerprint::Engine::on_ip);
// flow-end events carry the kernel's cadence summary (for Engine::end_flow). Flows the kernel
// does not see end (idle ones) are swept from its map here and reported the same way.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "capture/source.hpp"
#include "fingerprint/observation.hpp"
#include "net/flow_key.hpp"

struct sybilwatch_bpf;
struct ring_buffer;

namespace sybilwatch::capture {

// Load, attach or permission failures; what() says what to do about it.
class EbpfError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

struct EbpfConfig {
    // Service ports of this host (the server role): TCP for TLS, UDP for QUIC.
    std::vector<uint16_t> tcp_ports{443, 8443};
    std::vector<uint16_t> udp_ports{443, 8443};
    uint32_t max_flows = 65536;             // kernel flow map entries (LRU)
    uint32_t ring_bytes = 8u << 20;         // ring buffer: a power of two, at least one page
    int64_t tcp_idle_ns = 300'000'000'000;  // as the engine: 5 min without a packet
    int64_t udp_idle_ns = 60'000'000'000;
    int64_t sweep_interval_ns = 5'000'000'000;  // how often poll() sweeps idle flows
    // When set, the constructor attaches to it (and loads for its link type: Ethernet, or an
    // L3 device without MAC header such as tun or wireguard).
    std::string interface;
};

// Totals over all CPUs, plus what the loader itself counted.
struct EbpfCounters {
    uint64_t packets = 0;          // packets the programs ran on
    uint64_t matched = 0;          // TCP/UDP packets of a service port (server role)
    uint64_t packet_events = 0;    // packet events submitted
    uint64_t flow_end_events = 0;  // flow-end events submitted
    uint64_t packet_drops = 0;     // packet events lost: ring buffer full
    uint64_t flow_end_drops = 0;   // flow-end events lost: ring buffer full
    uint64_t flows_created = 0;
    uint64_t flow_insert_failures = 0;  // connections not followed: map insert failed
    uint64_t flow_evictions = 0;        // flows the full LRU map pushed out (see counters())
    uint64_t flows_ended = 0;           // ended and deleted in the kernel: FIN, RST, tuple reused
    uint64_t truncated = 0;             // packet events cut to the largest record size
    uint64_t nonlinear = 0;             // headers outside the linear skb data: skipped
    uint64_t hello_lost_flows = 0;      // TCP flows whose client first-flight event was lost
    uint64_t flows_tracked = 0;         // flows in the kernel map now
    // Userspace side.
    uint64_t flows_idle = 0;  // flows swept for idleness
    uint64_t events_received = 0;
    uint64_t malformed_events = 0;  // records that do not parse (should stay 0)
};

struct EbpfPacket {
    int64_t ts_ns = 0;               // wall clock, ns since the epoch
    std::span<const uint8_t> bytes;  // from the IP header on; valid during the callback
    uint32_t wire_len = 0;           // the packet's length from the IP header on
    bool from_client = false;        // ingress to a service port (else egress from one)
};

struct EbpfFlowEnd {
    int64_t ts_ns = 0;  // wall clock of the flow's last packet
    net::FlowKey key;
    fingerprint::EndReason reason = fingerprint::EndReason::Idle;
    fingerprint::Cadence cadence;
};

class EbpfEventSink {
  public:
    virtual ~EbpfEventSink() = default;
    virtual void on_packet(const EbpfPacket& p) = 0;
    virtual void on_flow_end(const EbpfFlowEnd& e) = 0;
};

class EbpfCapture : public Source {
  public:
    // Opens and loads the programs and sets the service ports; attaches when cfg.interface is
    // set. Throws EbpfError: not privileged, kernel without BTF, verifier rejection (with the
    // end of the verifier log), interface missing.
    explicit EbpfCapture(const EbpfConfig& cfg = {});
    ~EbpfCapture();  // detaches (see detach) and unloads
    EbpfCapture(const EbpfCapture&) = delete;
    EbpfCapture& operator=(const EbpfCapture&) = delete;

    // Attaches ingress and egress to the interface. A sybilwatch filter left by an earlier run
    // that crashed is replaced (fixed handle and priority), never duplicated.
    void attach(const std::string& ifname);
    // Removes our filters; removes the clsact qdisc too when attach created it.
    void detach();

    // Replaces the monitored ports (takes effect for the next packet).
    void set_ports(std::span<const uint16_t> tcp, std::span<const uint16_t> udp);

    // Waits up to timeout_ms for events and hands each to the sink; sweeps idle flows when
    // sweep_interval_ns has passed. Returns the number of events handled (sweeps included).
    int poll(int timeout_ms, EbpfEventSink& sink);
    // Source: the same, packets as on_ip and flow ends as on_flow_end.
    int poll(int timeout_ms, EventSink& sink) override;
    bool sees_every_packet() const override { return false; }
    std::string stats() override;
    // Handles the events already in the ring buffer without waiting.
    int consume(EbpfEventSink& sink);
    // Ends the flows idle at now_mono_ns (CLOCK_MONOTONIC; 0 = now): each is deleted from the
    // kernel map and reported with EndReason::Idle. Returns how many.
    size_t sweep_idle(EbpfEventSink& sink, int64_t now_mono_ns = 0);

    // Sums the per-CPU counters and counts the flow map (a batch lookup per 1024 flows).
    // flow_evictions = flows_created - flows_ended - flows_idle - flows_tracked: exact when no
    // flow starts or ends during the call.
    EbpfCounters counters();

    // For BPF_PROG_TEST_RUN (tests, benchmarks) and inspection.
    int ingress_fd() const;
    int egress_fd() const;
    int flows_fd() const;
    int ifindex() const { return ifindex_; }

    // Kernel timestamps (bpf_ktime_get_ns, CLOCK_MONOTONIC) to wall clock.
    int64_t to_wall_ns(uint64_t mono_ns) const {
        return static_cast<int64_t>(mono_ns) + mono_to_wall_ns_;
    }

  private:
    static int on_ring_event(void* ctx, void* data, size_t size);
    int handle_event(const void* data, size_t size);
    // Calls fn(key, flow) for every flow in the kernel map; returns how many.
    template <typename Fn>
    size_t scan_flows(Fn&& fn);

    struct SkelDeleter {
        void operator()(sybilwatch_bpf* s) const;
    };
    struct RingDeleter {
        void operator()(ring_buffer* r) const;
    };

    EbpfConfig cfg_;
    std::unique_ptr<sybilwatch_bpf, SkelDeleter> skel_;
    std::unique_ptr<ring_buffer, RingDeleter> ring_;
    int64_t mono_to_wall_ns_ = 0;
    int ifindex_ = 0;
    bool created_qdisc_ = false;
    bool attached_ = false;
    std::vector<uint16_t> tcp_ports_, udp_ports_;
    EbpfEventSink* sink_ = nullptr;  // during poll/consume
    int64_t last_sweep_ns_ = 0;
    uint64_t flows_idle_ = 0, events_received_ = 0, malformed_events_ = 0;
    // Reused by scan_flows and sweep_idle: batch lookup buffers, the idle keys found.
    std::vector<uint8_t> sweep_keys_, sweep_values_, idle_keys_;
};

}  // namespace sybilwatch::capture
