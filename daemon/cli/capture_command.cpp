// sybilwatch capture --interface IF: live connections as JSON lines, each printed as soon as
// its handshake is fingerprinted. eBPF on the TC hooks by default; libpcap as the fallback.
#include <getopt.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "capture/ebpf_capture.hpp"
#include "capture/pcap_live.hpp"
#include "commands.hpp"
#include "json_lines_out.hpp"
#include "stop_signal.hpp"

namespace sybilwatch::cli {

namespace {

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
        {"interface", required_argument, nullptr, 'i'},
        {"ebpf", no_argument, nullptr, kEbpf},
        {"pcap", no_argument, nullptr, kPcap},
        {"port", required_argument, nullptr, kPort},
        {"seconds", required_argument, nullptr, kSeconds},
        {"no-foxio", no_argument, nullptr, kNoFoxio},
        {"no-raw", no_argument, nullptr, kNoRaw},
        {"stats", no_argument, nullptr, kStats},
        {"help", no_argument, nullptr, 'h'},
        {nullptr, 0, nullptr, 0},
    };
    optind = 1;
    for (int c; (c = getopt_long(argc, argv, "hi:", opts, nullptr)) != -1;) {
        switch (c) {
            case 'i':
                ifname = optarg;
                break;
            case kEbpf:
                mode = Mode::Ebpf;
                break;
            case kPcap:
                mode = Mode::Pcap;
                break;
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
            case kNoFoxio:
                cfg.foxio = false;
                break;
            case kNoRaw:
                cfg.raw = false;
                break;
            case kStats:
                stats = true;
                break;
            case 'h':
                usage(stdout);
                return 0;
            default:
                usage(stderr);
                return 64;
        }
    }
    if (ifname.empty() || optind != argc) {
        usage(stderr);
        return 64;
    }
    if (ports.empty()) ports = {443, 8443};

    catch_stop_signals();
    const RunFor run(seconds);
    auto done = [&] { return run.done(); };

    JsonLinesOut out(true);
    try {
        std::unique_ptr<capture::Source> source;
        if (mode != Mode::Pcap) {
            try {
                capture::EbpfConfig ec;
                ec.tcp_ports = ec.udp_ports = ports;
                ec.interface = ifname;
                source = std::make_unique<capture::EbpfCapture>(ec);
            } catch (const capture::EbpfError& e) {
                if (mode == Mode::Ebpf) throw;
                std::fprintf(stderr,
                             "sybilwatch capture: warning: eBPF unavailable (%s); using libpcap\n",
                             e.what());
            }
        }
        if (!source) source = std::make_unique<capture::PcapLive>(ifname, ports, ports);
        if (!source->sees_every_packet()) {
            // The kernel counts cadence over the whole connection and ends flows (FIN, RST, its
            // idle sweep); the engine sees only handshake packets, so it must not time them out.
            cfg.cadence_from_packets = false;
            cfg.tcp_idle_ns = cfg.udp_idle_ns = INT64_MAX / 4;
        }
        fingerprint::Engine engine(cfg, out);
        capture::EngineFeed feed(engine);
        while (!done())
            source->poll(100, feed);
        while (source->poll(0, feed) > 0) {
        }  // what is already queued
        engine.flush(fingerprint::EndReason::Open);
        if (stats) {
            std::fprintf(stderr, "%s: %s observations=%llu observations_with_ja4=%llu\n",
                         source->sees_every_packet() ? "pcap" : "ebpf", source->stats().c_str(),
                         (unsigned long long)engine.stats().observations,
                         (unsigned long long)engine.stats().client_hellos);
        }
    } catch (const std::exception& e) {
        out.flush();
        std::fprintf(stderr, "sybilwatch capture: error: %s\n", e.what());
        return 1;
    }
    return 0;
}

}  // namespace sybilwatch::cli
