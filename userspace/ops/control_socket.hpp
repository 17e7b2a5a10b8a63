// The daemon's control socket (/run/sybilwatch/control.sock): a client writes one command line
// ("status"), the daemon answers with one JSON document and closes. `sybilwatch status` is the
// client. The socket's mode keeps it to root and the sybilwatch group.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <string>
#include <string_view>

#include "ops/request_server.hpp"

namespace sybilwatch::ops {

class ControlServer {
  public:
    // Gets the command (without the newline), returns the reply.
    using Handler = std::function<std::string(std::string_view command)>;

    // Binds path (a stale socket from a crashed daemon is replaced, a live one is refused).
    // Throws std::runtime_error.
    ControlServer(const std::string& path, mode_t mode, Handler handler);
    ~ControlServer();  // removes the socket file

    ControlServer(const ControlServer&) = delete;
    ControlServer& operator=(const ControlServer&) = delete;

    int fd() const { return server_.fd(); }
    void poll(int timeout_ms) { server_.poll(timeout_ms); }
    const std::string& path() const { return path_; }

  private:
    std::string path_;
    RequestServer server_;
};

// Sends `command` and returns the whole reply. Throws std::runtime_error when the daemon is
// not there or does not answer within `timeout`.
std::string control_request(const std::string& path, std::string_view command,
                            std::chrono::milliseconds timeout = std::chrono::milliseconds(3000));

}  // namespace sybilwatch::ops
