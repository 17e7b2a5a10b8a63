// sybilwatch fingerprint PCAP...: every connection of the captures as a JSON line.
#include <getopt.h>

#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>

#include "capture/pcap_file.hpp"
#include "commands.hpp"
#include "fingerprint/engine.hpp"
#include "json_lines_out.hpp"

namespace sybilwatch::cli {

namespace {

void usage(FILE* out) {
    std::fputs(
        "usage: sybilwatch fingerprint [OPTIONS] PCAP...\n"
        "\n"
        "Prints one JSON object per line for every TCP connection and every QUIC or DTLS\n"
        "handshake in the captures (pcap or pcapng): ts, transport, src (the initiator),\n"
        "src_port, dst, dst_port, sni, alpn, ja4, ja4_r, ja4_o, ja4_ro, ja3, ja3_full, ja4s,\n"
        "ja4s_r, ja4t, ja4ts, ja4l_c, ja4l_s, tcp_sig, then timing and cadence. A value that\n"
        "could not be computed is left out.\n"
        "\n"
        "options:\n"
        "  --no-foxio        leave out JA4S, JA4T, JA4TS and JA4L (FoxIO License 1.1)\n"
        "  --no-raw          leave out ja4_r, ja4_ro, ja3_full and ja4s_r\n"
        "  --emit WHEN       close (default): when the connection ends, with its whole cadence;\n"
        "                    handshake: as soon as both hellos are seen\n"
        "  --max-flows N     connections tracked at once (default 65536); the oldest is\n"
        "                    reported early when full\n"
        "  --stats           print the engine's counters to stderr after each file\n"
        "\n"
        "exit status: 0 all captures read; 1 a capture could not be opened or read;\n"
        "             2 a capture was truncated (every complete connection is still printed)\n",
        out);
}

void print_stats(const std::string& path, const fingerprint::EngineStats& s) {
    std::fprintf(stderr,
                 "%s: packets=%llu flows=%llu observations=%llu client_hellos=%llu "
                 "server_hellos=%llu hello_errors=%llu decode_errors=%llu not_ip=%llu "
                 "unsupported=%llu evicted=%llu expired=%llu reassembly_no_memory=%llu "
                 "reassembly_fragmented=%llu quic_failures=%llu\n",
                 path.c_str(), (unsigned long long)s.packets, (unsigned long long)s.flows,
                 (unsigned long long)s.observations, (unsigned long long)s.client_hellos,
                 (unsigned long long)s.server_hellos, (unsigned long long)s.hello_errors,
                 (unsigned long long)s.decode_errors, (unsigned long long)s.not_ip,
                 (unsigned long long)s.unsupported, (unsigned long long)s.flows_evicted,
                 (unsigned long long)s.flows_expired, (unsigned long long)s.reassembly_no_memory,
                 (unsigned long long)s.reassembly_fragmented, (unsigned long long)s.quic_failures);
}

}  // namespace

int fingerprint_command(int argc, char** argv) {
    fingerprint::EngineConfig cfg;
    bool stats = false;
    enum { kNoFoxio = 1000, kNoRaw, kEmit, kMaxFlows, kStats };
    static const option opts[] = {
        {"no-foxio", no_argument, nullptr, kNoFoxio},
        {"no-raw", no_argument, nullptr, kNoRaw},
        {"emit", required_argument, nullptr, kEmit},
        {"max-flows", required_argument, nullptr, kMaxFlows},
        {"stats", no_argument, nullptr, kStats},
        {"help", no_argument, nullptr, 'h'},
        {nullptr, 0, nullptr, 0},
    };
    optind = 1;
    for (int c; (c = getopt_long(argc, argv, "h", opts, nullptr)) != -1;) {
        switch (c) {
            case kNoFoxio:
                cfg.foxio = false;
                break;
            case kNoRaw:
                cfg.raw = false;
                break;
            case kEmit:
                if (std::string(optarg) == "close")
                    cfg.emit = fingerprint::EmitAt::Close;
                else if (std::string(optarg) == "handshake")
                    cfg.emit = fingerprint::EmitAt::Handshake;
                else {
                    std::fprintf(stderr,
                                 "sybilwatch fingerprint: --emit takes close or handshake\n");
                    return 64;
                }
                break;
            case kMaxFlows: {
                char* end = nullptr;
                const unsigned long n = std::strtoul(optarg, &end, 10);
                if (!end || *end || n == 0 || n > (1ul << 24)) {
                    std::fprintf(stderr, "sybilwatch fingerprint: --max-flows takes 1..16777216\n");
                    return 64;
                }
                cfg.max_flows = static_cast<uint32_t>(n);
                break;
            }
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
    if (optind >= argc) {
        usage(stderr);
        return 64;
    }

    int rc = 0;
    JsonLinesOut out(false);
    for (int i = optind; i < argc; ++i) {
        const std::string path = argv[i];
        try {
            capture::PcapFile file(path);
            fingerprint::Engine engine(cfg, out);
            capture::EngineFeed feed(engine);
            while (file.poll(0, feed) >= 0) {
            }
            engine.flush();
            out.flush();
            if (!file.error().empty()) {
                std::fprintf(stderr,
                             "sybilwatch fingerprint: warning: %s (capture truncated after %llu "
                             "frames; complete connections printed)\n",
                             file.error().c_str(), (unsigned long long)file.frames());
                if (rc == 0) rc = 2;
            }
            if (stats) print_stats(path, engine.stats());
        } catch (const std::exception& e) {
            out.flush();
            std::fprintf(stderr, "sybilwatch fingerprint: error: %s\n", e.what());
            rc = 1;
        }
    }
    return rc;
}

}  // namespace sybilwatch::cli
