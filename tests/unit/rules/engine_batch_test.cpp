// Engine::observe of a span must be observing one by one, only faster: the same findings (every
// field, in order) and the same saved state, whatever the batch sizes, across window boundaries
// inside a batch, event-time jitter, unattributed observations, truncated account names and a
// rule reload. The workload is three hours of the default pack's farms (rules/ in the source
// tree): a linked farm behind one /24 on an uncommon stack, a proxy-rotating farm, lock-step
// accounts, and ordinary browser traffic.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "fingerprint/observation.hpp"
#include "identity/attributed_observation.hpp"
#include "rules/engine.hpp"
#include "rules/hash_index.hpp"
#include "rules/observation_batch.hpp"
#include "rules/rule_loader.hpp"

namespace sybilwatch::rules {
namespace {

constexpr int64_t kSec = 1'000'000'000;
constexpr int64_t kMin = 60 * kSec;
constexpr int64_t kT0 = 1'700'000'000 * kSec;

std::shared_ptr<const RuleSet> pack(const std::string& extra = "") {
    const std::vector<std::string> paths{SW_SOURCE_DIR "/rules"};
    LoadResult r = load_rules(paths);
    EXPECT_TRUE(r.ok());
    if (extra.empty()) return std::make_shared<const RuleSet>(std::move(r.rules));
    // The pack with its lock-step rule replaced by the rules in `extra`.
    std::vector<RuleSource> sources;
    for (const char* f :
         {"macros.yaml", "lists_clients.yaml", "lists_local.yaml", "linked_account_cluster.yaml",
          "new_account_burst.yaml", "proxy_rotation.yaml", "shared_uncommon_stack.yaml"}) {
        FILE* fp = std::fopen((std::string(SW_SOURCE_DIR "/rules/") + f).c_str(), "rb");
        EXPECT_NE(fp, nullptr) << f;
        std::string text;
        char buf[4096];
        for (size_t n; fp && (n = std::fread(buf, 1, sizeof buf, fp)) > 0;)
            text.append(buf, n);
        if (fp) std::fclose(fp);
        sources.push_back({f, text});
    }
    sources.push_back({"extra.yaml", extra});
    LoadResult x = load_rules_text(sources);
    EXPECT_TRUE(x.ok()) << (x.errors.empty() ? "" : x.errors[0].to_string());
    return std::make_shared<const RuleSet>(std::move(x.rules));
}

// Every field of a finding, as text: two runs agree iff their texts do.
std::string text_of(const Finding& f) {
    std::string s = f.finding_id + " " + std::to_string(f.revision) + " " + to_string(f.activity) +
                    " " + f.rule + " " + f.kind + " " + f.title + " | " + f.output + " | " +
                    to_string(f.severity);
    for (const auto& t : f.tags)
        s += " tag:" + t;
    for (const auto& [k, v] : f.group)
        s += " group:" + k + "=" + v;
    char num[64];
    for (const auto& [k, v] : f.measures) {
        std::snprintf(num, sizeof num, "%.17g", v);
        s += " m:" + k + "=" + num;
    }
    s += " n=" + std::to_string(f.account_count) + (f.accounts_truncated ? "+" : "");
    for (const auto& a : f.accounts)
        s += " a:" + a;
    for (const auto* list : {&f.keys, &f.networks, &f.client_stacks})
        for (const auto& k : *list)
            s += " k:" + k.field + "=" + k.value + "/" + std::to_string(k.accounts);
    s += " obs=" + std::to_string(f.observations) + " req=" + std::to_string(f.requests) +
         " cb=" + std::to_string(f.client_bytes) + " sb=" + std::to_string(f.server_bytes) +
         " first=" + std::to_string(f.first_seen_ns) + " last=" + std::to_string(f.last_seen_ns) +
         " at=" + std::to_string(f.emitted_ns);
    for (const auto& c : f.samples)
        s += " sample:" + std::to_string(c.ts_ns) + "," + c.src.to_string() + ":" +
             std::to_string(c.src_port) + "," + c.account + "," + c.ja4 + "," + c.tcp_sig + "," +
             c.user_agent + "," + c.sni;
    return s;
}

struct Recorder : FindingSink {
    std::vector<std::string> lines;
    void on_finding(const Finding& f) override { lines.push_back(text_of(f)); }
};

// Three hours of traffic, in event-time order with a little jitter (connections are reported
// when they end, so starts arrive slightly out of order).
struct Workload {
    std::vector<fingerprint::Observation> obs;
    std::vector<std::string> accounts, agents;
    std::vector<identity::AttributedObservation> views;

