// The rules engine end to end (rules::Engine::observe, every rule's condition, the stateful
// runtimes, finding assembly) through the default pack (rules/ in the source tree), with
// 1,000,000 distinct accounts: the issue's `make bench` figure. Target: at least 1,000,000
// observations/s on one core and under 512 B per tracked account.
//
// Workload: 1,000,000 observations per event-minute, handed over in batches of 32
// (Engine::observe of a span, as sybilwatchd's rules stage and replay do), advance() once per
// event-second as sybilwatchd does. Accounts have independent 10-minute sessions (active with p =
// 1/4); their client stacks follow what an API edge sees (70% on popular browser and SDK JA4s from
// the pack's lists, 30% (the benchmark's argument, per mille) spread over 500 uncommon ones); a
// quarter sit behind 1,000 carrier-NAT addresses, the rest have their own address (mostly their own
// /24). Before timing every account is seen once and 30 event-minutes run, so the engine tracks ~1M
// accounts and the periodic work (link rebuilds, synchrony scans, window expiry) is in the timed
// steady state. Counters: rules (enabled) and keys (group_by and link_on keys of the pack),
// accounts, bytes per account by the engine's own accounting (in total and by part: account
// table, aggregate, link and synchrony states, bookkeeping) and by process RSS, findings.
// BM_WorkloadGenerator times the generator alone (choosing the accounts of a batch and
// fetching their records together, building the observations, copying the accounts' names as
// the joiner hands them over), which the first figure includes. Machine load skews wall time:
// compare the CPU column, or two builds side by side (bench/compare_rules.sh).
// RULES_BENCH_PACK=DIR runs another pack (what one rule kind costs alone).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "fingerprint/observation.hpp"
#include "identity/attributed_observation.hpp"
#include "rules/engine.hpp"
#include "rules/hash_index.hpp"
#include "rules/rule_loader.hpp"

namespace {

using namespace sybilwatch;

constexpr int64_t kSec = 1'000'000'000;
constexpr int64_t kMin = 60 * kSec;
constexpr int64_t kT0 = 29'929'559 * kMin;
constexpr uint32_t kAccounts = 1'000'000;
constexpr uint64_t kPerMinute = 1'000'000;
constexpr uint32_t kUncommonStacks = 500;

size_t rss_bytes() {
    FILE* f = std::fopen("/proc/self/statm", "r");
    if (!f) return 0;
    unsigned long pages = 0, resident = 0;
    if (std::fscanf(f, "%lu %lu", &pages, &resident) != 2) resident = 0;
    std::fclose(f);
    return resident * 4096;
}

// Popular stacks from rules/lists_clients.yaml (Chrome, Safari, Python, Node, curl, Go).
const char* const kPopular[] = {
    "t13d1516h2_8daaf6152771_e5627efa2ab1", "t13d1516h2_8daaf6152771_02713d6af862",
    "t13d2014h2_a09f3c656075_14788d8d241b", "t13d1812h1_85036bcba153_d41ae481755e",
    "t13d591000_a33745022dd6_1f22a2ca17c4", "t13d3112h2_e8f1e7e78f70_b26ce05bbdd6",
    "t13d190900_9dc949149365_97f8aa674fd9",
};
const char* const kSigs[] = {
    "4:128+0:0:1460:mss*44,8:mss,nop,ws,nop,nop,sok:df,id+:0",
    "4:64+0:0:1460:mss*44,7:mss,sok,ts,nop,ws:df,id+:0",
    "4:64+0:0:1460:65535,6:mss,nop,ws,nop,nop,ts,sok,eol+1:df,id+:0",
};

struct Account {
    // In the record (names here are at most 28 bytes), so picking an account costs the
    // generator one cache miss, not two.
    std::array<char, 28> text{};
    uint8_t len = 0;
    uint32_t ip;
    uint16_t stack;  // < 7: popular; else uncommon
    uint8_t sig;
    uint8_t rtt_ms;
};

struct Workload {
    std::vector<Account> accounts;
    std::vector<std::string> stacks;
    Workload() {
        for (const char* p : kPopular)
            stacks.emplace_back(p);
        for (uint32_t s = 0; s < kUncommonStacks; ++s) {
            char buf[40];
            std::snprintf(buf, sizeof buf, "t13d%04uh1_%012llx_%012llx", 1000 + s,
                          (unsigned long long)(rules::mix64(s) >> 16),
                          (unsigned long long)(rules::mix64(s + 7) >> 16));
            stacks.emplace_back(buf);
        }
        accounts.reserve(kAccounts);
        for (uint32_t a = 0; a < kAccounts; ++a) {
            const uint64_t h = rules::mix64(a + 1);
            const uint32_t s = h % 1000;
            const uint16_t stack = s < 700 ? static_cast<uint16_t>(s % 7)
                                           : static_cast<uint16_t>(7 + (h >> 12) % kUncommonStacks);
            const uint32_t ip = (h >> 20) % 4 == 0
                                    ? 0x64400000u + static_cast<uint32_t>((h >> 24) % 1000)
                                    : 0x0b000000u + a * 7;
            const std::string name =
                "user-" + std::to_string(rules::mix64(a) % 100'000'000'000ULL) + "@example.com";
            Account rec{{},
                        static_cast<uint8_t>(name.size()),
                        ip,
                        stack,
                        static_cast<uint8_t>((h >> 32) % 3),
                        static_cast<uint8_t>(5 + (h >> 40) % 120)};
            name.copy(rec.text.data(), rec.text.size());
            accounts.push_back(rec);
        }
    }
};

Workload& workload() {
    static Workload w;
    return w;
}

struct CountFindings : rules::FindingSink {
    uint64_t n = 0;
    void on_finding(const rules::Finding&) override { ++n; }
};

std::shared_ptr<const rules::RuleSet> pack() {
    // RULES_BENCH_PACK: another pack (development: what each rule costs).
    const char* dir = std::getenv("RULES_BENCH_PACK");
    const std::vector<std::string> paths{dir ? dir : SW_SOURCE_DIR "/rules"};
    rules::LoadResult r = rules::load_rules(paths);
    if (!r.ok()) {
        for (const auto& d : r.errors)
            std::fprintf(stderr, "%s\n", d.to_string().c_str());
        std::abort();
    }
    return std::make_shared<const rules::RuleSet>(std::move(r.rules));
}

struct Driver {
    // Observations reach the engine in batches (Engine::observe of a span), as the daemon's
    // rules stage and replay hand them over; a batch is flushed before every advance().
    static constexpr size_t kBatch = 32;
    rules::Engine* engine;  // nullptr: the generator alone (BM_WorkloadGenerator)
    std::vector<fingerprint::Observation> obs{kBatch};
    std::vector<std::string> names{kBatch};  // accounts, copied as the joiner hands them over
    std::vector<identity::AttributedObservation> batch;
    std::array<uint32_t, kBatch> picks{};
    uint64_t rng = 1, seq = 0;
    uint32_t uncommon_permille = 300;  // share of accounts on an uncommon stack

