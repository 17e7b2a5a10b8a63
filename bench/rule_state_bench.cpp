// The stateful rule runtimes under load: one aggregate, one link and one synchrony rule (the
// shapes of the default pack's proxy_rotation, shared_stack and lock_step rules) fed with
// observations of ~1,000,000 distinct accounts, each interned through the AccountTable first.
//
// Workload: 1,000,000 observations per event-minute. Accounts have independent session
// schedules (active in a 10-minute block with probability 1/4) and a client stack drawn from
// a skewed distribution (half on one browser build, a long tail of 197 rare stacks); a
// quarter sit behind 1,000 carrier-NAT addresses (popular keys), the rest have their own
// address. Before timing, every account is seen once and 30 event-minutes run, so the states
// hold ~1M accounts and the periodic work (synchrony scans every 10 min, link rebuilds every
// hour) is part of the timed steady state. Counters: bytes per tracked account by the states'
// own accounting and by process RSS.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "rules/account_table.hpp"
#include "rules/aggregate_state.hpp"
#include "rules/hash_index.hpp"
#include "rules/link_state.hpp"
#include "rules/synchrony_state.hpp"

namespace {

using namespace sybilwatch::rules;

constexpr int64_t kSec = 1'000'000'000;
constexpr int64_t kMin = 60 * kSec;
constexpr int64_t kT0 = 29'929'559 * kMin;
constexpr uint32_t kAccounts = 1'000'000;
constexpr uint64_t kPerMinute = 1'000'000;

size_t rss_bytes() {
    FILE* f = std::fopen("/proc/self/statm", "r");
    if (!f) return 0;
    unsigned long pages = 0, resident = 0;
    if (std::fscanf(f, "%lu %lu", &pages, &resident) != 2) resident = 0;
    std::fclose(f);
    return resident * 4096;
}

struct Account {
    std::string name;
    uint32_t stack;
    uint32_t rtt;
    uint32_t ip;
};

struct Workload {
    std::vector<Account> accounts;
    std::vector<std::string> stack_text;
    Workload() {
        accounts.reserve(kAccounts);
        for (uint32_t a = 0; a < kAccounts; ++a) {
            const uint64_t h = mix64(a + 1);
            const uint32_t s = h % 1000;
            const uint32_t stack = s < 500 ? 0 : s < 700 ? 1 : s < 800 ? 2 : 3 + (s % 197);
            const uint32_t ip = (h >> 20) % 4 == 0
                                    ? 0x64400000u + static_cast<uint32_t>((h >> 24) % 1000)
                                    : 0x0a000000u + a;
            accounts.push_back(
                {"user-" + std::to_string(mix64(a) % 100'000'000'000ULL) + "@example.com", stack,
                 static_cast<uint32_t>((h >> 40) % 20), ip});
        }
        for (uint32_t s = 0; s < 200; ++s) {
            stack_text.push_back("t13d" + std::to_string(1500 + s) +
                                 "h2_8daaf6152771_02713d6af862");
        }
    }
};

Workload& workload() {
    static Workload w;
    return w;
}

struct Pack {
    AccountTable accounts{2'000'000};
    AggregateState agg{[] {
        AggregateConfig c;
        c.window_ns = 3600 * kSec;
        c.distinct_fields = 2;  // account, net24
        c.sum_fields = 1;       // requests
        return c;
    }()};
    LinkState link{[] {
        LinkConfig c;
        c.window_ns = 24 * 3600 * kSec;
        c.max_accounts_per_key = 200;
        c.min_accounts = 10;
        c.min_requests = 100;
        return c;
    }()};
    SynchronyState sync{SynchronyConfig{}};
    uint64_t rng = 1;
    uint64_t seq = 0;
    size_t events = 0;