    Workload() {
        const char* kChrome = "t13d1516h2_8daaf6152771_02713d6af862";
        const char* kFarmStack = "t13d1010h1_aaaaaaaaaaaa_bbbbbbbbbbbb";
        const char* kProxyStack = "t13d0909h1_cccccccccccc_dddddddddddd";
        const char* kSig = "4:64+0:0:1460:mss*44,7:mss,sok,ts,nop,ws:df,id+:0";
        uint64_t rng = 7;
        auto next = [&] { return rng = mix64(rng + 0x9e3779b97f4a7c15ULL); };
        auto add = [&](int64_t t, std::string account, const char* ja4, uint32_t ip, int rtt_ms) {
            fingerprint::Observation o;
            o.ts_ns = t;
            const uint8_t b[4] = {static_cast<uint8_t>(ip >> 24), static_cast<uint8_t>(ip >> 16),
                                  static_cast<uint8_t>(ip >> 8), static_cast<uint8_t>(ip)};
            o.src = net::IpAddress::v4(b);
            o.dst = net::IpAddress::parse("192.0.2.1");
            o.src_port = static_cast<uint16_t>(32768 + next() % 28000);
            o.dst_port = 443;
            o.sni.assign("api.example.com");
            o.ja4.assign(ja4);
            o.tcp_sig.assign(kSig);
            o.rtt_us = rtt_ms * 1000 + static_cast<int64_t>(next() % 500);
            o.cadence.requests = 1 + next() % 5;
            o.cadence.client_bytes = 500 + next() % 2000;
            o.cadence.server_bytes = 4000 + next() % 9000;
            obs.push_back(o);
            accounts.push_back(std::move(account));
            agents.push_back(next() % 2 ? "okhttp/4.12.0" : "");
        };
        for (int m = 0; m < 180; ++m) {
            const int64_t base = kT0 + m * kMin;
            // The linked farm: 120 accounts behind 203.0.113.0/24, every minute (lock-step).
            for (uint32_t a = 0; a < 120; ++a)
                add(base + (a * 7 + m) % 50 * kSec, "farm" + std::to_string(a) + "@example.com",
                    kFarmStack, 0xcb007100u + a, 40);
            // Proxy rotation: 30 accounts, each connection from another /24.
            for (uint32_t a = 0; a < 30; ++a)
                if ((a + m) % 3 == 0)
                    add(base + static_cast<int64_t>(next() % 60) * kSec,
                        "proxy" + std::to_string(a), kProxyStack,
                        0x0a000001u + static_cast<uint32_t>(next() % 5000) * 256,
                        20 + static_cast<int>(next() % 200));
            // Ordinary browsers, some unattributed, one with a name past the table's limit.
            for (uint32_t k = 0; k < 60; ++k) {
                const uint32_t a = static_cast<uint32_t>(next() % 2000);
                std::string name = k % 9 == 0 ? "" : "user" + std::to_string(a);
                if (k == 1) name = std::string(300, 'x') + std::to_string(m % 3);
                add(base + static_cast<int64_t>(next() % 60) * kSec, std::move(name), kChrome,
                    0xc6336400u + a * 3, 10 + static_cast<int>(a % 90));
            }
        }
        // Sorted by time, then each swapped with a neighbour now and then (jitter).
        std::vector<size_t> order(obs.size());
        for (size_t i = 0; i < order.size(); ++i)
            order[i] = i;
        std::stable_sort(order.begin(), order.end(),
                         [&](size_t x, size_t y) { return obs[x].ts_ns < obs[y].ts_ns; });
        for (size_t i = 1; i < order.size(); ++i)
            if (next() % 10 == 0) std::swap(order[i - 1], order[i]);
        std::vector<fingerprint::Observation> o2;
        std::vector<std::string> a2, u2;
        for (size_t i : order) {
            o2.push_back(obs[i]);
            a2.push_back(accounts[i]);
            u2.push_back(agents[i]);
        }
        obs = std::move(o2);
        accounts = std::move(a2);
        agents = std::move(u2);
        for (size_t i = 0; i < obs.size(); ++i)
            views.push_back(identity::AttributedObservation{obs[i], accounts[i], agents[i], {}, 0});
    }
};

const Workload& workload() {
    static const Workload w;
    return w;
}

// A reload halfway: the lock-step rule changes (its state starts over and its findings close),
// a match rule is added; the others keep their state.
const char* kReload =
    "- rule: lockstep_accounts\n"
    "  desc: Accounts active in lock-step, as if driven by one scheduler\n"
    "  kind: synchrony\n"
    "  condition: attributed and not farm_exempt\n"
    "  bucket: 1m\n"
    "  window: 6h\n"
    "  min_similarity: 0.8\n"
    "  min_active_buckets: 30\n"
    "  min_accounts: 10\n"
    "- rule: farm_stack_seen\n"
    "  desc: the farm's stack\n"
    "  condition: ja4 = \"t13d1010h1_aaaaaaaaaaaa_bbbbbbbbbbbb\"\n";

struct Outcome {
    std::vector<std::string> findings;
    std::vector<uint8_t> state;
    EngineStats stats;
};

// The workload through one engine. batch_sizes empty: one by one; else observe(span) with
// batches of these sizes in turn. advance() once per event-second (as sybilwatchd does) and
// the reload at the same points either way, never inside a batch.
Outcome run(const std::vector<size_t>& batch_sizes) {
    const Workload& w = workload();
    Recorder rec;
    EngineOptions eo;
    Engine e(pack(), eo, rec);
    const size_t reload_at = w.views.size() / 2;
    int64_t advanced = w.obs.front().ts_ns;
    size_t turn = 0;
    size_t i = 0;
    while (i < w.views.size()) {
        // The observations up to the next advance (or the reload).
        size_t end = i;
        while (end < w.views.size() && w.obs[end].ts_ns - advanced < kSec &&
               (end != reload_at || end == i))
            ++end;
        if (end == i) ++end;
        if (batch_sizes.empty()) {
            for (size_t k = i; k < end; ++k)
                e.observe(w.views[k]);
        } else {
            for (size_t k = i; k < end;) {
                const size_t n = std::min(batch_sizes[turn++ % batch_sizes.size()], end - k);
                e.observe(std::span<const identity::AttributedObservation>(w.views).subspan(k, n));
                k += n;
            }
        }
        i = end;
        if (i == reload_at) e.replace_rules(pack(kReload));
        if (i < w.views.size() && w.obs[i].ts_ns - advanced >= kSec) {
            advanced = w.obs[i].ts_ns;
            e.advance(advanced - 1);
        }
    }
    e.advance(w.obs.back().ts_ns);
    e.flush();
    return {std::move(rec.lines), e.save(), e.stats()};
}

const Outcome& one_by_one() {
    static const Outcome r = run({});
    return r;
}

void expect_same(const Outcome& got, const Outcome& want) {
    ASSERT_EQ(got.findings.size(), want.findings.size());
    for (size_t i = 0; i < want.findings.size(); ++i)
        ASSERT_EQ(got.findings[i], want.findings[i]) << "finding " << i;
    EXPECT_TRUE(got.state == want.state) << "saved state differs";
    EXPECT_EQ(got.stats.observations, want.stats.observations);
    EXPECT_EQ(got.stats.evaluations, want.stats.evaluations);
    EXPECT_EQ(got.stats.matches, want.stats.matches);
    EXPECT_EQ(got.stats.suppressed, want.stats.suppressed);
    EXPECT_EQ(got.stats.accounts_refused, want.stats.accounts_refused);
}

TEST(EngineBatch, WorkloadRaisesFindingsOfEveryKind) {
    // Otherwise the comparisons below would prove little.
    const Outcome& r = one_by_one();
    for (const char* rule : {"linked_account_cluster", "lockstep_accounts", "new_account_burst",
                             "proxy_rotation", "shared_uncommon_stack", "farm_stack_seen"}) {
        const bool seen = std::any_of(r.findings.begin(), r.findings.end(), [&](const auto& f) {
            return f.find(std::string(" ") + rule + " ") != std::string::npos;
        });
        EXPECT_TRUE(seen) << rule;
    }
    // Findings on both sides of the reload.
    EXPECT_GT(r.findings.size(), 20u);
    EXPECT_EQ(r.stats.observations, workload().views.size());
}

TEST(EngineBatch, FullChunksGiveTheSameFindingsAndState) {
    expect_same(run({32}), one_by_one());
}

TEST(EngineBatch, MixedSizesGiveTheSameFindingsAndState) {
    // Sizes below, at and above the engine's internal chunk, and single observations.
    expect_same(run({1, 7, 32, 33, 64, 100, 2}), one_by_one());
}

TEST(EngineBatch, WholeSecondsAtOnceGiveTheSameFindingsAndState) {
    // Batches as long as the gaps between advance() calls: every batch spans minute (window
    // slice and synchrony bucket) boundaries whenever the traffic crosses one.
    expect_same(run({100000}), one_by_one());
}

TEST(EngineBatch, EmptyBatchChangesNothing) {
    Recorder rec;
    Engine e(pack(), EngineOptions{}, rec);
    const std::vector<uint8_t> before = e.save();
    e.observe(std::span<const identity::AttributedObservation>());
    EXPECT_EQ(e.stats().observations, 0u);
    EXPECT_TRUE(e.save() == before);
}

TEST(ObservationBatch, CopiesWhatTheReferencesPointTo) {
    ObservationBatch b(2);
    EXPECT_EQ(b.capacity(), 2u);
    fingerprint::Observation o;
    o.ts_ns = 5;
    o.ja4.assign("t13d1516h2_8daaf6152771_02713d6af862");
    std::string account = "alice", agent = "curl/8.5.0", request = "r-1";
    EXPECT_FALSE(b.add(identity::AttributedObservation{o, account, agent, request, 1.5}));
    // The caller's storage is reused for the next one, as the joiner's is.
    o.ts_ns = 6;
    o.ja4.assign("t13d0909h1_cccccccccccc_dddddddddddd");
    account = "bob";
    EXPECT_TRUE(b.add(identity::AttributedObservation{o, account, {}, {}, 0}));
    ASSERT_EQ(b.size(), 2u);
    const auto v = b.view();
    EXPECT_EQ(v[0].obs.ts_ns, 5);
    EXPECT_EQ(v[0].obs.ja4.view(), "t13d1516h2_8daaf6152771_02713d6af862");
    EXPECT_EQ(v[0].account, "alice");
    EXPECT_EQ(v[0].user_agent, "curl/8.5.0");
    EXPECT_EQ(v[0].request_id, "r-1");
    EXPECT_EQ(v[0].record_ts, 1.5);
    EXPECT_EQ(v[1].account, "bob");
    EXPECT_FALSE(v[1].attributed() && v[1].user_agent.size() > 0);
    b.clear();
    EXPECT_TRUE(b.empty());
    EXPECT_FALSE(b.add(identity::AttributedObservation{o, {}, {}, {}, 0}));
    EXPECT_FALSE(b.view()[0].attributed());
}

}  // namespace
}  // namespace sybilwatch::rules
