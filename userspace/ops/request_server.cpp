#include "ops/request_server.hpp"

#include <sys/epoll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace sybilwatch::ops {

RequestServer::RequestServer(net::UniqueFd listener, IsComplete complete, Handler handler,
                             RequestServerLimits limits, std::string too_large)
    : listener_(std::move(listener)),
      epoll_(::epoll_create1(EPOLL_CLOEXEC)),
      complete_(std::move(complete)),
      handler_(std::move(handler)),
      limits_(limits),
      too_large_(std::move(too_large)) {
    if (!epoll_) throw std::runtime_error(std::string("epoll_create1: ") + std::strerror(errno));
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = listener_.get();
    if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, listener_.get(), &ev) != 0)
        throw std::runtime_error(std::string("epoll_ctl: ") + std::strerror(errno));
}

void RequestServer::watch(const Client& c, bool for_write) {
    epoll_event ev{};
    ev.events = for_write ? EPOLLOUT : EPOLLIN;
    ev.data.fd = c.fd.get();
    ::epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, c.fd.get(), &ev);
}

void RequestServer::accept_all() {
    for (;;) {
        net::UniqueFd fd(
            ::accept4(listener_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
        if (!fd) return;  // EAGAIN, or a transient error (EMFILE, ECONNABORTED): try next poll
        if (clients_.size() >= limits_.max_clients) {
            ++stats_.refused;
            continue;
        }
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.fd = fd.get();
        if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd.get(), &ev) != 0) continue;
        Client c;
        c.fd = std::move(fd);
        c.deadline = std::chrono::steady_clock::now() + limits_.timeout;
        clients_.push_back(std::move(c));
    }
}

bool RequestServer::flush(Client& c) {
    while (c.sent < c.out.size()) {
        const ssize_t n = ::send(c.fd.get(), c.out.data() + c.sent, c.out.size() - c.sent,
                                 MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            c.sent += static_cast<size_t>(n);
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            watch(c, true);
            return true;
        } else {
            return false;
        }
    }
    return false;  // all sent: done
}

bool RequestServer::serve(Client& c) {
    if (c.replying) return flush(c);
    char buf[4096];
    for (;;) {
        const ssize_t n = ::recv(c.fd.get(), buf, sizeof buf, MSG_DONTWAIT);
        if (n == 0) break;  // the peer finished writing: answer what we have, if complete
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                if (!complete_(c.in)) return true;
                break;
            }
            return false;
        }
        c.in.append(buf, static_cast<size_t>(n));
        if (c.in.size() > limits_.max_request) {
            ++stats_.too_large;
            if (too_large_.empty()) return false;
            c.out = too_large_;
            c.replying = true;
            return flush(c);
        }
        if (complete_(c.in)) break;
    }
    if (!complete_(c.in)) return false;  // closed early with half a request
    ++stats_.requests;
    c.out = handler_(c.in);
    c.replying = true;
    return flush(c);
}

void RequestServer::poll(int timeout_ms) {
    epoll_event evs[16];
    const int n = ::epoll_wait(epoll_.get(), evs, 16, timeout_ms);
    for (int i = 0; i < n; ++i) {
        const int fd = evs[i].data.fd;
        if (fd == listener_.get()) {
            accept_all();
            continue;
        }
        for (size_t k = 0; k < clients_.size(); ++k) {
            if (clients_[k].fd.get() != fd) continue;
            if (!serve(clients_[k])) {
                clients_[k] = std::move(clients_.back());
                clients_.pop_back();
            }
            break;
        }
    }
    const auto now = std::chrono::steady_clock::now();
    for (size_t k = 0; k < clients_.size();) {
        if (clients_[k].deadline <= now) {
            ++stats_.timeouts;
            clients_[k] = std::move(clients_.back());
            clients_.pop_back();
        } else {
            ++k;
        }
    }
}

}  // namespace sybilwatch::ops
