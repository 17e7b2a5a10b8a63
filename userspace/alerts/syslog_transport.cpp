#include "alerts/syslog_transport.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "alerts/sigpipe_guard.hpp"
#include "net/unique_fd.hpp"

namespace sybilwatch::alerts {

namespace {

using Clock = std::chrono::steady_clock;

struct SslCtxFree {
    void operator()(SSL_CTX* c) const { SSL_CTX_free(c); }
};
struct SslFree {
    void operator()(SSL* s) const { SSL_free(s); }
};
struct AddrinfoFree {
    void operator()(addrinfo* a) const { freeaddrinfo(a); }
};

using net::UniqueFd;

// Drains OpenSSL's error queue into text (and leaves it empty for the next operation).
std::string openssl_errors() {
    std::string out;
    while (const unsigned long e = ERR_get_error()) {
        char buf[256];
        ERR_error_string_n(e, buf, sizeof(buf));
        if (!out.empty()) out += "; ";
        out += buf;
    }
    return out;
}

int remaining_ms(Clock::time_point deadline) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return 0;
    return left.count() > 60'000 ? 60'000 : static_cast<int>(left.count());
}

// Waits until fd is ready for `events`; false on timeout (errno = ETIMEDOUT) or poll error.
bool wait_fd(int fd, short events, Clock::time_point deadline) {
    for (;;) {
        pollfd p{fd, events, 0};
        const int ms = remaining_ms(deadline);
        const int r = ::poll(&p, 1, ms);
        if (r > 0) return true;
        if (r < 0 && errno == EINTR) continue;
        if (r == 0) {
            if (Clock::now() < deadline) continue;  // poll's millisecond rounding
            errno = ETIMEDOUT;
        }
        return false;
    }
}

bool is_ip_literal(const std::string& s) {
    in6_addr a6{};
    in_addr a4{};
    return ::inet_pton(AF_INET, s.c_str(), &a4) == 1 || ::inet_pton(AF_INET6, s.c_str(), &a6) == 1;
}

const char* protocol_name(SyslogProtocol p) {
    switch (p) {
        case SyslogProtocol::Udp:
            return "syslog-udp";
        case SyslogProtocol::Tcp:
            return "syslog-tcp";
        case SyslogProtocol::Tls:
            return "syslog-tls";
    }
    return "syslog";
}

}  // namespace

struct SyslogTransport::Impl {
    SyslogTransportConfig cfg;
    std::string target;  // host:port, for error messages
    std::unique_ptr<SSL_CTX, SslCtxFree> ctx;
    UniqueFd fd;
    std::unique_ptr<SSL, SslFree> ssl;
    std::string msg;           // one SYSLOG-MSG, reused
    std::string out;           // frames waiting to be written, reused
    std::vector<size_t> ends;  // end offset in `out` of each payload's frame, reused

    std::atomic<uint64_t> frames_sent{0}, bytes_sent{0}, truncated{0}, dropped_oversize{0},
        connects{0}, connect_failures{0}, send_failures{0};

    bool stream() const { return cfg.protocol != SyslogProtocol::Udp; }
    bool connected() const { return fd.get() >= 0; }

    void disconnect() {
        if (ssl) {
            // Best effort close_notify; the socket is non-blocking, so this never waits.
            SigpipeGuard guard;
            SSL_shutdown(ssl.get());
            ERR_clear_error();
        }
        ssl.reset();
        fd.reset();
    }

    bool init_tls(std::string& error);
    bool connect(Clock::time_point deadline, std::string& error);
    bool connect_socket(Clock::time_point deadline, std::string& error);
    bool handshake(Clock::time_point deadline, std::string& error);
    bool peer_closed();
    bool write_bytes(std::string_view data, size_t& written, Clock::time_point deadline,
                     std::string& error);
    // Builds payloads[i]'s message into `msg`; false when it is dropped as oversize.
    bool build_message(std::string_view payload);
    size_t send_datagrams(std::span<const std::string_view> payloads, std::string& error);
    size_t send_stream(std::span<const std::string_view> payloads, std::string& error);
    size_t message_limit() const {
        if (cfg.max_message_bytes != 0) return cfg.max_message_bytes;
        return cfg.protocol == SyslogProtocol::Udp ? 8192 : 0;
    }
};

