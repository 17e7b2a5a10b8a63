// The daemon's data path offline: a reference capture replayed through Pipeline, with an
// attribution log tailed from a file, into the shared-memory ring and a downstream sink.
#include "service/pipeline.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "capture/pcap_file.hpp"
#include "fingerprint/engine.hpp"

using namespace sybilwatch;

namespace {

const std::string kCapture =
    std::string(SW_SHARED_DIR) + "/conformance/foxio/pcap/tls-handshake.pcapng";

struct Conn {
    std::string src;
    uint16_t port;
    int64_t ts_ns;
};

// The connections of the capture as the engine alone sees them.
std::vector<Conn> connections_of(const std::string& path) {
    struct Collect : fingerprint::ObservationSink {
        std::vector<Conn> out;
        void on_observation(const fingerprint::Observation& o) override {
            out.push_back({o.src.to_string(), o.src_port, o.ts_ns});
        }
    } c;
    fingerprint::Engine e({}, c);
    capture::PcapFile f(path);
    capture::EngineFeed feed(e);
    while (f.poll(0, feed) >= 0) {
    }
    e.flush();
    return c.out;
}

struct Collect : identity::AttributedSink {
    std::map<std::pair<std::string, uint16_t>, std::string> accounts;
    size_t n = 0;
    void on_attributed(const identity::AttributedObservation& a) override {
        ++n;
        accounts[{a.obs.src.to_string(), a.obs.src_port}] = std::string(a.account);
    }
};

}  // namespace

TEST(Pipeline, ReplayJoinsTheAttributionLogAndFillsTheRing) {
    const auto conns = connections_of(kCapture);
    ASSERT_GT(conns.size(), 5u);
    char dir_tmpl[] = "/tmp/sw-pipeline.XXXXXX";
    const std::string dir = ::mkdtemp(dir_tmpl);
    const std::string log = dir + "/access.jsonl";
    {
        std::ofstream f(log);
        for (const auto& c : conns)
            f << "{\"ts\": " << std::to_string(double(c.ts_ns) / 1e9 + 0.001)
              << ", \"client_ip\": \"" << c.src << "\", \"client_port\": " << c.port
              << ", \"account\": \"acct-" << c.port << "\"}\n";
        f << "garbage that is counted, not fatal\n";
    }
    config::DaemonConfig cfg;
    cfg.identity.socket_path.clear();
    cfg.identity.tail_path = log;
    cfg.identity.tail_from_start = true;
    cfg.identity.record_ttl_ns = int64_t(1) << 62;  // the capture spans years of packet time
    cfg.ring.name = "swtest-pipeline-" + std::to_string(::getpid());
    cfg.ring.capacity = 1024;

    Collect out;
    {
        service::Pipeline p(cfg, {.pcap_file = kCapture}, &out);
        EXPECT_TRUE(p.replaying());
        EXPECT_EQ(p.capture_description(), "replay of " + kCapture);
        int steps = 0;
        while (p.step(0))
            ++steps;
        EXPECT_FALSE(p.step(0));  // stays ended

        EXPECT_EQ(out.n, conns.size());
        for (const auto& c : conns) {
            const auto it = out.accounts.find({c.src, c.port});
            ASSERT_NE(it, out.accounts.end()) << c.src << ":" << c.port;
            EXPECT_EQ(it->second, "acct-" + std::to_string(c.port));
        }
        ops::MetricSet m;
        p.collect(m);
        EXPECT_EQ(m.find("sybilwatch_observations_total")->value, double(conns.size()));
        EXPECT_EQ(m.find("sybilwatch_attribution_hit_ratio")->value, 1.0);
        EXPECT_EQ(m.find("sybilwatch_ring_published_total")->value, double(conns.size()));
        EXPECT_EQ(m.find("sybilwatch_attribution_lines_total", {{"reason", "not_json"}})->value, 1);
    }
    std::remove(log.c_str());
    ::rmdir(dir.c_str());
}

TEST(Pipeline, MissingCaptureIsAnErrorNamingIt) {
    config::DaemonConfig cfg;
    cfg.identity.socket_path.clear();
    cfg.ring.name.clear();
    try {
        service::Pipeline p(cfg, {.pcap_file = "/nonexistent.pcap"}, nullptr);
        FAIL() << "expected an error";
    } catch (const std::exception& e) {
        EXPECT_NE(std::string(e.what()).find("/nonexistent.pcap"), std::string::npos) << e.what();
    }
}
