// Attribution records as Unix datagrams: what nginx sends with
// `access_log syslog:server=unix:/run/sybilwatch/attribution.dgram`. Each datagram holds one
// line (or several, newline-separated), optionally behind a syslog header that is stripped.
// Datagrams never split a line, so there is no per-sender state; a datagram longer than the
// line cap is dropped whole and counted.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "identity/line_sink.hpp"
#include "identity/line_splitter.hpp"
#include "identity/unix_socket.hpp"

namespace sybilwatch::identity {

struct DatagramSourceConfig {
    UnixSocketOptions socket;
    size_t max_line = 64 * 1024;
    uint32_t max_datagrams = 1024;  // per poll
    int receive_buffer = 4 << 20;   // SO_RCVBUF: bursts wait in the kernel, not at the sender
};

struct DatagramSourceStats {
    uint64_t datagrams = 0;
    uint64_t bytes = 0;
    uint64_t lines = 0;
    uint64_t too_long = 0;
};

class DatagramSource {
  public:
    // Throws std::runtime_error when the socket cannot be set up.
    explicit DatagramSource(DatagramSourceConfig cfg);
    ~DatagramSource();  // removes the socket file
    DatagramSource(const DatagramSource&) = delete;
    DatagramSource& operator=(const DatagramSource&) = delete;

    int fd() const { return fd_.get(); }
    // Waits up to timeout_ms for a datagram, then reads up to max_datagrams. Returns the number
    // of lines delivered.
    size_t poll(int timeout_ms, LineSink& sink);

    const DatagramSourceStats& stats() const { return stats_; }

  private:
    DatagramSourceConfig cfg_;
    Fd fd_;
    std::vector<char> buf_;
    LineSplitter lines_;
    DatagramSourceStats stats_;
};

}  // namespace sybilwatch::identity
