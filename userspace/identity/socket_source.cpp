#include "identity/socket_source.hpp"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace sybilwatch::identity {
namespace {

constexpr uint64_t kListener = UINT64_MAX;
constexpr int kMaxEvents = 64;
constexpr int kAcceptsPerPoll = 64;

}  // namespace

// Counts what passes to the caller's sink.
class SocketSource::CountingSink : public LineSink {
  public:
    CountingSink(LineSink& out, SocketSourceStats& stats) : out_(out), stats_(stats) {}
    void on_line(std::string_view line) override {
        ++stats_.lines;
        out_.on_line(line);
    }
    void on_line_too_long() override {
        ++stats_.too_long;
        out_.on_line_too_long();
    }

  private:
    LineSink& out_;
    SocketSourceStats& stats_;
};

SocketSource::SocketSource(SocketSourceConfig cfg) : cfg_(std::move(cfg)) {
    if (cfg_.max_clients == 0) throw std::runtime_error("attribution socket: max_clients is 0");
    listen_ = bind_unix_socket(cfg_.socket, SOCK_STREAM);
    epoll_ = Fd(::epoll_create1(EPOLL_CLOEXEC));
    if (!epoll_) throw std::runtime_error(std::string("epoll_create1: ") + std::strerror(errno));
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = kListener;
    if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, listen_.get(), &ev) != 0)
        throw std::runtime_error(std::string("epoll_ctl: ") + std::strerror(errno));
    slots_.resize(cfg_.max_clients);
    for (uint32_t i = cfg_.max_clients; i-- > 0;)
        free_.push_back(i);
    buf_.resize(64 * 1024);
}

SocketSource::~SocketSource() {
    // Only our own socket file: another daemon may have replaced it since (it then would have
    // failed to start while we were listening, so the file is ours unless removed by hand).
    ::unlink(cfg_.socket.path.c_str());
}

void SocketSource::accept_all() {
    for (int i = 0; i < kAcceptsPerPoll; ++i) {
        Fd c(::accept4(listen_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
        if (!c) return;  // EAGAIN, or a connection that died in the backlog
        if (free_.empty()) {
            ++stats_.refused;  // closing it tells the client at once, instead of a full backlog
            continue;
        }
        const uint32_t slot = free_.back();
        epoll_event ev{};
        ev.events = EPOLLIN | EPOLLRDHUP;
        ev.data.u64 = slot;
        if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, c.get(), &ev) != 0) {
            ++stats_.refused;
            continue;
        }
        free_.pop_back();
        if (!slots_[slot]) slots_[slot] = std::make_unique<Client>(cfg_.max_line);
        slots_[slot]->fd = std::move(c);
        slots_[slot]->lines.reset();
        ++clients_;
        ++stats_.accepted;
    }
}

void SocketSource::drop(uint32_t slot) {
    Client& c = *slots_[slot];
    ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, c.fd.get(), nullptr);
    c.fd.reset();
    c.lines.reset();
    free_.push_back(slot);
    --clients_;
}

void SocketSource::read_client(uint32_t slot, CountingSink& sink) {
    Client& c = *slots_[slot];
    size_t budget = cfg_.read_budget;
    while (budget > 0) {
        const ssize_t n = ::read(c.fd.get(), buf_.data(), std::min(buf_.size(), budget));
        if (n > 0) {
            stats_.bytes += static_cast<uint64_t>(n);
            budget -= static_cast<size_t>(n);
            c.lines.feed(std::string_view(buf_.data(), static_cast<size_t>(n)), sink);
            continue;
        }
        if (n == 0) {
            // A client that closes after its last record without a newline still meant it.
            c.lines.finish(sink);
            ++stats_.disconnected;
            drop(slot);
            return;
        }
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) return;
        ++stats_.read_errors;
        drop(slot);
        return;
    }
    // Budget spent: level-triggered epoll reports the rest on the next poll.
}

size_t SocketSource::poll(int timeout_ms, LineSink& sink) {
    epoll_event events[kMaxEvents];
    int n;
    do {
        n = ::epoll_wait(epoll_.get(), events, kMaxEvents, timeout_ms);
    } while (n < 0 && errno == EINTR);
    const uint64_t before = stats_.lines;
    CountingSink counting(sink, stats_);
    for (int i = 0; i < n; ++i) {
        const uint64_t id = events[i].data.u64;
        if (id == kListener) {
            accept_all();
            continue;
        }
        const uint32_t slot = static_cast<uint32_t>(id);
        // The slot may have been dropped and even reused during this batch: only read a live
        // one (reading a reused slot early is harmless; it was readable or will say EAGAIN).
        if (slot < slots_.size() && slots_[slot] && slots_[slot]->fd) read_client(slot, counting);
    }
    return static_cast<size_t>(stats_.lines - before);
}

}  // namespace sybilwatch::identity
