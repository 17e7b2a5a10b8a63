#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <string>
#include <thread>

#include "net/unique_fd.hpp"
#include "ops/metric_set.hpp"
#include "ops/metrics_endpoint.hpp"
#include "ops/prometheus_text.hpp"

using namespace sybilwatch::ops;

TEST(PrometheusText, EscapesHelpAndLabelValues) {
    PrometheusText t;
    t.family("sw_x_total", "counter", "a \\ b\nc \"q\"");
    const PrometheusText::Label labels[] = {{"path", "a\"b\\c\nd"}};
    t.sample("sw_x_total", 3, labels);
    EXPECT_EQ(t.text(),
              "# HELP sw_x_total a \\\\ b\\nc \"q\"\n# TYPE sw_x_total counter\n"
              "sw_x_total{path=\"a\\\"b\\\\c\\nd\"} 3\n");
}

TEST(PrometheusText, NumbersExactAndSpecial) {
    PrometheusText t;
    t.sample("a", 12345678901234.0);
    t.sample("b", 0.25);
    t.sample("c", NAN);
    t.sample("d", -INFINITY);
    EXPECT_EQ(t.text(), "a 12345678901234\nb 0.25\nc NaN\nd -Inf\n");
}

TEST(MetricSet, GroupsSamplesOfOneNameUnderOneHeader) {
    MetricSet m;
    m.counter("sw_lines_total", "lines", 5, {{"result", "accepted"}});
    m.gauge("sw_open", "open", 2);
    m.counter("sw_lines_total", "", 7, {{"result", "rejected"}, {"reason", "not_json"}});
    const std::string text = m.prometheus();
    EXPECT_EQ(text,
              "# HELP sw_lines_total lines\n# TYPE sw_lines_total counter\n"
              "sw_lines_total{result=\"accepted\"} 5\n"
              "sw_lines_total{result=\"rejected\",reason=\"not_json\"} 7\n"
              "# HELP sw_open open\n# TYPE sw_open gauge\nsw_open 2\n");
    ASSERT_NE(m.find("sw_lines_total", {{"reason", "not_json"}}), nullptr);
    EXPECT_EQ(m.find("sw_lines_total", {{"reason", "not_json"}})->value, 7);
    EXPECT_EQ(m.find("sw_lines_total", {{"reason", "bad_ip"}}), nullptr);
}

namespace {

std::string body_of(const std::string& reply) {
    return reply.substr(reply.find("\r\n\r\n") + 4);
}

const MetricsEndpoint::Render kRender = [] { return std::string("sw_up 1\n"); };

}  // namespace

TEST(MetricsEndpoint, AnswersGetMetrics) {
    const std::string r =
        MetricsEndpoint::reply("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", kRender);
    EXPECT_TRUE(r.starts_with("HTTP/1.1 200 OK\r\n"));
    EXPECT_NE(r.find("Content-Type: text/plain; version=0.0.4"), std::string::npos);
    EXPECT_NE(r.find("Content-Length: 8\r\n"), std::string::npos);
    EXPECT_EQ(body_of(r), "sw_up 1\n");
    // Query strings (some scrapers add them) are ignored.
    EXPECT_TRUE(MetricsEndpoint::reply("GET /metrics?x=1 HTTP/1.0\r\n\r\n", kRender)
                    .starts_with("HTTP/1.1 200"));
}

TEST(MetricsEndpoint, HeadHasNoBody) {
    const std::string r = MetricsEndpoint::reply("HEAD /metrics HTTP/1.1\r\n\r\n", kRender);
    EXPECT_TRUE(r.starts_with("HTTP/1.1 200 OK"));
    EXPECT_EQ(body_of(r), "");
}

TEST(MetricsEndpoint, RefusesOtherPathsMethodsAndGarbage) {
    EXPECT_TRUE(
        MetricsEndpoint::reply("GET / HTTP/1.1\r\n\r\n", kRender).starts_with("HTTP/1.1 404"));
    EXPECT_TRUE(MetricsEndpoint::reply("POST /metrics HTTP/1.1\r\n\r\n", kRender)
                    .starts_with("HTTP/1.1 405"));
    EXPECT_TRUE(MetricsEndpoint::reply("\x16\x03\x01 hello", kRender).starts_with("HTTP/1.1 400"));
    EXPECT_TRUE(MetricsEndpoint::reply("", kRender).starts_with("HTTP/1.1 400"));
}

namespace {

sybilwatch::net::UniqueFd connect_local(uint16_t port) {
    sybilwatch::net::UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) return {};
    return fd;
}

std::string read_all(int fd) {
    std::string out;
    char buf[4096];
    for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;)
        out.append(buf, n);
    return out;
}

// Runs the endpoint's poll loop on a thread for the test's duration.
struct Serving {
    MetricsEndpoint& ep;
    std::atomic<bool> stop{false};
    std::thread t;
    explicit Serving(MetricsEndpoint& e)
        : ep(e), t([this] {
              while (!stop)
                  ep.poll(20);
          }) {}
    ~Serving() {
        stop = true;
        t.join();
    }
};

}  // namespace

TEST(MetricsEndpoint, ServesOverTcpAndSurvivesBadClients) {
    MetricsEndpoint ep("127.0.0.1", 0, kRender);
    ASSERT_NE(ep.port(), 0);
    Serving serving(ep);
    // A client that connects and says nothing must not block the others.
    auto idle = connect_local(ep.port());
    ASSERT_TRUE(idle);
    // One that sends too much gets 431 and is closed.
    auto big = connect_local(ep.port());
    const std::string junk(20000, 'x');
    ::send(big.get(), junk.data(), junk.size(), MSG_NOSIGNAL);
    EXPECT_TRUE(read_all(big.get()).starts_with("HTTP/1.1 431"));
    for (int i = 0; i < 3; ++i) {
        auto c = connect_local(ep.port());
        const std::string req = "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
        ::send(c.get(), req.data(), req.size(), MSG_NOSIGNAL);
        EXPECT_EQ(body_of(read_all(c.get())), "sw_up 1\n");
    }
    EXPECT_EQ(ep.stats().requests, 3u);
    EXPECT_EQ(ep.stats().too_large, 1u);
}

TEST(MetricsEndpoint, RefusesNonAddresses) {
    EXPECT_THROW(MetricsEndpoint("example.com", 0, kRender), std::runtime_error);
}
