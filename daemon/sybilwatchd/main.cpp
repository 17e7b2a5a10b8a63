// sybilwatchd: parses the command line and hands over to service::Daemon, which wires the
// libraries together (see docs/architecture.md).
#include <getopt.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <string>

#include "config/load_config.hpp"
#include "ops/logging.hpp"
#include "service/daemon.hpp"
#include "service/rules_stage.hpp"

namespace {

void usage(FILE* out) {
    std::fputs(
        "usage: sybilwatchd [--config FILE] [--pcap FILE] [--check-config]\n"
        "\n"
        "Fingerprints this host's TLS/QUIC connections in the kernel, joins them with the\n"
        "accounts that used them, and reports account farms.\n"
        "\n"
        "  -c, --config FILE  YAML configuration (default: built-in defaults; see\n"
        "                     docs/config.md and /etc/sybilwatch/sybilwatch.yaml)\n"
        "  --pcap FILE        replay a capture through the pipeline instead of capturing live,\n"
        "                     then exit\n"
        "  --check-config     validate the configuration and exit (0: valid)\n"
        "  --version\n",
        out);
}

}  // namespace

int main(int argc, char** argv) {
    sybilwatch::service::DaemonOptions opt;
    bool check_only = false;
    enum { kPcap = 1000, kCheck, kVersion };
    static const option opts[] = {
        {"config", required_argument, nullptr, 'c'},
        {"pcap", required_argument, nullptr, kPcap},
        {"check-config", no_argument, nullptr, kCheck},
        {"version", no_argument, nullptr, kVersion},
        {"help", no_argument, nullptr, 'h'},
        {nullptr, 0, nullptr, 0},
    };
    for (int c; (c = getopt_long(argc, argv, "c:h", opts, nullptr)) != -1;) {
        switch (c) {
            case 'c':
                opt.config_path = optarg;
                break;
            case kPcap:
                opt.pcap_file = optarg;
                break;
            case kCheck:
                check_only = true;
                break;
            case kVersion:
                std::printf("sybilwatchd %s\n", SW_VERSION);
                return 0;
            case 'h':
                usage(stdout);
                return 0;
            default:
                usage(stderr);
                return 64;
        }
    }
    if (optind != argc) {
        usage(stderr);
        return 64;
    }
    sybilwatch::ops::setup_logging("info");
    try {
        sybilwatch::service::Daemon daemon(opt);
        if (check_only) {
            (void)sybilwatch::service::load_configured_rules(daemon.config());
            std::printf("%s: valid\n",
                        opt.config_path.empty() ? "defaults" : opt.config_path.c_str());
            return 0;
        }
        sybilwatch::ops::set_log_level(sybilwatch::config::to_string(daemon.config().log.level));
        sybilwatch::service::RulesStage rules(daemon.config());
        return daemon.run(&rules);
    } catch (const sybilwatch::config::ConfigError& e) {
        spdlog::critical("{}", e.what());
        return 78;  // EX_CONFIG: systemd's Restart=on-failure will not loop on a bad file
    } catch (const sybilwatch::service::RulesError& e) {
        spdlog::critical("{}", e.what());
        return 78;
    } catch (const std::exception& e) {
        spdlog::critical("{}", e.what());
        return 1;
    }
}