bool SyslogTransport::Impl::init_tls(std::string& error) {
    ctx.reset(SSL_CTX_new(TLS_client_method()));
    if (!ctx) {
        error = "syslog TLS: cannot create context: " + openssl_errors();
        return false;
    }
    // RFC 9662 (updating RFC 5425) requires TLS 1.2 or later.
    SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
    SSL_CTX_set_mode(ctx.get(),
                     SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    const SyslogTlsConfig& t = cfg.tls;
    if (t.verify) {
        SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
        if (!t.ca_file.empty() || !t.ca_dir.empty()) {
            if (SSL_CTX_load_verify_locations(ctx.get(),
                                              t.ca_file.empty() ? nullptr : t.ca_file.c_str(),
                                              t.ca_dir.empty() ? nullptr : t.ca_dir.c_str()) != 1) {
                error = "syslog TLS: cannot load CA (" +
                        (t.ca_file.empty() ? t.ca_dir : t.ca_file) + "): " + openssl_errors();
                return false;
            }
        } else if (SSL_CTX_set_default_verify_paths(ctx.get()) != 1) {
            error = "syslog TLS: cannot load the system CA store: " + openssl_errors();
            return false;
        }
    } else {
        SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_NONE, nullptr);
    }
    if (t.cert_file.empty() != t.key_file.empty()) {
        error = "syslog TLS: a client certificate needs both cert_file and key_file";
        return false;
    }
    if (!t.cert_file.empty()) {
        if (SSL_CTX_use_certificate_chain_file(ctx.get(), t.cert_file.c_str()) != 1 ||
            SSL_CTX_use_PrivateKey_file(ctx.get(), t.key_file.c_str(), SSL_FILETYPE_PEM) != 1 ||
            SSL_CTX_check_private_key(ctx.get()) != 1) {
            error = "syslog TLS: cannot load client certificate " + t.cert_file + ": " +
                    openssl_errors();
            return false;
        }
    }
    return true;
}

bool SyslogTransport::Impl::connect_socket(Clock::time_point deadline, std::string& error) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = stream() ? SOCK_STREAM : SOCK_DGRAM;
    hints.ai_flags = AI_NUMERICSERV;
    addrinfo* res = nullptr;
    const std::string port = std::to_string(cfg.port);
    const int gai = ::getaddrinfo(cfg.host.c_str(), port.c_str(), &hints, &res);
    if (gai != 0) {
        error = "cannot resolve " + cfg.host + ": " + ::gai_strerror(gai);
        return false;
    }
    std::unique_ptr<addrinfo, AddrinfoFree> list(res);
    std::string last = "no address";
    for (const addrinfo* ai = list.get(); ai != nullptr; ai = ai->ai_next) {
        UniqueFd s(::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                            ai->ai_protocol));
        if (s.get() < 0) {
            last = std::strerror(errno);
            continue;
        }
        if (::connect(s.get(), ai->ai_addr, ai->ai_addrlen) != 0) {
            if (errno != EINPROGRESS) {
                last = std::strerror(errno);
                continue;
            }
            if (!wait_fd(s.get(), POLLOUT, deadline)) {
                last = errno == ETIMEDOUT ? "connect timed out" : std::strerror(errno);
                continue;
            }
            int soerr = 0;
            socklen_t len = sizeof(soerr);
            ::getsockopt(s.get(), SOL_SOCKET, SO_ERROR, &soerr, &len);
            if (soerr != 0) {
                last = std::strerror(soerr);
                continue;
            }
        }
        if (stream()) {
            // Findings are sent when raised: don't hold the last segment back for Nagle.
            const int one = 1;
            ::setsockopt(s.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        }
        fd = std::move(s);
        return true;
    }
    error = "cannot connect to " + target + ": " + last;
    return false;
}

