#include "identity/datagram_source.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "identity/syslog_header.hpp"

namespace sybilwatch::identity {
namespace {

// Counts what passes to the caller's sink.
class Counting : public LineSink {
  public:
    Counting(LineSink& out, DatagramSourceStats& s) : out_(out), s_(s) {}
    void on_line(std::string_view line) override {
        ++s_.lines;
        out_.on_line(line);
    }
    void on_line_too_long() override {
        ++s_.too_long;
        out_.on_line_too_long();
    }

  private:
    LineSink& out_;
    DatagramSourceStats& s_;
};

}  // namespace

DatagramSource::DatagramSource(DatagramSourceConfig cfg)
    : cfg_(std::move(cfg)), lines_(cfg_.max_line) {
    fd_ = bind_unix_socket(cfg_.socket, SOCK_DGRAM);
    if (cfg_.receive_buffer > 0)
        ::setsockopt(fd_.get(), SOL_SOCKET, SO_RCVBUF, &cfg_.receive_buffer,
                     sizeof(cfg_.receive_buffer));
    // Room for the longest line, a syslog header and the newline; one byte more tells a
    // datagram that was cut (MSG_TRUNC reports it too).
    buf_.resize(cfg_.max_line + 512);
}

DatagramSource::~DatagramSource() {
    ::unlink(cfg_.socket.path.c_str());
}

size_t DatagramSource::poll(int timeout_ms, LineSink& sink) {
    if (timeout_ms != 0) {
        pollfd p{fd_.get(), POLLIN, 0};
        while (::poll(&p, 1, timeout_ms) < 0 && errno == EINTR) {
        }
    }
    Counting counting(sink, stats_);
    const uint64_t before = stats_.lines;
    for (uint32_t i = 0; i < cfg_.max_datagrams; ++i) {
        const ssize_t n = ::recv(fd_.get(), buf_.data(), buf_.size(), MSG_DONTWAIT | MSG_TRUNC);
        if (n < 0) {
            if (errno == EINTR) continue;
            break;  // EAGAIN: nothing more
        }
        ++stats_.datagrams;
        stats_.bytes += static_cast<uint64_t>(n);
        if (static_cast<size_t>(n) > buf_.size()) {
            counting.on_line_too_long();
            continue;
        }
        lines_.feed(strip_syslog_header(std::string_view(buf_.data(), static_cast<size_t>(n))),
                    counting);
        lines_.finish(counting);
    }
    return static_cast<size_t>(stats_.lines - before);
}

}  // namespace sybilwatch::identity
