#include "ops/control_socket.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "identity/unix_socket.hpp"

namespace sybilwatch::ops {

namespace {

net::UniqueFd bind_control(const std::string& path, mode_t mode) {
    identity::UnixSocketOptions opt;
    opt.path = path;
    opt.mode = mode;
    opt.role = "control socket";
    return identity::bind_unix_socket(opt, SOCK_STREAM);
}

std::string_view first_line(std::string_view in) {
    const size_t eol = in.find('\n');
    std::string_view line = in.substr(0, eol);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    return line;
}

}  // namespace

ControlServer::ControlServer(const std::string& path, mode_t mode, Handler handler)
    : path_(path),
      server_(
          bind_control(path, mode),
          [](std::string_view in) { return in.find('\n') != std::string_view::npos; },
          [handler = std::move(handler)](std::string_view in) { return handler(first_line(in)); },
          RequestServerLimits{.max_request = 1024}) {}

ControlServer::~ControlServer() {
    ::unlink(path_.c_str());
}

std::string control_request(const std::string& path, std::string_view command,
                            std::chrono::milliseconds timeout) {
    const std::string where = "control socket " + path + ": ";
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    if (path.empty() || path.size() >= sizeof sa.sun_path)
        throw std::runtime_error(where + "path too long");
    std::memcpy(sa.sun_path, path.data(), path.size());
    net::UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd) throw std::runtime_error(where + "socket: " + std::strerror(errno));
    if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&sa), sizeof sa) != 0)
        throw std::runtime_error(where + std::strerror(errno) +
                                 (errno == ENOENT || errno == ECONNREFUSED
                                      ? " (is sybilwatchd running?)"
                                  : errno == EACCES ? " (run as root or in group sybilwatch)"
                                                    : ""));
    std::string req(command);
    req += '\n';
    if (::send(fd.get(), req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size()))
        throw std::runtime_error(where + "send: " + std::strerror(errno));
    ::shutdown(fd.get(), SHUT_WR);
    std::string reply;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    char buf[4096];
    for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) throw std::runtime_error(where + "no answer in time");
        pollfd p{fd.get(), POLLIN, 0};
        const int r = ::poll(&p, 1, static_cast<int>(left.count()));
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) throw std::runtime_error(where + "no answer in time");
        const ssize_t n = ::recv(fd.get(), buf, sizeof buf, 0);
        if (n == 0) return reply;
        if (n < 0) {
            if (errno == EINTR) continue;
            throw std::runtime_error(where + "recv: " + std::strerror(errno));
        }
        reply.append(buf, static_cast<size_t>(n));
    }
}

}  // namespace sybilwatch::ops
