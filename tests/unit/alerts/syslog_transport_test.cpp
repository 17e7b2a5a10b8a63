// The syslog transport against sockets the test owns (UDP, TCP: framing, reconnect, timeouts)
// and against Debian's rsyslogd over TCP and TLS (RFC 5425), with certificates made here.
#include "alerts/syslog_transport.hpp"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "alerts/format.hpp"
#include "siem_test_util.hpp"

namespace sybilwatch::alerts {
namespace {

using namespace std::chrono_literals;
using test::parse_rfc5424;

std::vector<std::string_view> views(const std::vector<std::string>& v) {
    return {v.begin(), v.end()};
}

std::string rendered(Format fmt, rules::Severity sev = rules::Severity::High) {
    std::string out;
    render(test::sample_finding(sev), fmt, out);
    return out;
}

// A socket bound to 127.0.0.1 on a kernel-chosen port.
struct BoundSocket {
    int fd = -1;
    uint16_t port = 0;
    explicit BoundSocket(int type) {
        fd = ::socket(AF_INET, type | SOCK_CLOEXEC, 0);
        sockaddr_in sa{};
        sa.sin_family = AF_INET;
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        ::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa));
        socklen_t len = sizeof(sa);
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len);
        port = ntohs(sa.sin_port);
        if (type == SOCK_STREAM) ::listen(fd, 4);
    }
    ~BoundSocket() { ::close(fd); }
    std::string recv_datagram() const {
        std::string buf(70000, '\0');
        timeval tv{2, 0};
        ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        const ssize_t n = ::recv(fd, buf.data(), buf.size(), 0);
        buf.resize(n > 0 ? static_cast<size_t>(n) : 0);
        return buf;
    }
};