bool SyslogTransport::Impl::handshake(Clock::time_point deadline, std::string& error) {
    ssl.reset(SSL_new(ctx.get()));
    if (!ssl || SSL_set_fd(ssl.get(), fd.get()) != 1) {
        error = "syslog TLS: " + openssl_errors();
        return false;
    }
    const std::string& name = cfg.tls.server_name.empty() ? cfg.host : cfg.tls.server_name;
    const bool ip = is_ip_literal(name);
    if (!ip) SSL_set_tlsext_host_name(ssl.get(), name.c_str());  // SNI takes names only
    if (cfg.tls.verify) {
        const bool ok =
            ip ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl.get()), name.c_str()) == 1
               : SSL_set1_host(ssl.get(), name.c_str()) == 1;
        if (!ok) {
            error = "syslog TLS: invalid server name " + name;
            return false;
        }
    }
    SigpipeGuard guard;
    for (;;) {
        ERR_clear_error();
        const int r = SSL_connect(ssl.get());
        if (r == 1) return true;
        const int e = SSL_get_error(ssl.get(), r);
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
            if (!wait_fd(fd.get(), e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline)) {
                error = "TLS handshake with " + target + " timed out";
                return false;
            }
            continue;
        }
        const long vr = SSL_get_verify_result(ssl.get());
        if (vr != X509_V_OK) {
            error = "TLS handshake with " + target +
                    " failed: certificate verification: " + X509_verify_cert_error_string(vr);
        } else {
            std::string detail = openssl_errors();
            if (detail.empty()) detail = e == SSL_ERROR_SYSCALL ? "connection closed" : "error";
            error = "TLS handshake with " + target + " failed: " + detail;
        }
        ERR_clear_error();
        return false;
    }
}

bool SyslogTransport::Impl::connect(Clock::time_point deadline, std::string& error) {
    disconnect();
    if (!connect_socket(deadline, error)) {
        connect_failures.fetch_add(1, std::memory_order_relaxed);
        return false;
    }
    if (cfg.protocol == SyslogProtocol::Tls && !handshake(deadline, error)) {
        disconnect();
        connect_failures.fetch_add(1, std::memory_order_relaxed);
        return false;
    }
    connects.fetch_add(1, std::memory_order_relaxed);
    return true;
}

bool SyslogTransport::Impl::peer_closed() {
    // A syslog receiver never sends; readability means EOF, an error, or a TLS alert/
    // close_notify. Catching it here saves the frames a write into a dead connection would lose.
    pollfd p{fd.get(), POLLIN, 0};
    if (::poll(&p, 1, 0) <= 0) return false;
    if (p.revents & (POLLERR | POLLHUP)) return true;
    char buf[512];
    if (ssl) {
        SigpipeGuard guard;
        ERR_clear_error();
        const int r = SSL_read(ssl.get(), buf, sizeof(buf));
        if (r > 0) return false;
        const int e = SSL_get_error(ssl.get(), r);
        ERR_clear_error();
        return e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE;
    }
    const ssize_t r = ::recv(fd.get(), buf, sizeof(buf), MSG_DONTWAIT);
    if (r > 0) return false;
    return r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
}

