#include "service/pipeline.hpp"

#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdlib>

#include "capture/ebpf_capture.hpp"
#include "capture/pcap_file.hpp"
#include "capture/pcap_live.hpp"
#include "service/default_route.hpp"

namespace sybilwatch::service {

namespace {

int64_t wall_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

// With eBPF the engine sees only handshake packets; the kernel ends flows (FIN, RST, its idle
// sweep) and sends their cadence. The engine's own timeout is then only a backstop for
// flow-end events the ring buffer dropped: long, so that it never ends a live connection.
constexpr int64_t kEbpfBackstopNs = 3600LL * 1'000'000'000;

// Replaying, identity records read ahead of the packets wait for their time in a ring this big
// (~250 B each); beyond it the oldest goes on early.
constexpr size_t kReplayHeldRecords = 65536;

}  // namespace

void Pipeline::Fanout::on_attributed(const identity::AttributedObservation& a) {
    ++passed;
    if (ring) ring->publish(a.obs, a.account, a.user_agent);
    if (downstream) downstream->on_attributed(a);
}

void Pipeline::Fanout::on_late_attribution(const identity::LateAttribution& l) {
    ++late;
    if (downstream) downstream->on_late_attribution(l);
}

void Pipeline::ClockedFeed::on_frame(const capture::Frame& f) {
    latest_ns = std::max(latest_ns, f.ts_ns);
    if (records) records->release(latest_ns);
    feed->on_frame(f);
}

void Pipeline::ClockedFeed::on_ip(int64_t ts_ns, std::span<const uint8_t> bytes,
                                  uint32_t wire_len) {
    latest_ns = std::max(latest_ns, ts_ns);
    if (records) records->release(latest_ns);
    feed->on_ip(ts_ns, bytes, wire_len);
}

void Pipeline::ClockedFeed::on_flow_end(const net::FlowKey& key, fingerprint::EndReason why,
                                        const fingerprint::Cadence& cadence) {
    feed->on_flow_end(key, why, cadence);
}

Pipeline::Pipeline(const config::DaemonConfig& cfg, const PipelineOptions& opt,
                   identity::AttributedSink* downstream)
    : cfg_(cfg), opt_(opt), joiner_(cfg.to_joiner_config(), fanout_), feed_(joiner_) {
    fanout_.downstream = downstream;
    if (replaying()) {
        // Records reach the joiner in packet time, as they would live (attribution_feed.hpp).
        feed_.hold_until_clock(kReplayHeldRecords);
        clocked_.records = &feed_;
    }
    open_capture();
    open_attribution(cfg_.identity, cfg_);
    if (!cfg_.ring.name.empty()) {
        ring_ = std::make_unique<shm::Writer>(cfg_.ring.name, cfg_.to_writer_options());
        if (ring_->replaced_pid())
            spdlog::warn("ring {}: replaced the segment of a writer that is gone (pid {})",
                         ring_->path(), *ring_->replaced_pid());
        fanout_.ring = ring_.get();
    }
    clock_ns_ = replaying() ? 0 : wall_ns();
}

Pipeline::~Pipeline() = default;

void Pipeline::open_capture() {
    fingerprint::EngineConfig ec = cfg_.to_engine_config();
    ec.emit = fingerprint::EmitAt::Close;  // observations carry the connection's volume
    if (!opt_.pcap_file.empty()) {
        source_ = std::make_unique<capture::PcapFile>(opt_.pcap_file);
        source_kind_ = "file";
        capture_desc_ = "replay of " + opt_.pcap_file;
    } else {
        std::string ifname = cfg_.capture.interface;
        if (ifname.empty()) {
            ifname = default_route_interface();
            if (ifname.empty())
                throw PipelineError(
                    "capture.interface is not set and there is no default route to take it "
                    "from; name the interface in the config");
        }
        using config::CaptureMode;
        if (cfg_.capture.mode != CaptureMode::Pcap && opt_.allow_ebpf) {
            try {
                capture::EbpfConfig bc = cfg_.to_ebpf_config();
                bc.interface = ifname;
                source_ = std::make_unique<capture::EbpfCapture>(bc);
                source_kind_ = "ebpf";
            } catch (const capture::EbpfError& e) {
                if (cfg_.capture.mode == CaptureMode::Ebpf) throw;
                spdlog::warn("eBPF capture unavailable ({}); falling back to libpcap", e.what());
            }
        }
        if (!source_) {
            source_ =
                std::make_unique<capture::PcapLive>(ifname, cfg_.capture.ports, cfg_.capture.ports);
            source_kind_ = "pcap";
        }
        capture_desc_ = source_kind_ + " on " + ifname;
    }
    if (!source_->sees_every_packet()) {
        ec.cadence_from_packets = false;
        ec.tcp_idle_ns = ec.udp_idle_ns = kEbpfBackstopNs;
    }
    engine_ = std::make_unique<fingerprint::Engine>(ec, joiner_);
    engine_feed_ = std::make_unique<capture::EngineFeed>(*engine_);
    clocked_.feed = engine_feed_.get();
}

void Pipeline::open_attribution(const config::IdentitySection& id,
                                const config::DaemonConfig& cfg) {
    // New sources are opened before the old ones go, so a failure leaves the running ones.
    std::unique_ptr<identity::SocketSource> socket;
    std::unique_ptr<identity::DatagramSource> datagram;
    std::unique_ptr<identity::FileTail> tail;
    const bool same_sockets = socket_ || datagram_ || tail_
                                  ? (id.socket_path == cfg_.identity.socket_path &&
                                     id.socket_mode == cfg_.identity.socket_mode &&
                                     id.socket_group == cfg_.identity.socket_group)
                                  : false;
    if (!id.socket_path.empty()) {
        if (same_sockets && socket_)
            socket = std::move(socket_);
        else
            socket = std::make_unique<identity::SocketSource>(cfg.to_socket_source_config());
    }
    if (!id.datagram_path.empty()) {
        if (same_sockets && datagram_ && id.datagram_path == cfg_.identity.datagram_path)
            datagram = std::move(datagram_);
        else
            datagram = std::make_unique<identity::DatagramSource>(cfg.to_datagram_source_config());
    }
    if (!id.tail_path.empty()) {
        if (tail_ && id.tail_path == cfg_.identity.tail_path)
            tail = std::move(tail_);
        else
            tail = std::make_unique<identity::FileTail>(cfg.to_file_tail_config());
    }
    socket_ = std::move(socket);
    datagram_ = std::move(datagram);
    tail_ = std::move(tail);
}

void Pipeline::poll_attribution() {
    if (socket_) socket_->poll(0, feed_);
    if (datagram_) datagram_->poll(0, feed_);
    if (tail_) tail_->poll(feed_);
}

bool Pipeline::step(int timeout_ms) {
    if (ended_) return false;
    // Attribution first: a record that arrived with the packets should be waiting when the
    // connection's observation comes out of the engine.
    poll_attribution();
    const int n = source_->poll(replaying() ? 0 : timeout_ms, clocked_);
    if (n < 0) {
        if (!source_->error().empty())
            spdlog::error("capture {}: {}", capture_desc_, source_->error());
        poll_attribution();
        drain();
        ended_ = true;
        return false;
    }
    poll_attribution();
    clock_ns_ = replaying() ? std::max(clock_ns_, clocked_.latest_ns) : wall_ns();
    if (!replaying()) engine_->expire(clock_ns_);
    joiner_.tick(clock_ns_);
    return true;
}

void Pipeline::drain() {
    engine_->flush(fingerprint::EndReason::EndOfCapture);
    poll_attribution();
    feed_.release_all();
    joiner_.flush();
}

std::vector<std::string> Pipeline::reconfigure(const config::DaemonConfig& next) {
    std::vector<std::string> restart;
    if (!(next.capture == cfg_.capture))
        restart.push_back("capture settings change after a restart");
    if (!(next.fingerprints == cfg_.fingerprints))
        restart.push_back("fingerprints settings change after a restart");
    const auto& a = next.identity;
    const auto& b = cfg_.identity;
    if (a.join_wait_ns != b.join_wait_ns || a.record_ttl_ns != b.record_ttl_ns ||
        a.max_pending_records != b.max_pending_records || a.max_waiting != b.max_waiting ||
        a.max_connections != b.max_connections)
        restart.push_back("identity.join settings change after a restart");
    open_attribution(next.identity, next);
    if (!(next.ring == cfg_.ring)) {
        std::unique_ptr<shm::Writer> ring;
        // The old writer must go first: a new one with the same name would find it alive.
        fanout_.ring = nullptr;
        ring_.reset();
        if (!next.ring.name.empty())
            ring = std::make_unique<shm::Writer>(next.ring.name, next.to_writer_options());
        ring_ = std::move(ring);
        fanout_.ring = ring_.get();
    }
    const config::CaptureSection keep_capture = cfg_.capture;
    const config::FingerprintsSection keep_fp = cfg_.fingerprints;
    const config::IdentitySection keep_join = cfg_.identity;
    cfg_ = next;
    // What only a restart applies stays as running, so status shows the truth.
    cfg_.capture = keep_capture;
    cfg_.fingerprints = keep_fp;
    cfg_.identity.join_wait_ns = keep_join.join_wait_ns;
    cfg_.identity.record_ttl_ns = keep_join.record_ttl_ns;
    cfg_.identity.max_pending_records = keep_join.max_pending_records;
    cfg_.identity.max_waiting = keep_join.max_waiting;
    cfg_.identity.max_connections = keep_join.max_connections;
    return restart;
}

void Pipeline::collect(ops::MetricSet& m) {
    const std::string_view src = source_kind_;
    // The source's own counters: "name=value ..." (eBPF: kernel and ring-buffer counters).
    const std::string stats = source_->stats();
    for (size_t pos = 0; pos < stats.size();) {
        size_t end = stats.find(' ', pos);
        if (end == std::string::npos) end = stats.size();
        const std::string_view kv(stats.data() + pos, end - pos);
        const size_t eq = kv.find('=');
        if (eq != std::string_view::npos) {
            char* stop = nullptr;
            const std::string value(kv.substr(eq + 1));
            const double v = std::strtod(value.c_str(), &stop);
            if (stop && *stop == 0 && !value.empty())
                m.counter("sybilwatch_capture_" + std::string(kv.substr(0, eq)) + "_total",
                          "capture source counter (see docs/daemon.md, Metrics)", v,
                          {{"source", src}});
        }
        pos = end + 1;
    }
    const auto& e = engine_->stats();
    m.counter("sybilwatch_packets_total", "packets the fingerprint engine processed", e.packets);
    m.counter("sybilwatch_packet_errors_total", "packets that did not decode", e.decode_errors);
    m.counter("sybilwatch_flows_total", "connections the engine followed", e.flows);
    m.counter("sybilwatch_flows_evicted_total",
              "connections ended early because the flow table was full", e.flows_evicted);
    m.counter("sybilwatch_hello_errors_total", "malformed or oversized TLS/QUIC hellos",
              e.hello_errors);
    m.counter("sybilwatch_reassembly_no_memory_total",
              "hellos not reassembled: the buffer pool was exhausted", e.reassembly_no_memory);
    m.gauge("sybilwatch_open_flows", "connections open in the engine", engine_->open_flows());
    m.counter("sybilwatch_observations_total", "observations (one per connection) passed on",
              fanout_.passed);

    const auto& j = joiner_.stats();
    m.counter("sybilwatch_attribution_records_total", "attribution records accepted", j.records);
    m.counter("sybilwatch_attribution_outcomes_total", "attribution records by outcome", j.matched,
              {{"outcome", "matched"}});
    m.counter("sybilwatch_attribution_outcomes_total", "", j.late, {{"outcome", "late"}});
    m.counter("sybilwatch_attribution_outcomes_total", "", j.repeats, {{"outcome", "repeat"}});
    m.counter("sybilwatch_attribution_outcomes_total", "", j.conflicts, {{"outcome", "conflict"}});
    m.counter("sybilwatch_attribution_outcomes_total", "", j.stale_records, {{"outcome", "stale"}});
    m.counter("sybilwatch_attribution_outcomes_total", "", j.expired_records,
              {{"outcome", "expired"}});
    m.counter("sybilwatch_attribution_outcomes_total", "", j.evicted_records,
              {{"outcome", "evicted"}});
    m.counter("sybilwatch_unattributed_observations_total",
              "observations passed on without an account", j.unattributed);
    m.gauge("sybilwatch_attribution_hit_ratio", "share of observations that carried an account",
            joiner_.hit_rate());
    m.gauge("sybilwatch_attribution_pending_records", "records waiting for their connection",
            joiner_.pending_records());
    m.gauge("sybilwatch_attribution_waiting_observations", "connections waiting for their record",
            joiner_.waiting());
    const auto& p = feed_.parse_stats();
    m.counter("sybilwatch_attribution_lines_total", "attribution lines read", p.accepted,
              {{"result", "accepted"}});
    for (size_t r = 1; r < identity::kParseResults; ++r)
        m.counter("sybilwatch_attribution_lines_total", "", p.rejected[r],
                  {{"result", "rejected"},
                   {"reason", identity::to_string(static_cast<identity::ParseResult>(r))}});
    if (socket_) {
        const auto& s = socket_->stats();
        m.counter("sybilwatch_attribution_socket_lines_total", "lines read from the socket",
                  s.lines);
        m.gauge("sybilwatch_attribution_socket_clients", "connected gateway clients",
                socket_->clients());
    }
    if (datagram_)
        m.counter("sybilwatch_attribution_datagrams_total", "datagrams received",
                  datagram_->stats().datagrams);
    if (tail_) {
        const auto& t = tail_->stats();
        m.counter("sybilwatch_attribution_log_lines_total", "lines read from the tailed log",
                  t.lines);
        m.counter("sybilwatch_attribution_log_rotations_total", "rotations of the tailed log",
                  t.rotations + t.truncations);
    }
    if (ring_)
        m.counter("sybilwatch_ring_published_total", "records written to the shared-memory ring",
                  static_cast<double>(ring_->published()));
}

}  // namespace sybilwatch::service