    // The next account active in event-minute m: independent 10-minute sessions, p = 1/4.
    uint32_t pick(int64_t minute) {
        const uint64_t block = static_cast<uint64_t>(minute / 10) * 0x9e3779b97f4a7c15ULL;
        for (;;) {
            rng = mix64(rng + 0x632be59bd9b4e019ULL);
            const uint32_t a = static_cast<uint32_t>(rng % kAccounts);
            if ((mix64(a ^ block) & 3) == 0) return a;
        }
    }

    void observe(uint32_t acct, int64_t t) {
        const Account& w = workload().accounts[acct];
        const uint32_t id = accounts.intern(w.name, t);
        const uint64_t stack_hash = mix64(w.stack + 77);
        const uint64_t d[2] = {id + 1ull, (w.ip >> 8) + 1ull};
        const double sums[1] = {1.0};
        agg.observe(t, AggregateInput{stack_hash, workload().stack_text[w.stack], d, sums});
        const LinkKey keys[2] = {{0, stack_hash ^ w.rtt, workload().stack_text[w.stack]},
                                 {1, w.ip, "ip"}};
        link.observe(t, id, keys, Volume{1, 600 + (seq & 255), 4000 + (seq & 4095)});
        sync.observe(t, id);
        ++seq;
    }

    void run_minute(int64_t minute) {
        const int64_t base = kT0 + minute * kMin;
        for (uint64_t i = 0; i < kPerMinute; ++i) {
            observe(pick(minute), base + static_cast<int64_t>(i * (kMin / kPerMinute)));
        }
        const int64_t now = base + kMin - 1;
        link.advance(now);
        sync.advance(now);
        agg.expire(now);
        events += link.take_events().size() + sync.take_events().size();
    }

    size_t state_bytes() const {
        return accounts.memory_bytes() + agg.memory_bytes() + link.memory_bytes() +
               sync.memory_bytes();
    }
};

void BM_RuleStates(benchmark::State& state) {
    workload();
    const size_t rss0 = rss_bytes();
    Pack p;
    for (uint32_t a = 0; a < kAccounts; ++a)
        p.observe(a, kT0 + a);
    int64_t minute = 1;
    for (; minute <= 30; ++minute)
        p.run_minute(minute);
    for (auto _ : state)
        p.run_minute(minute++);
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kPerMinute));
    const double tracked = static_cast<double>(p.accounts.size());
    state.counters["accounts"] = tracked;
    state.counters["bytes_per_account_own"] = static_cast<double>(p.state_bytes()) / tracked;
    state.counters["bytes_per_account_rss"] = static_cast<double>(rss_bytes() - rss0) / tracked;
    state.counters["table_B_per_acct"] = static_cast<double>(p.accounts.memory_bytes()) / tracked;
    state.counters["agg_B_per_acct"] = static_cast<double>(p.agg.memory_bytes()) / tracked;
    state.counters["link_B_per_acct"] = static_cast<double>(p.link.memory_bytes()) / tracked;
    state.counters["sync_B_per_acct"] = static_cast<double>(p.sync.memory_bytes()) / tracked;
    state.counters["link_clusters"] = static_cast<double>(p.link.clusters());
    state.counters["popular_keys"] = static_cast<double>(p.link.popular_keys());
    state.counters["sync_clusters"] = static_cast<double>(p.sync.cluster_ids().size());
    state.counters["events"] = static_cast<double>(p.events);
}
BENCHMARK(BM_RuleStates)->Unit(benchmark::kMillisecond)->Iterations(40)->UseRealTime();

// The generator alone (account choice), to subtract from the figure above.
void BM_WorkloadGenerator(benchmark::State& state) {
    Pack p;
    int64_t minute = 0;
    uint64_t sink = 0;
    for (auto _ : state) {
        for (uint64_t i = 0; i < kPerMinute; ++i)
            sink += p.pick(minute);
        ++minute;
    }
    benchmark::DoNotOptimize(sink);
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kPerMinute));
}
BENCHMARK(BM_WorkloadGenerator)->Unit(benchmark::kMillisecond)->Iterations(5);

}  // namespace
