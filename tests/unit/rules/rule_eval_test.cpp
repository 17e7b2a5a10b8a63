// Rules against real observations (a FoxIO reference capture through fingerprint::Engine),
// and the promise that evaluation allocates nothing.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <new>
#include <nlohmann/json.hpp>

#include "capture/pcap_file.hpp"
#include "capture/source.hpp"
#include "fingerprint/engine.hpp"
#include "rules/default_pack.hpp"
#include "rules/engine.hpp"
#include "rules_test_util.hpp"

// Every allocation of this test binary is counted (only the counter is new behaviour).
// GCC sees malloc'd memory reach free() through the replaced operators and warns; that pairing
// is exactly what replacing them means.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
namespace {
std::atomic<uint64_t> g_allocations{0};
}
void* operator new(size_t n) {
    g_allocations.fetch_add(1, std::memory_order_relaxed);
    if (void* p = std::malloc(n ? n : 1)) return p;
    throw std::bad_alloc();
}
void* operator new[](size_t n) {
    g_allocations.fetch_add(1, std::memory_order_relaxed);
    if (void* p = std::malloc(n ? n : 1)) return p;
    throw std::bad_alloc();
}
// The nothrow forms (std::stable_sort's temporary buffer) must allocate the same way, or a
// sanitizer's own nothrow new would be freed by the free() below.
void* operator new(size_t n, const std::nothrow_t&) noexcept {
    g_allocations.fetch_add(1, std::memory_order_relaxed);
    return std::malloc(n ? n : 1);
}
void* operator new[](size_t n, const std::nothrow_t&) noexcept {
    g_allocations.fetch_add(1, std::memory_order_relaxed);
    return std::malloc(n ? n : 1);
}
void operator delete(void* p, const std::nothrow_t&) noexcept {
    std::free(p);
}
void operator delete[](void* p, const std::nothrow_t&) noexcept {
    std::free(p);
}
void operator delete(void* p) noexcept {
    std::free(p);
}
void operator delete[](void* p) noexcept {
    std::free(p);
}
void operator delete(void* p, size_t) noexcept {
    std::free(p);
}
void operator delete[](void* p, size_t) noexcept {
    std::free(p);
}

using namespace sybilwatch;
using namespace sybilwatch::rules;
using namespace sybilwatch::rules::test;

namespace {

struct Collect : fingerprint::ObservationSink {
    std::vector<fingerprint::Observation> out;
    void on_observation(const fingerprint::Observation& o) override { out.push_back(o); }
};

std::vector<fingerprint::Observation> observations(const std::string& pcap) {
    Collect c;
    fingerprint::EngineConfig cfg;
    fingerprint::Engine engine(cfg, c);
    capture::PcapFile file(std::string(SW_SHARED_DIR) + "/conformance/foxio/pcap/" + pcap);
    capture::EngineFeed feed(engine);
    while (file.poll(0, feed) >= 0) {
    }
    engine.flush();
    return c.out;
}

// A realistic pack: a macro, a list of 50 JA4s, a CIDR list and a regex.
std::string realistic_rule(const std::string& extra_ja4) {
    std::string list = "- list: known_ja4\n  items: [";
    for (int i = 0; i < 49; ++i) {
        char b[64];
        std::snprintf(b, sizeof b, "t13d%04dh2_8daaf6152771_%012x, ", 1500 + i, i * 7919);
        list += b;
    }
    list += extra_ja4 + "]\n";
    return list + R"(- list: cloud_nets
  items: [10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, 100.64.0.0/10, 2001:db8::/32]
- macro: tls_client
  condition: ja4 exists and transport in (tcp, quic)
- rule: realistic
  desc: d
  condition: >
    tls_client and ja4 in (known_ja4) and ip in (cloud_nets)
    and sni regex '(^|\.)(lastpass|akamaized|example)\.(com|net)$'
)";
}

}  // namespace

TEST(RuleEval, ReferenceCaptureMatchesReferenceJson) {
    const auto obs = observations("tls-handshake.pcapng");
    ASSERT_FALSE(obs.empty());
    // The expected count from the Python reference output for the same capture.
    std::ifstream in(std::string(SW_SHARED_DIR) +
                     "/conformance/foxio/python/test/testdata/tls-handshake.pcapng.json");
    const auto ref = nlohmann::json::parse(in);
    const std::string ja4 = "t13d1516h2_8daaf6152771_e5627efa2ab1";
    size_t expected = 0;
    for (const auto& c : ref)
        if (c.value("JA4.1", "") == ja4 && c.value("src", "").starts_with("192.168.")) ++expected;
    ASSERT_GT(expected, 0u);

    const LoadResult r =
        load(realistic_rule(ja4) + "- rule: plain\n  desc: d\n  condition: ja4 = " + ja4 +
             " and ip in (192.168.0.0/16)\n");
    ASSERT_TRUE(r.ok()) << errors_of(r);
    const RuleSpec& plain = *r.rules.find("plain");
    const RuleSpec& realistic = *r.rules.find("realistic");
    size_t plain_hits = 0, realistic_hits = 0, realistic_expected = 0;
    for (const auto& o : obs) {
        const EvalContext ctx(o);
        plain_hits += plain.matches(ctx);
        realistic_hits += realistic.matches(ctx);
        // The regex, spelt out: a (sub)domain of one of six names.
        const std::string_view sni = o.sni.view();
        bool name = false;
        for (const char* d : {"lastpass.com", "lastpass.net", "akamaized.com", "akamaized.net",
                              "example.com", "example.net"})
            name = name || sni == d || sni.ends_with(std::string(".") + d);
        realistic_expected +=
            o.ja4 == ja4 && name && o.src.bytes[0] == 192 && o.src.bytes[1] == 168;
    }
    EXPECT_EQ(plain_hits, expected);
    EXPECT_GT(realistic_expected, 0u);
    EXPECT_EQ(realistic_hits, realistic_expected);
}

