// sybilwatch: the command-line tool. Dispatches to a subcommand.
#include <cstdio>
#include <cstring>
#include <string_view>

#include "commands.hpp"

namespace {

void usage(FILE* out) {
    std::fputs(
        "usage: sybilwatch COMMAND [ARGS]\n"
        "\n"
        "commands:\n"
        "  fingerprint PCAP...   one JSON line per connection (JA4 family, JA3, TCP signature)\n"
        "  capture -i IF         the same for live connections (eBPF, or libpcap)\n"
        "  tail [-f]             observations from sybilwatchd's shared-memory ring\n"
        "  top                   busiest fingerprints, accounts and networks, live\n"
        "  rules check PATH...   validate rule files and directories\n"
        "  rules test PATH...    run a rule pack's test cases\n"
        "  replay --pcap F --identity F   capture, attribution and rules offline\n"
        "  status                health and counters of the running sybilwatchd\n"
        "\n"
        "Run 'sybilwatch COMMAND --help' for a command's options.\n",
        out);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        usage(stderr);
        return 64;
    }
    const std::string_view cmd = argv[1];
    if (cmd == "-h" || cmd == "--help" || cmd == "help") {
        usage(stdout);
        return 0;
    }
    if (cmd == "--version") {
        std::puts("sybilwatch " SW_VERSION);
        return 0;
    }
    if (cmd == "fingerprint") return sybilwatch::cli::fingerprint_command(argc - 1, argv + 1);
    if (cmd == "capture") return sybilwatch::cli::capture_command(argc - 1, argv + 1);
    if (cmd == "tail") return sybilwatch::cli::tail_command(argc - 1, argv + 1);
    if (cmd == "top") return sybilwatch::cli::top_command(argc - 1, argv + 1);
    if (cmd == "rules" && argc > 2 && std::string_view(argv[2]) == "test")
        return sybilwatch::cli::rules_test_command(argc - 2, argv + 2);
    if (cmd == "rules") return sybilwatch::cli::rules_command(argc - 1, argv + 1);
    if (cmd == "replay") return sybilwatch::cli::replay_command(argc - 1, argv + 1);
    if (cmd == "status") return sybilwatch::cli::status_command(argc - 1, argv + 1);
    std::fprintf(stderr, "sybilwatch: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 64;
}
