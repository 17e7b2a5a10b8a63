// Attribution records over a Unix stream socket: the gateway (or a log shipper) connects and
// writes JSON lines. Several clients at once, each with its own bounded line buffer; all
// sockets are non-blocking and watched by one epoll instance, whose descriptor the daemon's
// event loop can wait on. Each poll does a bounded amount of work, so a client that writes
// without pause cannot hold up the pipeline.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "identity/line_sink.hpp"
#include "identity/line_splitter.hpp"
#include "identity/unix_socket.hpp"

namespace sybilwatch::identity {

struct SocketSourceConfig {
    UnixSocketOptions socket;         // path, mode (0660), group
    uint32_t max_clients = 64;        // more are accepted and closed at once (counted)
    size_t max_line = 64 * 1024;      // per client: a longer line is dropped, the client kept
    size_t read_budget = 256 * 1024;  // bytes read from one client per poll
};

struct SocketSourceStats {
    uint64_t accepted = 0;
    uint64_t refused = 0;  // over max_clients
    uint64_t disconnected = 0;
    uint64_t read_errors = 0;  // connections closed after a read error
    uint64_t bytes = 0;
    uint64_t lines = 0;
    uint64_t too_long = 0;
};

class SocketSource {
  public:
    // Binds and listens. Throws std::runtime_error when the socket cannot be set up.
    explicit SocketSource(SocketSourceConfig cfg);
    ~SocketSource();  // closes every connection and removes the socket file
    SocketSource(const SocketSource&) = delete;
    SocketSource& operator=(const SocketSource&) = delete;

    // Readable when there is something for poll() to do.
    int fd() const { return epoll_.get(); }

    // Waits up to timeout_ms (0: not at all) for activity, then accepts new clients and reads
    // what is there, delivering lines to `sink`. Returns the number of lines delivered.
    size_t poll(int timeout_ms, LineSink& sink);

    uint32_t clients() const { return clients_; }
    const SocketSourceStats& stats() const { return stats_; }
    const std::string& path() const { return cfg_.socket.path; }

  private:
    struct Client {
        Fd fd;
        LineSplitter lines;
        explicit Client(size_t max_line) : lines(max_line) {}
    };
    class CountingSink;

    void accept_all();
    void read_client(uint32_t slot, CountingSink& sink);
    void drop(uint32_t slot);

    SocketSourceConfig cfg_;
    Fd listen_;
    Fd epoll_;
    std::vector<std::unique_ptr<Client>> slots_;  // max_clients slots, created on first use
    std::vector<uint32_t> free_;
    uint32_t clients_ = 0;
    std::vector<char> buf_;
    SocketSourceStats stats_;
};

}  // namespace sybilwatch::identity