// Reads octet-counted frames from a connected stream until `count` are complete or EOF.
std::vector<std::string> read_frames(int fd, size_t count) {
    std::vector<std::string> frames;
    std::string buf;
    char chunk[65536];
    timeval tv{5, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    while (frames.size() < count) {
        const size_t sp = buf.find(' ');
        if (sp != std::string::npos) {
            const size_t len = std::stoul(buf.substr(0, sp));
            if (buf.size() >= sp + 1 + len) {
                frames.push_back(buf.substr(sp + 1, len));
                buf.erase(0, sp + 1 + len);
                continue;
            }
        }
        const ssize_t n = ::recv(fd, chunk, sizeof(chunk), 0);
        if (n <= 0) break;
        buf.append(chunk, static_cast<size_t>(n));
    }
    return frames;
}

SyslogTransportConfig loopback(SyslogProtocol p, uint16_t port) {
    SyslogTransportConfig c;
    c.protocol = p;
    c.host = "127.0.0.1";
    c.port = port;
    c.header.hostname = "edge-1.example";
    c.header.procid = "4242";
    c.header.facility = SyslogFacility::Local4;
    c.connect_timeout = 2s;
    c.send_timeout = 2s;
    return c;
}

TEST(SyslogTransport, RejectsInvalidHeaderConfig) {
    auto c = loopback(SyslogProtocol::Tcp, 514);
    c.header.app_name = "sybil watch";
    std::string error;
    EXPECT_FALSE(SyslogTransport::create(c, error));
    EXPECT_NE(error.find("app_name"), std::string::npos);
    c = loopback(SyslogProtocol::Tcp, 514);
    c.header.msgid = std::string(33, 'm');
    EXPECT_FALSE(SyslogTransport::create(c, error));
    c = loopback(SyslogProtocol::Tls, 6514);
    c.tls.ca_file = "/nonexistent/ca.pem";
    EXPECT_FALSE(SyslogTransport::create(c, error));
    EXPECT_NE(error.find("cannot load CA"), std::string::npos);
}

TEST(SyslogTransport, UdpOneMessagePerDatagramWithPayloadSeverity) {
    BoundSocket rx(SOCK_DGRAM);
    std::string error;
    auto t = SyslogTransport::create(loopback(SyslogProtocol::Udp, rx.port), error);
    ASSERT_TRUE(t) << error;
    EXPECT_EQ(t->name(), "syslog-udp");
    const std::vector<std::string> payloads = {rendered(Format::Json, rules::Severity::Critical),
                                               rendered(Format::Cef, rules::Severity::Low)};
    const auto v = views(payloads);
    ASSERT_EQ(t->send(v, error), 2u) << error;
    const auto a = parse_rfc5424(rx.recv_datagram());
    const auto b = parse_rfc5424(rx.recv_datagram());
    ASSERT_TRUE(a && b);
    EXPECT_EQ(a->pri, 20u * 8 + 2);  // local4.crit
    EXPECT_EQ(b->pri, 20u * 8 + 5);  // local4.notice
    EXPECT_EQ(a->hostname, "edge-1.example");
    EXPECT_EQ(a->app_name, "sybilwatchd");
    EXPECT_EQ(a->procid, "4242");
    EXPECT_EQ(a->msgid, "finding");
    EXPECT_EQ(a->msg, payloads[0]);
    EXPECT_EQ(b->msg, payloads[1]);
    EXPECT_EQ(t->stats().frames_sent, 2u);
}

TEST(SyslogTransport, TcpOverIpv6Loopback) {
    const int fd = ::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in6 sa{};
    sa.sin6_family = AF_INET6;
    sa.sin6_addr = in6addr_loopback;
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) != 0) {
        if (fd >= 0) ::close(fd);
        GTEST_SKIP() << "no IPv6 loopback here";
    }
    socklen_t len = sizeof(sa);
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len);
    ::listen(fd, 1);
    auto c = loopback(SyslogProtocol::Tcp, ntohs(sa.sin6_port));
    c.host = "::1";
    std::string error;
    auto t = SyslogTransport::create(c, error);
    ASSERT_TRUE(t) << error;
    const std::vector<std::string_view> v = {"{\"v6\":true}"};
    ASSERT_EQ(t->send(v, error), 1u) << error;
    const int conn = ::accept(fd, nullptr, nullptr);
    const auto frames = read_frames(conn, 1);
    ::close(conn);
    ::close(fd);
    ASSERT_EQ(frames.size(), 1u);
    EXPECT_EQ(parse_rfc5424(frames[0])->msg, "{\"v6\":true}");
}

TEST(SyslogTransport, UdpOversizeIsTruncatedOrDroppedAndCounted) {
    BoundSocket rx(SOCK_DGRAM);
    auto c = loopback(SyslogProtocol::Udp, rx.port);
    c.max_message_bytes = 300;
    c.severity = SyslogSeverity::Error;
    std::string error;
    auto t = SyslogTransport::create(c, error);
    ASSERT_TRUE(t) << error;
    const std::string big = "{\"accounts\":\"" + std::string(1000, 'a') + "\u00e9\"}";
    const std::string small = "{\"ok\":true}";
    const std::vector<std::string_view> v = {big, small};
    ASSERT_EQ(t->send(v, error), 2u);
    const std::string d1 = rx.recv_datagram();
    EXPECT_EQ(d1.size(), 300u);
    const auto p1 = parse_rfc5424(d1);
    ASSERT_TRUE(p1);
    EXPECT_EQ(p1->pri, 20u * 8 + 3);
    EXPECT_TRUE(big.starts_with(p1->msg));
    EXPECT_EQ(parse_rfc5424(rx.recv_datagram())->msg, small);
    EXPECT_EQ(t->stats().truncated, 1u);

    c.oversize = SyslogOversize::Drop;
    auto d = SyslogTransport::create(c, error);
    ASSERT_TRUE(d);
    // The dropped one counts as handled (retrying cannot help) and the next one still goes.
    ASSERT_EQ(d->send(v, error), 2u);
    EXPECT_EQ(parse_rfc5424(rx.recv_datagram())->msg, small);
    EXPECT_EQ(d->stats().dropped_oversize, 1u);
    EXPECT_EQ(d->stats().frames_sent, 1u);
}

