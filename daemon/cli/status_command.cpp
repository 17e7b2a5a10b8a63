// sybilwatch status: asks the running daemon over its control socket and prints its health and
// counters (JSON with --json).
#include <getopt.h>

#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

#include "commands.hpp"
#include "ops/control_socket.hpp"

namespace sybilwatch::cli {

namespace {

void usage(FILE* out) {
    std::fputs(
        "usage: sybilwatch status [--socket PATH] [--json]\n"
        "\n"
        "Health and counters of the running sybilwatchd.\n"
        "  --socket PATH  control socket (default /run/sybilwatch/control.sock)\n"
        "  --json         the daemon's answer as it is\n",
        out);
}

}  // namespace

int status_command(int argc, char** argv) {
    std::string path = "/run/sybilwatch/control.sock";
    bool json = false;
    enum { kSocket = 1000, kJson };
    static const option opts[] = {
        {"socket", required_argument, nullptr, kSocket},
        {"json", no_argument, nullptr, kJson},
        {"help", no_argument, nullptr, 'h'},
        {nullptr, 0, nullptr, 0},
    };
    optind = 1;
    for (int c; (c = getopt_long(argc, argv, "h", opts, nullptr)) != -1;) {
        switch (c) {
            case kSocket:
                path = optarg;
                break;
            case kJson:
                json = true;
                break;
            case 'h':
                usage(stdout);
                return 0;
            default:
                usage(stderr);
                return 64;
        }
    }
    std::string reply;
    try {
        reply = ops::control_request(path, "status");
    } catch (const std::exception& e) {
        std::fprintf(stderr, "sybilwatch status: %s\n", e.what());
        return 1;
    }
    if (json) {
        std::fputs(reply.c_str(), stdout);
        return 0;
    }
    const auto j = nlohmann::ordered_json::parse(reply, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
        std::fprintf(stderr, "sybilwatch status: the daemon's answer is not JSON\n");
        return 1;
    }
    auto str = [&](const char* k) { return j.contains(k) ? j[k].dump() : std::string("-"); };
    std::printf("health:   %s\n", j.value("health", "?").c_str());
    for (const auto& p : j.value("problems", nlohmann::ordered_json::array()))
        std::printf("  - %s\n", p.get<std::string>().c_str());
    std::printf("version:  %s   pid %s   up %ss\n", j.value("version", "?").c_str(),
                str("pid").c_str(), str("uptime_seconds").c_str());
    std::printf("config:   %s\n", j.value("config", "?").c_str());
    std::printf("capture:  %s\n", j.value("capture", "?").c_str());
    std::printf("\n");
    if (j.contains("metrics"))
        for (const auto& [k, v] : j["metrics"].items())
            std::printf("%-64s %s\n", k.c_str(), v.dump().c_str());
    return j.value("health", "") == "ok" ? 0 : 2;
}

}  // namespace sybilwatch::cli
