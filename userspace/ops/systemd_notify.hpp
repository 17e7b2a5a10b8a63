// The service manager protocol (sd_notify): READY once the hooks are attached, STATUS text,
// WATCHDOG pings at half the configured interval, RELOADING/STOPPING around reloads and
// shutdown. Every call is a no-op when the daemon was not started by systemd.
#pragma once

#include <chrono>
#include <string_view>

namespace sybilwatch::ops {

class SystemdNotify {
  public:
    SystemdNotify();

    bool under_systemd() const { return under_systemd_; }
    void ready(std::string_view status);
    void status(std::string_view text);
    void reloading();
    void reloaded(std::string_view status);
    void stopping();
    // Pings the watchdog when half its interval has passed since the last ping.
    void watchdog_tick();
    std::chrono::microseconds watchdog_interval() const { return watchdog_; }

  private:
    void send(std::string_view text);
    bool under_systemd_ = false;
    std::chrono::microseconds watchdog_{0};
    std::chrono::steady_clock::time_point last_ping_{};
};

}  // namespace sybilwatch::ops