TEST(SyslogTransport, TcpOctetCountedFramesAndReconnectAfterReceiverCloses) {
    BoundSocket srv(SOCK_STREAM);
    std::string error;
    auto t = SyslogTransport::create(loopback(SyslogProtocol::Tcp, srv.port), error);
    ASSERT_TRUE(t) << error;
    const std::vector<std::string> batch1 = {rendered(Format::Json), rendered(Format::Cef),
                                             "line one\nline two"};  // LF inside MSG is fine
    auto v1 = views(batch1);
    ASSERT_EQ(t->send(v1, error), 3u) << error;
    int conn = ::accept(srv.fd, nullptr, nullptr);
    ASSERT_GE(conn, 0);
    const auto frames = read_frames(conn, 3);
    ASSERT_EQ(frames.size(), 3u);
    for (size_t i = 0; i < 3; ++i) {
        const auto p = parse_rfc5424(frames[i]);
        ASSERT_TRUE(p) << frames[i];
        EXPECT_EQ(p->msg, batch1[i]);
    }
    // The receiver restarts: our next batch must arrive on a new connection, not vanish into
    // the closed one.
    ::close(conn);
    std::this_thread::sleep_for(50ms);
    const std::vector<std::string> batch2 = {rendered(Format::Ocsf)};
    auto v2 = views(batch2);
    ASSERT_EQ(t->send(v2, error), 1u) << error;
    conn = ::accept(srv.fd, nullptr, nullptr);
    const auto again = read_frames(conn, 1);
    ::close(conn);
    ASSERT_EQ(again.size(), 1u);
    EXPECT_EQ(parse_rfc5424(again[0])->msg, batch2[0]);
    EXPECT_EQ(t->stats().connects, 2u);
}

TEST(SyslogTransport, TcpRefusedReportsAndAcceptsNothing) {
    const uint16_t port = test::free_port();
    std::string error;
    auto t = SyslogTransport::create(loopback(SyslogProtocol::Tcp, port), error);
    ASSERT_TRUE(t);
    const std::vector<std::string_view> v = {"{}"};
    EXPECT_EQ(t->send(v, error), 0u);
    EXPECT_NE(error.find("127.0.0.1:" + std::to_string(port)), std::string::npos) << error;
    EXPECT_NE(error.find("refused"), std::string::npos) << error;
    EXPECT_EQ(t->stats().connect_failures, 1u);
}

TEST(SyslogTransport, StalledReceiverTimesOutInsteadOfBlocking) {
    BoundSocket srv(SOCK_STREAM);  // accepts (backlog) but never reads
    auto c = loopback(SyslogProtocol::Tcp, srv.port);
    c.send_timeout = 300ms;
    std::string error;
    auto t = SyslogTransport::create(c, error);
    ASSERT_TRUE(t);
    const std::string big(256 * 1024, 'x');
    const std::vector<std::string_view> v(256, big);  // 64 MiB: more than socket buffers hold
    const auto start = std::chrono::steady_clock::now();
    const size_t n = t->send(v, error);
    const auto took = std::chrono::steady_clock::now() - start;
    EXPECT_LT(n, v.size());
    EXPECT_NE(error.find("timed out"), std::string::npos) << error;
    EXPECT_LT(took, 3s);
}

// --- rsyslog ------------------------------------------------------------------------------

enum class RsyslogMode { Tcp, TlsAnon, TlsCertValid };

// Debian's rsyslogd in the foreground with its own config, work dir and port; it writes every
// message received on its input twice: raw (as framed by us) and as rsyslog parsed it.
class Rsyslog {
  public:
    static constexpr const char* kBinary = "/usr/sbin/rsyslogd";

