// The capture source interface: a pcap file, libpcap on a live interface, or the eBPF programs.
// Each delivers the same raw events to an EventSink — link-layer frames (pcap), packets from
// their IP header on plus the kernel's flow ends (eBPF) — and the fingerprint engine takes all
// of them through one decoder and one reassembler (EngineFeed).
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "capture/frame.hpp"
#include "fingerprint/engine.hpp"
#include "fingerprint/observation.hpp"
#include "net/flow_key.hpp"

namespace sybilwatch::capture {

class EventSink {
  public:
    virtual ~EventSink() = default;
    virtual void on_frame(const Frame& f) = 0;
    virtual void on_ip(int64_t ts_ns, std::span<const uint8_t> bytes, uint32_t wire_len) = 0;
    // A connection the kernel saw end (FIN, RST, idle), with its cadence over its whole life.
    virtual void on_flow_end(const net::FlowKey& key, fingerprint::EndReason why,
                             const fingerprint::Cadence& cadence) = 0;
};

class Source {
  public:
    virtual ~Source() = default;
    // Delivers the events available, waiting up to timeout_ms for the first; returns how many,
    // or -1 once the source has ended (end of a file). Throws std::runtime_error on a failure
    // that ends the source (a device gone).
    virtual int poll(int timeout_ms, EventSink& sink) = 0;
    // Whether every packet of a connection comes through (pcap), so the engine counts cadence
    // itself, or only the handshake's (eBPF), with the cadence in the flow-end event.
    virtual bool sees_every_packet() const = 0;
    // Why the source ended early (a truncated file), empty otherwise.
    virtual std::string error() const { return {}; }
    // Its counters, "name=value ..." (drops included), for --stats and metrics.
    virtual std::string stats() = 0;
};

// Events into the fingerprint engine.
class EngineFeed : public EventSink {
  public:
    explicit EngineFeed(fingerprint::Engine& e) : e_(e) {}
    void on_frame(const Frame& f) override { e_.on_frame(f.link, f.ts_ns, f.data, f.wire_len); }
    void on_ip(int64_t ts_ns, std::span<const uint8_t> bytes, uint32_t wire_len) override {
        e_.on_ip(ts_ns, bytes, wire_len);
    }
    void on_flow_end(const net::FlowKey& key, fingerprint::EndReason why,
                     const fingerprint::Cadence& cadence) override {
        e_.end_flow(key, why, &cadence);
    }

  private:
    fingerprint::Engine& e_;
};

}  // namespace sybilwatch::capture
