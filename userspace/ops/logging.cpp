#include "ops/logging.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/sinks/systemd_sink.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>
#include <string>

namespace sybilwatch::ops {

bool stderr_is_journal() {
    const char* js = std::getenv("JOURNAL_STREAM");
    if (!js) return false;
    unsigned long long dev = 0, ino = 0;
    if (std::sscanf(js, "%llu:%llu", &dev, &ino) != 2) return false;
    struct stat st;
    if (::fstat(2, &st) != 0) return false;
    return st.st_dev == dev && st.st_ino == ino;
}

void set_log_level(std::string_view level) {
    spdlog::set_level(spdlog::level::from_str(std::string(level)));
}

void setup_logging(std::string_view level) {
    std::shared_ptr<spdlog::logger> logger;
    if (stderr_is_journal()) {
        // The journal records time and priority itself; SYSLOG_IDENTIFIER is the unit's name.
        logger = std::make_shared<spdlog::logger>(
            "sybilwatchd", std::make_shared<spdlog::sinks::systemd_sink_mt>("sybilwatchd"));
        logger->set_pattern("%v");
    } else {
        logger = std::make_shared<spdlog::logger>(
            "sybilwatchd", std::make_shared<spdlog::sinks::stderr_color_sink_mt>());
        logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e%z %^%l%$ %v");
    }
    logger->flush_on(spdlog::level::info);
    spdlog::set_default_logger(std::move(logger));
    set_log_level(level);
}

}  // namespace sybilwatch::ops