bool SyslogTransport::Impl::write_bytes(std::string_view data, size_t& written,
                                        Clock::time_point deadline, std::string& error) {
    SigpipeGuard guard;
    while (written < data.size()) {
        const char* p = data.data() + written;
        const size_t n = data.size() - written;
        if (ssl) {
            ERR_clear_error();
            const int chunk = n > (1u << 30) ? (1 << 30) : static_cast<int>(n);
            const int r = SSL_write(ssl.get(), p, chunk);
            if (r > 0) {
                written += static_cast<size_t>(r);
                continue;
            }
            const int e = SSL_get_error(ssl.get(), r);
            if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) {
                if (!wait_fd(fd.get(), e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline)) {
                    error = "writing to " + target + " timed out";
                    return false;
                }
                continue;
            }
            std::string detail = openssl_errors();
            if (detail.empty())
                detail = e == SSL_ERROR_SYSCALL ? std::strerror(errno) : "TLS error";
            error = "writing to " + target + " failed: " + detail;
            return false;
        }
        const ssize_t r =
            stream() ? ::send(fd.get(), p, n, MSG_NOSIGNAL) : ::send(fd.get(), p, n, 0);
        if (r >= 0) {
            written += static_cast<size_t>(r);
            if (!stream()) return true;  // a datagram goes whole or not at all
            continue;
        }
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            if (!wait_fd(fd.get(), POLLOUT, deadline)) {
                error = "writing to " + target + " timed out";
                return false;
            }
            continue;
        }
        error = "writing to " + target + " failed: " + std::strerror(errno);
        return false;
    }
    return true;
}

bool SyslogTransport::Impl::build_message(std::string_view payload) {
    SyslogSeverity sev = cfg.default_severity;
    if (cfg.severity) {
        sev = *cfg.severity;
    } else if (auto s = payload_syslog_severity(payload)) {
        sev = *s;
    }
    const auto now = std::chrono::system_clock::now().time_since_epoch();
    const int64_t ns = std::chrono::duration_cast<std::chrono::nanoseconds>(now).count();
    msg.clear();
    append_syslog_message(cfg.header, sev, ns, {}, msg);
    const size_t limit = message_limit();
    // Header, the SP before MSG and the BOM.
    const size_t head = msg.size() + 1 + (cfg.header.utf8_bom ? 3 : 0);
    if (limit != 0 && head + payload.size() > limit) {
        if (cfg.oversize == SyslogOversize::Drop || head >= limit) {
            dropped_oversize.fetch_add(1, std::memory_order_relaxed);
            return false;
        }
        payload = payload.substr(0, utf8_prefix_length(payload, limit - head));
        truncated.fetch_add(1, std::memory_order_relaxed);
    }
    msg.clear();
    append_syslog_message(cfg.header, sev, ns, payload, msg);
    return true;
}

size_t SyslogTransport::Impl::send_datagrams(std::span<const std::string_view> payloads,
                                             std::string& error) {
    const auto deadline = Clock::now() + cfg.send_timeout;
    if (!connected() && !connect(Clock::now() + cfg.connect_timeout, error)) return 0;
    for (size_t i = 0; i < payloads.size(); ++i) {
        if (!build_message(payloads[i])) continue;
        size_t written = 0;
        if (!write_bytes(msg, written, deadline, error)) {
            // ECONNREFUSED reports an ICMP error caused by an *earlier* datagram (nothing
            // listening); it is sticky once, so this datagram gets one more try.
            written = 0;
            std::string again;
            if (!write_bytes(msg, written, deadline, again)) {
                send_failures.fetch_add(1, std::memory_order_relaxed);
                disconnect();
                return i;
            }
            error.clear();
        }
        frames_sent.fetch_add(1, std::memory_order_relaxed);
        bytes_sent.fetch_add(msg.size(), std::memory_order_relaxed);
    }
    return payloads.size();
}

