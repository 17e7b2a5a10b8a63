// A small request/response server for the daemon's operator interfaces (the metrics endpoint,
// the control socket): accepts on a listening socket, reads one request per connection, writes
// the handler's reply and closes. Non-blocking and bounded (clients, request size, time), so a
// client that connects and says nothing, or floods, cannot hold up the daemon.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "net/unique_fd.hpp"

namespace sybilwatch::ops {

struct RequestServerLimits {
    size_t max_request = 8192;  // a longer request is answered with `too_large` (if any), closed
    uint32_t max_clients = 32;  // more are accepted and closed at once
    std::chrono::milliseconds timeout{2000};  // to read the request and write the reply
};

struct RequestServerStats {
    uint64_t requests = 0;  // answered
    uint64_t refused = 0;   // over max_clients
    uint64_t timeouts = 0;
    uint64_t too_large = 0;
};

class RequestServer {
  public:
    // Whether the bytes read so far hold a whole request.
    using IsComplete = std::function<bool(std::string_view)>;
    using Handler = std::function<std::string(std::string_view request)>;

    // `listener` is a bound, listening, non-blocking socket (TCP or Unix). `too_large` is sent
    // to a client whose request exceeds max_request ("" = just close).
    RequestServer(net::UniqueFd listener, IsComplete complete, Handler handler,
                  RequestServerLimits limits = {}, std::string too_large = {});

    // Readable when poll() has something to do.
    int fd() const { return epoll_.get(); }
    // Waits up to timeout_ms, then accepts, reads, answers and expires clients.
    void poll(int timeout_ms);

    const RequestServerStats& stats() const { return stats_; }
    uint32_t clients() const { return static_cast<uint32_t>(clients_.size()); }

  private:
    struct Client {
        net::UniqueFd fd;
        std::string in, out;
        size_t sent = 0;
        std::chrono::steady_clock::time_point deadline;
        bool replying = false;
    };

    void accept_all();
    // Returns false when the client is done (closed).
    bool serve(Client& c);
    bool flush(Client& c);
    void watch(const Client& c, bool for_write);

    net::UniqueFd listener_, epoll_;
    IsComplete complete_;
    Handler handler_;
    RequestServerLimits limits_;
    std::string too_large_;
    std::vector<Client> clients_;
    RequestServerStats stats_;
};

}  // namespace sybilwatch::ops
