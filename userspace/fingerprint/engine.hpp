// The fingerprint engine: packets in (from any capture source), one Observation per connection
// out. Tracks flows in a bounded table, reassembles handshakes, parses TLS and QUIC, computes
// the fingerprints and the connection's timing and cadence.
#pragma once

#include <cstdint>
#include <span>

#include <string>

#include "fingerprint/facts_table.hpp"
#include "fingerprint/flow.hpp"
#include "fingerprint/handshake.hpp"
#include "fingerprint/observation.hpp"
#include "net/buffer_pool.hpp"
#include "net/flow_table.hpp"
#include "net/packet.hpp"

namespace sybilwatch::fingerprint {

class ObservationSink {
  public:
    virtual ~ObservationSink() = default;
    virtual void on_observation(const Observation& obs) = 0;
};

enum class EmitAt : uint8_t {
    Handshake,  // as soon as both hellos are known (live capture: findings without delay)
    Close,      // when the connection ends (offline: the observation carries its whole cadence)
};

struct EngineConfig {
    uint32_t max_flows = 65536;
    // Connections in their handshake at once (each ~2.3 KB of working state, so 75 MB at most);
    // when all are taken the oldest handshake ends early (end: evicted). Open connections past
    // their handshake cost ~300 bytes each.
    uint32_t max_handshakes = 32768;
    uint32_t reassembly_buffers = 4096;     // 16 KiB each: 64 MiB at most in total
    uint32_t reassembly_bytes = 16 * 1024;  // per direction: the largest hello we reassemble
    int64_t tcp_idle_ns = 300'000'000'000;  // 5 min without a packet ends a TCP flow
    int64_t udp_idle_ns = 60'000'000'000;
    bool foxio = true;  // JA4S, JA4T, JA4TS, JA4L (FoxIO License 1.1)
    bool raw = true;    // ja4_r, ja4_ro, ja3_full, ja4s_r strings
    EmitAt emit = EmitAt::Close;
    // The pcap paths see every packet and count cadence themselves; the eBPF path sees only
    // handshake packets and gets the cadence with the kernel's flow-end event (end_flow).
    bool cadence_from_packets = true;
    // Connections past their handshake that keep its facts in their handshake state, taken
    // from max_handshakes, instead of interning them at once; past this many the oldest are
    // interned. One that ends first is reported straight from that state, so the facts are
    // neither packed, interned nor rebuilt: most connections of a capture file, which end
    // within a few seconds. 0 interns at once (memory: ~2.2 KB each until interned).
    uint32_t deferred_settles = 1024;
};

struct EngineStats {
    uint64_t packets = 0;
    uint64_t decode_errors = 0;  // truncated or malformed headers
    uint64_t not_ip = 0;
    uint64_t unsupported = 0;         // other IP protocols, fragments
    uint64_t flows = 0;               // connections created
    uint64_t flows_evicted = 0;       // table full: oldest flow ended early
    uint64_t handshakes_evicted = 0;  // ... of which: handshake table full, oldest handshake
    uint64_t flows_expired = 0;       // idle timeout
    uint64_t observations = 0;
    uint64_t client_hellos = 0;
    uint64_t server_hellos = 0;
    uint64_t hello_errors = 0;  // malformed hello, or beyond the reassembly limit
    uint64_t reassembly_no_memory = 0;
    uint64_t reassembly_fragmented = 0;
    uint64_t quic_failures = 0;
};

class Engine {
  public:
    Engine(const EngineConfig& cfg, ObservationSink& sink);

    // One captured frame of the given link type.
    void on_frame(net::LinkType link, int64_t ts_ns, std::span<const uint8_t> frame,
                  uint32_t wire_len);
    // One frame starting at its IP header (eBPF events).
    void on_ip(int64_t ts_ns, std::span<const uint8_t> bytes, uint32_t wire_len);
    void on_packet(const net::Packet& p);

    // A flow ended outside the packet stream (the kernel saw its FIN/RST or expired it). The
    // key is in any direction; `cadence`, when given, replaces what the engine counted.
    // Returns whether the flow was known.
    bool end_flow(const net::FlowKey& key, EndReason why, const Cadence* cadence);

    // Ends flows idle since before `now_ns` (event time). on_packet calls it as time advances.
    void expire(int64_t now_ns);
    // Ends every open flow (end of capture, shutdown).
    void flush(EndReason why = EndReason::EndOfCapture);

    const EngineStats& stats() const { return stats_; }
    uint32_t open_flows() const { return flows_.size(); }
    // Open flows still in their handshake (holding working state), and distinct interned facts.
    uint32_t handshaking_flows() const { return handshakes_.size(); }
    uint32_t interned_facts() const { return facts_.size(); }
    size_t facts_memory_bytes() const { return facts_.memory_bytes(); }

  private:
    void on_tcp(const net::Packet& p);
    void on_udp(const net::Packet& p);
    uint32_t new_flow(const net::FlowKey& key, const net::Packet& p);
    void finish(uint32_t slot, EndReason why);
    void emit(uint32_t slot, EndReason why);
    void after_packet(uint32_t slot);
    void settle(uint32_t slot);
    // The working state of a handshake in progress; nullptr once it is over, whether or not
    // its facts are interned yet (handshake_over).
    Handshake* handshake_of(const Flow& f) {
        return f.handshake == Flow::kNone || f.handshake_over ? nullptr
                                                              : &handshakes_.at(f.handshake);
    }
    void handshake_over(uint32_t slot);
    void feed_hello(Handshake& h, bool from_client, const net::Packet& p);
    void parsed_hello(Handshake& h, bool from_client, std::span<const uint8_t> msg, char transport,
                      bool dtls);
    void update_cadence(Flow& f, bool from_client, const net::Packet& p);
    void tcp_timing(Flow& f, bool from_client, const net::Packet& p);
    void quic_packet(Flow& f, bool from_client, const net::Packet& p);

    EngineConfig cfg_;
    ObservationSink& sink_;
    net::FlowTable<Flow> flows_;
    // Before the handshakes: their reassembly buffers go back to it when they are destroyed.
    net::BufferPool pool_;
    HandshakePool handshakes_;
    FactsTable facts_;
    std::string packed_;            // facts are packed here before interning
    Observation out_;               // a settled flow's Observation is rebuilt here to be emitted
    std::vector<uint8_t> scratch_;  // hello spread over several records is joined here
    std::string ja4s_raw_tmp_;
    EngineStats stats_;
    int64_t last_expiry_ns_ = 0;
    net::Packet packet_;  // reused by on_frame
};

}  // namespace sybilwatch::fingerprint
