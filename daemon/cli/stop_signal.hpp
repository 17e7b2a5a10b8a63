// SIGINT and SIGTERM end a command's loop cleanly (hooks detached, output flushed), shared by
// the long-running commands.
#pragma once

#include <chrono>

namespace sybilwatch::cli {

// Installs the handlers; stop_requested() is true once either signal arrived.
void catch_stop_signals();
bool stop_requested();

// A run that ends on a stop signal or, when seconds > 0, after that long.
class RunFor {
  public:
    explicit RunFor(double seconds);
    bool done() const;

  private:
    bool timed_;
    std::chrono::steady_clock::time_point deadline_;
};

}  // namespace sybilwatch::cli