TEST(RuleEval, EvaluationAllocatesNothing) {
    const std::string ja4 = "t13d1516h2_8daaf6152771_e5627efa2ab1";
    const LoadResult r = load(realistic_rule(ja4) + R"y(- rule: agg
  desc: d
  kind: aggregate
  condition: ja4 exists and not sni icontains CDN and sni pmatch (api., www.)
  group_by: [ja4, net24, bucket(rtt_ms, 5)]
  window: 1h
  threshold: distinct(account) / count >= 0.5 and sum(requests) > 10
  output: "%account_count accounts on %ja4 from %net24 (%rtt_ms ms)"
  exceptions:
    - name: office
      fields: [net24, ja4]
      values: [[203.0.113.0/24, x]]
)y");
    ASSERT_TRUE(r.ok()) << errors_of(r);
    std::vector<fingerprint::Observation> obs = observations("tls-handshake.pcapng");
    obs.push_back(browser_obs());
    auto v6 = browser_obs();
    v6.src = net::IpAddress::parse("2001:db8::1");
    obs.push_back(v6);
    const RuleSpec& agg = *r.rules.find("agg");
    const std::vector<double> measures{3, 4, 50};
    std::string out, key;
    out.reserve(4096);
    key.reserve(4096);
    auto run = [&] {
        size_t hits = 0;
        for (const auto& o : obs) {
            const identity::AttributedObservation a{o, "acct-1", "", ""};
            const EvalContext ctx(a);
            for (const RuleSpec& rule : r.rules.rules()) {
                hits += rule.matches(ctx);
                hits += key_hash(ctx, rule.group_by).value_or(0) & 1;
                key.clear();
                append_key_text(ctx, rule.group_by, key);
                hits += rule.threshold.eval(measures);
                out.clear();
                rule.output.render(&ctx, measures, out);
            }
        }
        return hits;
    };
    run();  // warms RE2's lazily built DFA
    const uint64_t before = g_allocations.load();
    size_t hits = 0;
    for (int i = 0; i < 20; ++i)
        hits += run();
    EXPECT_EQ(g_allocations.load() - before, 0u);
    EXPECT_GT(hits, 0u);
    EXPECT_TRUE(agg.threshold.eval(measures));
}

// The engine with the default pack, once its accounts, groups, keys and sample ring have
// been seen: an observation allocates nothing (the rules' states are warm, the engine's
// per-observation buffers are reused).
TEST(RuleEval, EngineObservesWithoutAllocatingOnceWarm) {
    struct CountFindings : FindingSink {
        uint64_t n = 0;
        void on_finding(const Finding&) override { ++n; }
    } findings;
    LoadResult pack = load_rules_text(default_pack());
    ASSERT_TRUE(pack.ok()) << errors_of(pack);
    Engine engine(std::make_shared<const RuleSet>(std::move(pack.rules)), {}, findings);
    std::vector<fingerprint::Observation> obs = observations("tls-handshake.pcapng");
    obs.push_back(browser_obs());
    if (obs.size() % 2 == 0) obs.push_back(browser_obs());
    // An odd count: every slot of the 4096-entry sample ring sees every observation's strings.
    ASSERT_EQ(obs.size() % 2, 1u);
    const char* names[] = {"acct-1", "acct-2", "account-three@example.com"};
    int64_t t = 1'700'000'000'000'000'000;
    uint64_t seq = 0;
    auto feed = [&](size_t n) {
        for (size_t i = 0; i < n; ++i, ++seq) {
            fingerprint::Observation& o = obs[seq % obs.size()];
            o.ts_ns = t += 1'000'000;  // 1 ms apart
            engine.observe(identity::AttributedObservation{o, names[seq % 3], "", ""});
        }
    };
    feed(obs.size() * 4096 + obs.size());
    const uint64_t before = g_allocations.load();
    feed(20'000);
    EXPECT_EQ(g_allocations.load() - before, 0u);
    EXPECT_EQ(engine.accounts(), 3u);
    EXPECT_GT(engine.stats().matches, 0u);
    EXPECT_EQ(findings.n, 0u);
}
