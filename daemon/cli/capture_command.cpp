// sybilwatch capture --interface IF: live connections as JSON lines, each printed as soon as
// its handshake is fingerprinted. eBPF on the TC hooks by default; libpcap as the fallback.
#include <getopt.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "capture/ebpf_capture.hpp"
#include "capture/pcap_live.hpp"
#include "commands.hpp"
#include "json_lines_out.hpp"

namespace sybilwatch::cli {

namespace {

std::atomic<bool> g_stop{false};
void on_signal(int) { g_stop = true; }

// eBPF events into the engine: packets through the same decoder as a pcap, flow ends with the
// kernel's cadence.
class EngineFeed : public capture::EbpfEventSink {
public:
    explicit EngineFeed(fingerprint::Engine& e) : e_(e) {}
    void on_packet(const capture::EbpfPacket& p) override { e_.on_ip(p.ts_ns, p.bytes, p.wire_len); }
    void on_flow_end(const capture::EbpfFlowEnd& f) override {
        e_.end_flow(f.key, f.reason, &f.cadence);
    }

private:
    fingerprint::Engine& e_;
};

void usage(FILE* out) {
    std::fputs(
        "usage: sybilwatch capture --interface IF [--ebpf | --pcap] [OPTIONS]\n"
        "\n"
        "Fingerprints the live connections of this host's service ports and prints one JSON\n"
        "line per connection (as `sybilwatch fingerprint`) as soon as its handshake is seen.\n"
        "\n"
        "options:\n"
        "  -i, --interface IF  the interface to watch (required)\n"
        "  --ebpf              TC programs and a ring buffer (default; needs root or\n"
        "                      CAP_BPF + CAP_NET_ADMIN)\n"
        "  --pcap              libpcap (default when eBPF cannot be loaded)\n"
        "  --port P            a service port, TCP and UDP (repeatable; default 443 and 8443)\n"
        "  --seconds N         stop after N seconds (default: until SIGINT/SIGTERM)\n"
        "  --no-foxio          leave out JA4S, JA4T, JA4TS, JA4L (FoxIO License 1.1)\n"
        "  --no-raw            leave out the raw fingerprint strings\n"
        "  --stats             print counters to stderr at the end\n",
        out);
}

}  // namespace

int capture_command(int argc, char** argv) {
    std::string ifname;
    enum class Mode { Auto, Ebpf, Pcap } mode = Mode::Auto;
    std::vector<uint16_t> ports;
    double seconds = 0;
    bool stats = false;
    fingerprint::EngineConfig cfg;
    cfg.emit = fingerprint::EmitAt::Handshake;
    enum { kEbpf = 1000, kPcap, kPort, kSeconds, kNoFoxio, kNoRaw, kStats };
    static const option opts[] = {
        {"interface", required_argument, nullptr, 'i'}, {"ebpf", no_argument, nullptr, kEbpf},
        {"pcap", no_argument, nullptr, kPcap},          {"port", required_argument, nullptr, kPort},
        {"seconds", required_argument, nullptr, kSeconds},
        {"no-foxio", no_argument, nullptr, kNoFoxio},   {"no-raw", no_argument, nullptr, kNoRaw},
        {"stats", no_argument, nullptr, kStats},        {"help", no_argument, nullptr, 'h'},
        {nullptr, 0, nullptr, 0},
    };
    optind = 1;
    for (int c; (c = getopt_long(argc, argv, "hi:", opts, nullptr)) != -1;) {
        switch (c) {
            case 'i': ifname = optarg; break;
            case kEbpf: mode = Mode::Ebpf; break;
            case kPcap: mode = Mode::Pcap; break;
            case kPort: {
                char* end = nullptr;
                const long p = std::strtol(optarg, &end, 10);
                if (!end || *end || p < 1 || p > 65535) {
                    std::fprintf(stderr, "sybilwatch capture: --port takes 1..65535\n");
                    return 64;
                }
                ports.push_back(static_cast<uint16_t>(p));
                break;
            }
            case kSeconds: {
                char* end = nullptr;
                seconds = std::strtod(optarg, &end);
                if (!end || *end || seconds <= 0) {
                    std::fprintf(stderr, "sybilwatch capture: --seconds takes a positive number\n");
                    return 64;
                }
                break;
            }
            case kNoFoxio: cfg.foxio = false; break;
            case kNoRaw: cfg.raw = false; break;
            case kStats: stats = true; break;
            case 'h': usage(stdout); return 0;
            default: usage(stderr); return 64;
        }
    }
    if (ifname.empty() || optind != argc) {
        usage(stderr);
        return 64;
    }
    if (ports.empty()) ports = {443, 8443};

    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);
    const auto deadline = std::chrono::steady_clock::now() +
                          std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000));
    auto done = [&] {
        return g_stop.load() || (seconds > 0 && std::chrono::steady_clock::now() >= deadline);
    };

    JsonLinesOut out(true);
    try {
        std::optional<capture::EbpfCapture> ebpf;
        if (mode != Mode::Pcap) {
            try {
                capture::EbpfConfig ec;
                ec.tcp_ports = ec.udp_ports = ports;
                ec.interface = ifname;
                ebpf.emplace(ec);
            } catch (const capture::EbpfError& e) {
                if (mode == Mode::Ebpf) throw;
                std::fprintf(stderr,
                             "sybilwatch capture: warning: eBPF unavailable (%s); using libpcap\n",
                             e.what());
            }
        }
        if (ebpf) {
            // The kernel counts cadence over the whole connection and ends flows (FIN, RST, its
            // idle sweep); the engine sees only handshake packets, so it must not time them out.
            cfg.cadence_from_packets = false;
            cfg.tcp_idle_ns = cfg.udp_idle_ns = INT64_MAX / 4;
            fingerprint::Engine engine(cfg, out);
            EngineFeed feed(engine);
            while (!done()) ebpf->poll(100, feed);
            ebpf->consume(feed);
            engine.flush(fingerprint::EndReason::Open);
            if (stats) {
                const auto c = ebpf->counters();
                std::fprintf(stderr,
                             "ebpf: packets=%llu matched=%llu packet_events=%llu "
                             "flow_end_events=%llu packet_drops=%llu flow_end_drops=%llu "
                             "flows_created=%llu insert_failures=%llu evictions=%llu "
                             "hello_lost_flows=%llu nonlinear=%llu truncated=%llu "
                             "events_received=%llu malformed_events=%llu observations=%llu "
                             "observations_with_ja4=%llu\n",
                             (unsigned long long)c.packets, (unsigned long long)c.matched,
                             (unsigned long long)c.packet_events,
                             (unsigned long long)c.flow_end_events,
                             (unsigned long long)c.packet_drops,
                             (unsigned long long)c.flow_end_drops,
                             (unsigned long long)c.flows_created,
                             (unsigned long long)c.flow_insert_failures,
                             (unsigned long long)c.flow_evictions,
                             (unsigned long long)c.hello_lost_flows,
                             (unsigned long long)c.nonlinear, (unsigned long long)c.truncated,
                             (unsigned long long)c.events_received,
                             (unsigned long long)c.malformed_events,
                             (unsigned long long)engine.stats().observations,
                             (unsigned long long)engine.stats().client_hellos);
            }
        } else {
            capture::PcapLive live(ifname, ports, ports);
            fingerprint::Engine engine(cfg, out);
            auto feed = [&](const capture::Frame& f) {
                engine.on_frame(f.link, f.ts_ns, f.data, f.wire_len);
            };
            while (!done()) {
                if (live.poll(100, feed) < 0) throw std::runtime_error(ifname + ": " + live.error());
            }
            engine.flush(fingerprint::EndReason::Open);
            if (stats) {
                const auto s = live.stats();
                std::fprintf(stderr, "pcap: received=%llu kernel_dropped=%llu if_dropped=%llu observations=%llu\n",
                             (unsigned long long)s.received, (unsigned long long)s.kernel_dropped,
                             (unsigned long long)s.if_dropped,
                             (unsigned long long)engine.stats().observations);
            }
        }
    } catch (const std::exception& e) {
        out.flush();
        std::fprintf(stderr, "sybilwatch capture: error: %s\n", e.what());
        return 1;
    }
    return 0;
}

}  // namespace sybilwatch::cli
