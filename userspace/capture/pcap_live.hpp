// Live capture through libpcap: the fallback where the eBPF programs cannot be loaded. Yields
// the same frames as a capture file; the kernel filter keeps only the service ports.
#pragma once

#include <pcap/pcap.h>

#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "capture/frame.hpp"
#include "capture/source.hpp"

namespace sybilwatch::capture {

struct PcapLiveStats {
    uint64_t received = 0;        // frames handed to us
    uint64_t kernel_dropped = 0;  // lost in the kernel's capture buffer (pcap_stats ps_drop)
    uint64_t if_dropped = 0;      // dropped by the interface (ps_ifdrop)
};

class PcapLive : public Source {
  public:
    // Opens `ifname` (not promiscuous: the host's own traffic), nanosecond timestamps, a BPF
    // filter for the service ports (VLAN-tagged frames too). Throws std::runtime_error with
    // libpcap's reason (no such device, permission denied, ...).
    PcapLive(const std::string& ifname, std::span<const uint16_t> tcp_ports,
             std::span<const uint16_t> udp_ports, int buffer_bytes = 16 << 20);

    // Waits up to timeout_ms and hands every frame available to the sink. Throws
    // std::runtime_error when the device fails (gone, down).
    int poll(int timeout_ms, EventSink& sink) override;
    bool sees_every_packet() const override { return true; }
    std::string stats() override;

    PcapLiveStats counters();

    // The capture filter for these ports (exposed for tests).
    static std::string filter_for(std::span<const uint16_t> tcp_ports,
                                  std::span<const uint16_t> udp_ports);

  private:
    struct Closer {
        void operator()(pcap_t* p) const { pcap_close(p); }
    };
    std::unique_ptr<pcap_t, Closer> pcap_;
    std::string ifname_;
    net::LinkType link_;
    uint64_t received_ = 0;
};

}  // namespace sybilwatch::capture