size_t SyslogTransport::Impl::send_stream(std::span<const std::string_view> payloads,
                                          std::string& error) {
    bool fresh = false;
    if (connected() && peer_closed()) disconnect();
    if (!connected()) {
        if (!connect(Clock::now() + cfg.connect_timeout, error)) return 0;
        fresh = true;
    }
    const auto deadline = Clock::now() + cfg.send_timeout;
    // Frames go out in chunks of ~256 KiB so a batch of large findings is not copied whole.
    constexpr size_t kChunk = 256 * 1024;
    size_t i = 0;
    while (i < payloads.size()) {
        out.clear();
        ends.clear();
        const size_t first = i;
        size_t frames = 0;
        while (i < payloads.size() && (out.empty() || out.size() < kChunk)) {
            if (build_message(payloads[i])) {
                append_octet_counted(msg, out);
                ++frames;
            }
            ends.push_back(out.size());  // a dropped payload ends where the previous one did
            ++i;
        }
        size_t written = 0;
        bool ok = write_bytes(out, written, deadline, error);
        if (!ok && written == 0 && !fresh && first == 0) {
            // The connection was stale (receiver restarted without us seeing the FIN) and
            // nothing of this batch was taken: one retry on a new connection.
            if (!connect(Clock::now() + cfg.connect_timeout, error)) return 0;
            fresh = true;
            error.clear();
            ok = write_bytes(out, written, deadline, error);
        }
        if (!ok) {
            send_failures.fetch_add(1, std::memory_order_relaxed);
            disconnect();
            // Payloads whose frames were written completely before the failure are accepted.
            size_t k = 0;
            while (k < ends.size() && ends[k] <= written)
                ++k;
            return first + k;
        }
        frames_sent.fetch_add(frames, std::memory_order_relaxed);
        bytes_sent.fetch_add(out.size(), std::memory_order_relaxed);
    }
    return payloads.size();
}

std::unique_ptr<SyslogTransport> SyslogTransport::create(SyslogTransportConfig config,
                                                         std::string& error) {
    auto impl = std::make_unique<Impl>();
    if (config.host.empty()) {
        error = "syslog: no host configured";
        return nullptr;
    }
    if (config.port == 0) config.port = config.protocol == SyslogProtocol::Tls ? 6514 : 514;
    SyslogHeader& h = config.header;
    if (h.hostname.empty()) {
        char buf[256] = {};
        ::gethostname(buf, sizeof(buf) - 1);
        h.hostname = sanitize_syslog_header_field(buf, kSyslogHostnameMax);
    }
    if (h.procid.empty()) h.procid = std::to_string(::getpid());
    for (const auto& [value, max, what] :
         {std::tuple{&h.hostname, kSyslogHostnameMax, "syslog hostname"},
          std::tuple{&h.app_name, kSyslogAppNameMax, "syslog app_name"},
          std::tuple{&h.procid, kSyslogProcIdMax, "syslog procid"},
          std::tuple{&h.msgid, kSyslogMsgIdMax, "syslog msgid"}}) {
        std::string why = check_syslog_header_field(*value, max, what);
        if (!why.empty()) {
            error = std::move(why);
            return nullptr;
        }
        if (value->empty()) *value = "-";
    }
    const bool v6 = config.host.find(':') != std::string::npos;
    impl->target = (v6 ? "[" + config.host + "]" : config.host) + ":" + std::to_string(config.port);
    impl->cfg = std::move(config);
    if (impl->cfg.protocol == SyslogProtocol::Tls && !impl->init_tls(error)) return nullptr;
    return std::unique_ptr<SyslogTransport>(new SyslogTransport(std::move(impl)));
}

SyslogTransport::SyslogTransport(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

SyslogTransport::~SyslogTransport() {
    if (impl_) impl_->disconnect();
}

size_t SyslogTransport::send(std::span<const std::string_view> payloads, std::string& error) {
    if (payloads.empty()) return 0;
    return impl_->stream() ? impl_->send_stream(payloads, error)
                           : impl_->send_datagrams(payloads, error);
}

std::string_view SyslogTransport::name() const {
    return protocol_name(impl_->cfg.protocol);
}

SyslogTransportStats SyslogTransport::stats() const {
    const Impl& i = *impl_;
    SyslogTransportStats s;
    s.frames_sent = i.frames_sent.load(std::memory_order_relaxed);
    s.bytes_sent = i.bytes_sent.load(std::memory_order_relaxed);
    s.truncated = i.truncated.load(std::memory_order_relaxed);
    s.dropped_oversize = i.dropped_oversize.load(std::memory_order_relaxed);
    s.connects = i.connects.load(std::memory_order_relaxed);
    s.connect_failures = i.connect_failures.load(std::memory_order_relaxed);
    s.send_failures = i.send_failures.load(std::memory_order_relaxed);
    return s;
}

}  // namespace sybilwatch::alerts
