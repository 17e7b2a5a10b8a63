#include "ops/systemd_notify.hpp"

#include <systemd/sd-daemon.h>

#include <cstdlib>
#include <string>

namespace sybilwatch::ops {

SystemdNotify::SystemdNotify() {
    under_systemd_ = std::getenv("NOTIFY_SOCKET") != nullptr;
    uint64_t usec = 0;
    if (sd_watchdog_enabled(0, &usec) > 0) watchdog_ = std::chrono::microseconds(usec);
}

void SystemdNotify::send(std::string_view text) {
    if (!under_systemd_) return;
    const std::string s(text);
    sd_notify(0, s.c_str());
}

void SystemdNotify::ready(std::string_view status) {
    send("READY=1\nSTATUS=" + std::string(status));
    last_ping_ = std::chrono::steady_clock::now();
}

void SystemdNotify::status(std::string_view text) {
    send("STATUS=" + std::string(text));
}

void SystemdNotify::reloading() {
    send("RELOADING=1");
}

void SystemdNotify::reloaded(std::string_view status) {
    send("READY=1\nSTATUS=" + std::string(status));
}

void SystemdNotify::stopping() {
    send("STOPPING=1\nSTATUS=stopping");
}

void SystemdNotify::watchdog_tick() {
    if (watchdog_.count() == 0) return;
    const auto now = std::chrono::steady_clock::now();
    if (now - last_ping_ < watchdog_ / 2) return;
    last_ping_ = now;
    send("WATCHDOG=1");
}

}  // namespace sybilwatch::ops
