// sybilwatchd's data path, wired from the config: a capture source (eBPF on the TC hooks,
// libpcap, or a capture file replayed) → the fingerprint engine → the joiner, fed by the
// attribution sources (stream socket, datagram socket, tailed log) → each attributed
// observation to the shared-memory ring (sybilwatch tail/top) and to the stage downstream
// (the rules engine). Runs on the caller's thread, one bounded step at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "capture/source.hpp"
#include "config/daemon_config.hpp"
#include "fingerprint/engine.hpp"
#include "identity/attribution_feed.hpp"
#include "identity/datagram_source.hpp"
#include "identity/file_tail.hpp"
#include "identity/joiner.hpp"
#include "identity/socket_source.hpp"
#include "ops/metric_set.hpp"
#include "shm/ring_writer.hpp"

namespace sybilwatch::service {

struct PipelineOptions {
    std::string pcap_file;  // replay this capture (event time) instead of capturing live
    // Whether the eBPF source may be tried (false: libpcap only; tests without BPF).
    bool allow_ebpf = true;
};

class PipelineError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

class Pipeline {
  public:
    // Opens the capture (eBPF attaches here), the attribution sockets, the log and the ring.
    // `downstream` (may be null) gets every attributed observation after the ring. Throws
    // PipelineError (or the libraries' errors) with a message for the operator.
    Pipeline(const config::DaemonConfig& cfg, const PipelineOptions& opt,
             identity::AttributedSink* downstream);
    ~Pipeline();

    // Capture events (waiting up to timeout_ms for the first), then attribution lines, then the
    // joiner's clock. Returns false once a replayed capture has ended (after drain()).
    bool step(int timeout_ms);
    // Passes on everything held: open flows, connections waiting for their record.
    void drain();

    // Applies what can change while running (attribution sources, the ring); returns what
    // only takes effect after a restart, one line each. Throws on a failure to apply; the
    // pipeline keeps its previous settings then.
    std::vector<std::string> reconfigure(const config::DaemonConfig& next);

    // Appends the counters of every stage.
    void collect(ops::MetricSet& out);

    // "ebpf on eth0", "pcap on eth0", "replay of FILE".
    const std::string& capture_description() const { return capture_desc_; }
    bool replaying() const { return !opt_.pcap_file.empty(); }
    // The pipeline's clock: wall time live, the latest packet's time when replaying.
    int64_t now_ns() const { return clock_ns_; }
    const identity::Joiner& joiner() const { return joiner_; }
    const fingerprint::Engine& engine() const { return *engine_; }
    uint64_t observations() const { return fanout_.passed; }

  private:
    // Every attributed observation: to the ring, then downstream.
    struct Fanout : identity::AttributedSink {
        shm::Writer* ring = nullptr;
        identity::AttributedSink* downstream = nullptr;
        uint64_t passed = 0, late = 0;
        void on_attributed(const identity::AttributedObservation& a) override;
        void on_late_attribution(const identity::LateAttribution& l) override;
    };
    // Events to the engine, noting the time of the latest one (the replay clock); replaying,
    // the attribution records due by each packet's time go to the joiner before it.
    struct ClockedFeed : capture::EventSink {
        capture::EngineFeed* feed = nullptr;
        identity::AttributionFeed* records = nullptr;
        int64_t latest_ns = 0;
        void on_frame(const capture::Frame& f) override;
        void on_ip(int64_t ts_ns, std::span<const uint8_t> bytes, uint32_t wire_len) override;
        void on_flow_end(const net::FlowKey& key, fingerprint::EndReason why,
                         const fingerprint::Cadence& cadence) override;
    };

    void open_capture();
    void open_attribution(const config::IdentitySection& id, const config::DaemonConfig& cfg);
    void poll_attribution();

    config::DaemonConfig cfg_;
    PipelineOptions opt_;
    Fanout fanout_;
    identity::Joiner joiner_;
    identity::AttributionFeed feed_;
    std::unique_ptr<fingerprint::Engine> engine_;
    std::unique_ptr<capture::EngineFeed> engine_feed_;
    ClockedFeed clocked_;
    std::unique_ptr<capture::Source> source_;
    std::string source_kind_;  // ebpf | pcap | file
    std::string capture_desc_;
    std::unique_ptr<identity::SocketSource> socket_;
    std::unique_ptr<identity::DatagramSource> datagram_;
    std::unique_ptr<identity::FileTail> tail_;
    std::unique_ptr<shm::Writer> ring_;
    int64_t clock_ns_ = 0;
    bool ended_ = false;
};

}  // namespace sybilwatch::service
