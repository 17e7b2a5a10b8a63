#include "service/signal_flags.hpp"

#include <csignal>

namespace sybilwatch::service {

namespace {

volatile std::sig_atomic_t g_stop = 0;
volatile std::sig_atomic_t g_reload = 0;

void on_signal(int sig) {
    if (sig == SIGHUP)
        g_reload = 1;
    else
        g_stop = 1;
}

}  // namespace

void install_signal_flags() {
    struct sigaction sa {};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    // No SA_RESTART: a blocking wait returns at once and the loop sees the flag.
    sigaction(SIGTERM, &sa, nullptr);
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGHUP, &sa, nullptr);
    std::signal(SIGPIPE, SIG_IGN);
}

bool stop_requested() {
    return g_stop != 0;
}

bool take_reload_request() {
    if (!g_reload) return false;
    g_reload = 0;
    return true;
}

void request_stop() {
    g_stop = 1;
}

}  // namespace sybilwatch::service