    Rsyslog(const test::TempDir& dir, RsyslogMode mode) : dir_(dir) {
        port_ = test::free_port();
        std::string conf =
            "global(workDirectory=\"" + dir.file("work") + "\" maxMessageSize=\"1m\"";
        if (mode != RsyslogMode::Tcp) {
            conf += " defaultNetstreamDriverCAFile=\"" + dir.file("ca.pem") +
                    "\" defaultNetstreamDriverCertFile=\"" + dir.file("server.pem") +
                    "\" defaultNetstreamDriverKeyFile=\"" + dir.file("server.key") + "\"";
        }
        conf += ")\n";
        if (mode == RsyslogMode::Tcp) {
            conf += "module(load=\"imtcp\")\n";
        } else {
            conf += std::string("module(load=\"imtcp\" streamDriver.name=\"gtls\" ") +
                    "streamDriver.mode=\"1\" streamDriver.authMode=\"" +
                    (mode == RsyslogMode::TlsAnon ? "anon" : "x509/certvalid") + "\")\n";
        }
        conf += "input(type=\"imtcp\" address=\"127.0.0.1\" port=\"" + std::to_string(port_) +
                "\" ruleset=\"in\")\n"
                "template(name=\"raw\" type=\"string\" string=\"%rawmsg%\\n\")\n"
                "template(name=\"parsed\" type=\"string\" string=\"%protocol-version%\\t%pri%\\t"
                "%hostname%\\t%app-name%\\t%procid%\\t%msgid%\\t%structured-data%\\t%msg%\\n\")\n"
                "ruleset(name=\"in\") {\n"
                "  action(type=\"omfile\" file=\"" +
                dir.file("raw.log") +
                "\" template=\"raw\")\n"
                "  action(type=\"omfile\" file=\"" +
                dir.file("parsed.log") + "\" template=\"parsed\")\n}\n";
        std::filesystem::create_directories(dir.file("work"));
        test::write_file(dir.file("rsyslog.conf"), conf);
        proc_ = std::make_unique<test::ChildProcess>(
            std::vector<std::string>{kBinary, "-n", "-f", dir.file("rsyslog.conf"), "-i",
                                     dir.file("rsyslog.pid")},
            dir.file("rsyslog.out"));
        // For TLS the probe is a bare TCP connect; rsyslog logs a failed handshake, no harm.
        ready_ = test::wait_until([this] { return test::tcp_port_open(port_); });
    }

    bool ready() const { return ready_; }
    uint16_t port() const { return port_; }
    std::string diagnostics() const { return test::read_file(dir_.file("rsyslog.out")); }
    std::vector<std::string> raw(size_t want) const { return wait_lines("raw.log", want); }
    std::vector<std::string> parsed(size_t want) const { return wait_lines("parsed.log", want); }

  private:
    std::vector<std::string> wait_lines(const char* name, size_t want) const {
        std::vector<std::string> lines;
        test::wait_until([&] {
            lines = test::read_lines(dir_.file(name));
            return lines.size() >= want;
        });
        return lines;
    }
    const test::TempDir& dir_;
    uint16_t port_ = 0;
    std::unique_ptr<test::ChildProcess> proc_;  // killed when the test ends, however it ends
    bool ready_ = false;
};