    explicit Driver(rules::Engine* e, uint32_t uncommon) : engine(e), uncommon_permille(uncommon) {
        batch.reserve(kBatch);
        for (fingerprint::Observation& o : obs) {
            o.dst = net::IpAddress::parse("192.0.2.1");
            o.dst_port = 443;
            o.sni.assign("api.example.com");
            o.alpn.assign("h2");
            o.syn_seen = o.client_hello_seen = o.server_hello_seen = true;
            o.end = fingerprint::EndReason::Fin;
            o.cadence.responses = 1;
            o.cadence.duration_us = 2'000'000;
        }
    }

    // The next account active in event-minute m: independent 10-minute sessions, p = 1/4,
    // drawn uniformly from the accounts active in m's 10-minute block (listed once per block,
    // so a draw costs one hash, not four draws and four divisions rejected three times).
    std::vector<uint32_t> active;
    int64_t active_block = -1;
    uint32_t pick(int64_t minute) {
        if (minute / 10 != active_block) {
            active_block = minute / 10;
            const uint64_t block = static_cast<uint64_t>(active_block) * 0x9e3779b97f4a7c15ULL;
            active.clear();
            for (uint32_t a = 0; a < kAccounts; ++a)
                if ((rules::mix64(a ^ block) & 3) == 0) active.push_back(a);
        }
        rng = rules::mix64(rng + 0x632be59bd9b4e019ULL);
        return active[((rng >> 32) * active.size()) >> 32];
    }

    void observe(uint32_t acct, int64_t t) {
        const Account& w = workload().accounts[acct];
        fingerprint::Observation& o = obs[batch.size()];
        std::string& name = names[batch.size()];
        o.ts_ns = t;
        const uint8_t ip[4] = {static_cast<uint8_t>(w.ip >> 24), static_cast<uint8_t>(w.ip >> 16),
                               static_cast<uint8_t>(w.ip >> 8), static_cast<uint8_t>(w.ip)};
        o.src = net::IpAddress::v4(ip);
        o.src_port = static_cast<uint16_t>(32768 + (seq & 0x7fff));
        // Accounts beyond the requested uncommon share use a popular stack instead.
        const bool keep = w.stack < 7 || rules::mix64(acct) % 300 < uncommon_permille;
        o.ja4.assign(workload().stacks[keep ? w.stack : acct % 7]);
        o.tcp_sig.assign(kSigs[w.sig]);
        o.client_ttl = w.sig == 0 ? 116 : 52;
        o.rtt_us = w.rtt_ms * 1000 + static_cast<int64_t>(seq % 900);
        o.cadence.requests = 1 + (seq & 3);
        o.cadence.client_bytes = 600 + (seq & 1023);
        o.cadence.server_bytes = 4000 + (seq & 4095);
        name.assign(w.text.data(), w.len);
        batch.push_back(identity::AttributedObservation{o, name, {}, {}, 0});
        if (batch.size() == kBatch) flush();
        ++seq;
    }

