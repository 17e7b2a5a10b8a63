#include "ops/metrics_endpoint.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace sybilwatch::ops {

namespace {

std::string response(std::string_view status, std::string_view type, std::string_view body) {
    std::string r = "HTTP/1.1 ";
    r += status;
    r += "\r\nContent-Type: ";
    r += type;
    r += "\r\nContent-Length: ";
    r += std::to_string(body.size());
    r += "\r\nConnection: close\r\n\r\n";
    r += body;
    return r;
}

bool header_complete(std::string_view in) {
    return in.find("\r\n\r\n") != std::string_view::npos ||
           in.find("\n\n") != std::string_view::npos;
}

net::UniqueFd listen_tcp(const std::string& host, uint16_t port, uint16_t& bound) {
    const std::string literal = host == "localhost" ? "127.0.0.1" : host;
    sockaddr_storage ss{};
    socklen_t len = 0;
    auto* v4 = reinterpret_cast<sockaddr_in*>(&ss);
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&ss);
    if (::inet_pton(AF_INET, literal.c_str(), &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons(port);
        len = sizeof *v4;
    } else if (::inet_pton(AF_INET6, literal.c_str(), &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(port);
        len = sizeof *v6;
    } else {
        throw std::runtime_error("metrics endpoint: \"" + host + "\" is not an IP address");
    }
    const std::string where = "metrics endpoint " + host + ":" + std::to_string(port) + ": ";
    net::UniqueFd fd(::socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!fd) throw std::runtime_error(where + "socket: " + std::strerror(errno));
    const int one = 1;
    ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&ss), len) != 0)
        throw std::runtime_error(where + "bind: " + std::strerror(errno));
    if (::listen(fd.get(), 64) != 0)
        throw std::runtime_error(where + "listen: " + std::strerror(errno));
    sockaddr_storage got{};
    socklen_t got_len = sizeof got;
    ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&got), &got_len);
    bound = ntohs(got.ss_family == AF_INET ? reinterpret_cast<sockaddr_in*>(&got)->sin_port
                                           : reinterpret_cast<sockaddr_in6*>(&got)->sin6_port);
    return fd;
}

}  // namespace

std::string MetricsEndpoint::reply(std::string_view request, const Render& render) {
    const size_t eol = request.find_first_of("\r\n");
    const std::string_view line = request.substr(0, eol);
    const size_t sp1 = line.find(' ');
    const size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
    if (sp1 == std::string_view::npos || sp2 == std::string_view::npos ||
        !line.substr(sp2 + 1).starts_with("HTTP/1."))
        return response("400 Bad Request", "text/plain", "bad request\n");
    const std::string_view method = line.substr(0, sp1);
    std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
    target = target.substr(0, target.find('?'));
    if (target != "/metrics") return response("404 Not Found", "text/plain", "try /metrics\n");
    if (method != "GET" && method != "HEAD")
        return response("405 Method Not Allowed", "text/plain", "GET /metrics\n");
    std::string r = response("200 OK", "text/plain; version=0.0.4; charset=utf-8", render());
    if (method == "HEAD") r.resize(r.find("\r\n\r\n") + 4);
    return r;
}

MetricsEndpoint::MetricsEndpoint(const std::string& host, uint16_t port, Render render)
    : server_(
          listen_tcp(host, port, port_), header_complete,
          [render = std::move(render)](std::string_view req) { return reply(req, render); },
          RequestServerLimits{},
          response("431 Request Header Fields Too Large", "text/plain", "too large\n")) {}

}  // namespace sybilwatch::ops
