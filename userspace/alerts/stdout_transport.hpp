// StdoutTransport: one line per finding on standard output (or any descriptor: a pipe in
// tests), for `sybilwatchd --foreground` under a supervisor that collects stdout.
#pragma once

#include <unistd.h>

#include <mutex>
#include <string>

#include "alerts/transport.hpp"

namespace sybilwatch::alerts {

class StdoutTransport : public Transport {
  public:
    explicit StdoutTransport(int fd = STDOUT_FILENO) : fd_(fd) {}

    // Whole lines only are counted; a reader that went away (EPIPE) is a shortfall, not a
    // SIGPIPE for the daemon.
    size_t send(std::span<const std::string_view> payloads, std::string& error) override;
    std::string_view name() const override { return "stdout"; }

  private:
    const int fd_;
    std::mutex mu_;
    std::string buf_;
};

}  // namespace sybilwatch::alerts
