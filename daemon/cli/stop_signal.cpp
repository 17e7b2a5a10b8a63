#include "stop_signal.hpp"

#include <atomic>
#include <csignal>
#include <cstdint>

namespace sybilwatch::cli {

namespace {
std::atomic<bool> g_stop{false};
void on_signal(int) {
    g_stop = true;
}
}  // namespace

void catch_stop_signals() {
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);
}

bool stop_requested() {
    return g_stop.load();
}

RunFor::RunFor(double seconds)
    : timed_(seconds > 0),
      deadline_(std::chrono::steady_clock::now() +
                std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000))) {}

bool RunFor::done() const {
    return stop_requested() || (timed_ && std::chrono::steady_clock::now() >= deadline_);
}

}  // namespace sybilwatch::cli