class RsyslogTest : public ::testing::Test {
  protected:
    void SetUp() override {
        if (!test::executable(Rsyslog::kBinary))
            SW_SKIP_OR_FAIL("rsyslogd not installed (apt-get install rsyslog rsyslog-gnutls)");
        openssl_ = test::find_on_path("openssl");
        if (openssl_.empty())
            SW_SKIP_OR_FAIL("the openssl tool is needed to make test certificates");
    }
    void make_pki() { ASSERT_TRUE(test::make_test_pki(openssl_, dir_.path())) << "openssl failed"; }
    SyslogTransportConfig tls_config(uint16_t port) {
        auto c = loopback(SyslogProtocol::Tls, port);
        c.tls.ca_file = dir_.file("ca.pem");
        c.tls.server_name = "localhost";
        return c;
    }
    // Sends the payloads, then checks what rsyslog wrote: raw frames that parse as RFC 5424 and
    // carry each payload unchanged, and rsyslog's own parse agreeing on the header.
    void expect_delivered(SyslogTransport& t, Rsyslog& rs,
                          const std::vector<std::string>& payloads) {
        std::string error;
        const auto v = views(payloads);
        ASSERT_EQ(t.send(v, error), payloads.size()) << error << "\n" << rs.diagnostics();
        const auto raw = rs.raw(payloads.size());
        ASSERT_EQ(raw.size(), payloads.size()) << rs.diagnostics();
        for (size_t i = 0; i < payloads.size(); ++i) {
            const auto p = parse_rfc5424(raw[i]);
            ASSERT_TRUE(p) << raw[i];
            EXPECT_EQ(p->msg, payloads[i]);
            EXPECT_EQ(p->hostname, "edge-1.example");
        }
        const auto parsed = rs.parsed(payloads.size());
        ASSERT_EQ(parsed.size(), payloads.size());
        for (size_t i = 0; i < payloads.size(); ++i) {
            // protocol-version 1 means rsyslog's RFC 5424 parser took the frame.
            EXPECT_TRUE(parsed[i].starts_with("1\t")) << parsed[i];
            EXPECT_NE(parsed[i].find("\tedge-1.example\tsybilwatchd\t4242\tfinding\t-\t"),
                      std::string::npos)
                << parsed[i];
            EXPECT_TRUE(parsed[i].ends_with(payloads[i])) << parsed[i];
        }
    }

    test::TempDir dir_;
    std::string openssl_;
};

TEST_F(RsyslogTest, TcpDeliversJsonAndCefFindings) {
    Rsyslog rs(dir_, RsyslogMode::Tcp);
    ASSERT_TRUE(rs.ready()) << rs.diagnostics();
    std::string error;
    auto t = SyslogTransport::create(loopback(SyslogProtocol::Tcp, rs.port()), error);
    ASSERT_TRUE(t) << error;
    expect_delivered(*t, rs,
                     {rendered(Format::Json), rendered(Format::Cef), rendered(Format::Ocsf),
                      rendered(Format::Ecs)});
    const auto parsed = rs.parsed(4);
    EXPECT_TRUE(parsed[0].starts_with("1\t163\t")) << parsed[0];  // local4.err for "high"
}

TEST_F(RsyslogTest, TlsDeliversWithVerifiedServer) {
    make_pki();
    Rsyslog rs(dir_, RsyslogMode::TlsAnon);
    ASSERT_TRUE(rs.ready()) << rs.diagnostics();
    std::string error;
    auto t = SyslogTransport::create(tls_config(rs.port()), error);
    ASSERT_TRUE(t) << error;
    EXPECT_EQ(t->name(), "syslog-tls");
    expect_delivered(*t, rs, {rendered(Format::Json), rendered(Format::Cef)});
}

TEST_F(RsyslogTest, TlsVerifiesAgainstIpSanWithoutServerName) {
    make_pki();
    Rsyslog rs(dir_, RsyslogMode::TlsAnon);
    ASSERT_TRUE(rs.ready()) << rs.diagnostics();
    auto c = tls_config(rs.port());
    c.tls.server_name.clear();  // checked against IP:127.0.0.1 in the certificate
    std::string error;
    auto t = SyslogTransport::create(c, error);
    ASSERT_TRUE(t) << error;
    expect_delivered(*t, rs, {rendered(Format::Cef)});
}