    void flush() {
        if (engine && !batch.empty())
            engine->observe(std::span<const identity::AttributedObservation>(batch));
        batch.clear();
    }

    // n observations spread over [base, base + n * step): the accounts of a batch are chosen
    // first and their records fetched together, as a feed would hand over data it has just
    // touched, so the generator's own cache misses stay small beside the engine's.
    void observe_span(int64_t minute, int64_t base, uint64_t from, uint64_t n, int64_t step) {
        for (uint64_t i = 0; i < n;) {
            const size_t k = std::min<uint64_t>(kBatch - batch.size(), n - i);
            for (size_t j = 0; j < k; ++j) {
                picks[j] = pick(minute);
                const Account* rec = &workload().accounts[picks[j]];
                __builtin_prefetch(rec);
                __builtin_prefetch(reinterpret_cast<const char*>(rec + 1) - 1);
            }
            for (size_t j = 0; j < k; ++j, ++i)
                observe(picks[j], base + static_cast<int64_t>((from + i) * step));
        }
    }

    void run_minute(int64_t minute) {
        const int64_t base = kT0 + minute * kMin;
        constexpr uint64_t kPerSecond = kPerMinute / 60;
        constexpr int64_t kStep = kMin / kPerMinute;
        for (uint64_t i = 0; i < kPerMinute; i += kPerSecond) {
            const uint64_t n = std::min(kPerSecond, kPerMinute - i);
            observe_span(minute, base, i, n, kStep);
            flush();
            if (engine && n == kPerSecond)
                engine->advance(base + static_cast<int64_t>((i + n - 1) * kStep));
        }
        flush();
        if (engine) engine->advance(base + kMin - 1);
    }
};

void BM_RulesEngineDefaultPack(benchmark::State& state) {
    workload();
    const auto rules = pack();
    size_t enabled = 0, keys = 0;
    for (const auto& r : rules->rules()) {
        if (!r.enabled) continue;
        ++enabled;
        keys += r.group_by.size() + r.link_on.size();
    }
    const size_t rss0 = rss_bytes();
    CountFindings findings;
    rules::EngineOptions eo;
    rules::Engine engine(rules, eo, findings);
    Driver d(&engine, static_cast<uint32_t>(state.range(0)));
    for (uint32_t a = 0; a < kAccounts; ++a)
        d.observe(a, kT0 + a);
    d.flush();
    // RULES_BENCH_WARMUP_MINUTES shortens the warm-up (development); the figure is for 30.
    const char* env = std::getenv("RULES_BENCH_WARMUP_MINUTES");
    const int64_t warmup = env ? std::atoll(env) : 30;
    int64_t minute = 1;
    for (; minute <= warmup; ++minute)
        d.run_minute(minute);
    for (auto _ : state)
        d.run_minute(minute++);
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kPerMinute));
    const double tracked = static_cast<double>(engine.accounts());
    state.counters["rules"] = static_cast<double>(enabled);
    state.counters["keys"] = static_cast<double>(keys);
    state.counters["accounts"] = tracked;
    const rules::EngineMemory mem = engine.memory();
    state.counters["B_per_account_own"] = static_cast<double>(mem.total()) / tracked;
    state.counters["table_B"] = static_cast<double>(mem.accounts) / tracked;
    state.counters["agg_B"] = static_cast<double>(mem.aggregate) / tracked;
    state.counters["link_B"] = static_cast<double>(mem.link) / tracked;
    state.counters["sync_B"] = static_cast<double>(mem.synchrony) / tracked;
    state.counters["other_B"] = static_cast<double>(mem.bookkeeping) / tracked;
    state.counters["B_per_account_rss"] = static_cast<double>(rss_bytes() - rss0) / tracked;
    state.counters["findings"] = static_cast<double>(findings.n);
    state.counters["matches"] = static_cast<double>(engine.stats().matches);
}
// Argument: accounts on uncommon stacks, per mille (300: the workload above; 30: a service
// whose long tail is small).
BENCHMARK(BM_RulesEngineDefaultPack)
    ->Arg(300)
    ->Arg(30)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(5)
    ->UseRealTime();

// The workload generator alone (account choice, building each observation, copying the
// account's name): its time per observation is included in the figure above.
void BM_WorkloadGenerator(benchmark::State& state) {
    workload();
    Driver d(nullptr, 300);
    int64_t minute = 1;
    for (auto _ : state)
        d.run_minute(minute++);
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kPerMinute));
}
BENCHMARK(BM_WorkloadGenerator)->Unit(benchmark::kMillisecond)->Iterations(5);

}  // namespace