TEST_F(RsyslogTest, TlsClientCertificateForCertvalidReceiver) {
    make_pki();
    Rsyslog rs(dir_, RsyslogMode::TlsCertValid);
    ASSERT_TRUE(rs.ready()) << rs.diagnostics();
    std::string error;
    // Without a client certificate rsyslog refuses the session. With TLS 1.3 the client learns
    // of it only after its handshake completed, so send() may report the frame written; what
    // matters is that rsyslog never takes the message.
    auto anonymous = SyslogTransport::create(tls_config(rs.port()), error);
    ASSERT_TRUE(anonymous);
    const std::vector<std::string> one = {"{\"anonymous\":true}"};
    const auto v = views(one);
    const size_t sent = anonymous->send(v, error);
    std::this_thread::sleep_for(500ms);
    EXPECT_TRUE(test::read_lines(dir_.file("raw.log")).empty())
        << "rsyslog took a message from a client without certificate (sent=" << sent << ")";

    auto c = tls_config(rs.port());
    c.tls.cert_file = dir_.file("client.pem");
    c.tls.key_file = dir_.file("client.key");
    auto t = SyslogTransport::create(c, error);
    ASSERT_TRUE(t) << error;
    expect_delivered(*t, rs, {rendered(Format::Json)});
}

TEST_F(RsyslogTest, TlsWrongCaOrNameIsRefused) {
    make_pki();
    Rsyslog rs(dir_, RsyslogMode::TlsAnon);
    ASSERT_TRUE(rs.ready()) << rs.diagnostics();
    const std::vector<std::string_view> v = {"{\"finding\":1}"};
    std::string error;

    auto wrong_ca = tls_config(rs.port());
    wrong_ca.tls.ca_file = dir_.file("other-ca.pem");
    auto t = SyslogTransport::create(wrong_ca, error);
    ASSERT_TRUE(t) << error;
    EXPECT_EQ(t->send(v, error), 0u);
    EXPECT_NE(error.find("certificate verification"), std::string::npos) << error;
    EXPECT_EQ(t->stats().connect_failures, 1u);

    auto wrong_name = tls_config(rs.port());
    wrong_name.tls.server_name = "siem.example.org";
    auto n = SyslogTransport::create(wrong_name, error);
    ASSERT_TRUE(n);
    EXPECT_EQ(n->send(v, error), 0u);
    EXPECT_NE(error.find("hostname mismatch"), std::string::npos) << error;
    EXPECT_TRUE(rs.raw(0).empty());
}

TEST_F(RsyslogTest, TcpThroughput) {
    Rsyslog rs(dir_, RsyslogMode::Tcp);
    ASSERT_TRUE(rs.ready()) << rs.diagnostics();
    std::string error;
    auto t = SyslogTransport::create(loopback(SyslogProtocol::Tcp, rs.port()), error);
    ASSERT_TRUE(t) << error;
    const std::string payload = rendered(Format::Cef);
    constexpr size_t kFrames = 20000;
    const std::vector<std::string_view> batch(t->max_batch(), payload);
    const auto start = std::chrono::steady_clock::now();
    size_t sent = 0;
    while (sent < kFrames) {
        const size_t n =
            t->send(std::span(batch).first(std::min(batch.size(), kFrames - sent)), error);
        ASSERT_GT(n, 0u) << error;
        sent += n;
    }
    const auto written = std::chrono::steady_clock::now();
    std::vector<std::string> lines;
    ASSERT_TRUE(test::wait_until(
        [&] { return test::read_lines(dir_.file("raw.log")).size() >= kFrames; }, 30s));
    const auto stored = std::chrono::steady_clock::now();
    const double send_s = std::chrono::duration<double>(written - start).count();
    const double total_s = std::chrono::duration<double>(stored - start).count();
    std::printf(
        "[ measure  ] %zu CEF frames of %zu bytes to rsyslog over TCP: sent in %.3f s "
        "(%.0f frames/s), all on disk after %.3f s (%.0f frames/s)\n",
        kFrames, payload.size(), send_s, kFrames / send_s, total_s, kFrames / total_s);
    EXPECT_EQ(test::read_lines(dir_.file("raw.log")).size(), kFrames);
}

}  // namespace
}  // namespace sybilwatch::alerts
