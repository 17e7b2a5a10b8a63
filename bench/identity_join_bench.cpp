// Attribution records through parsing and joining. Lines follow the real nginx sample
// (tests/unit/identity/testdata/nginx-1.22.1-access.jsonl): same fields and shapes, with a
// browser-length User-Agent, varied addresses, ports and accounts. Each pass over the
// workload patches the first octet of the client addresses, so every connection is new (a key
// seen again would count as a repeat); the clock stays put, so entries leave the tables by
// eviction at their caps, the joiner's steady state under load.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>
#include <vector>

#include "fingerprint/observation.hpp"
#include "identity/attribution_feed.hpp"
#include "identity/joiner.hpp"
#include "identity/record_parser.hpp"

namespace {

using namespace sybilwatch;
using namespace sybilwatch::identity;

constexpr int64_t kSec = 1'000'000'000;
constexpr int64_t kT0 = 1'795'773'579 * kSec;
constexpr size_t kN = 1 << 14;

struct Workload {
    std::vector<std::string> lines;
    std::vector<fingerprint::Observation> obs;
};

// The first octet of every client address ("10." in the text) for pass `pass`.
uint8_t octet(size_t pass) {
    return static_cast<uint8_t>(10 + pass % 90);
}
constexpr size_t kIpOffset = sizeof("{\"ts\":1795773579.500,\"client_ip\":\"") - 1;

Workload& workload() {
    static Workload w = [] {
        Workload w;
        const std::string ua =
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/124.0.0.0 Safari/537.36";
        for (size_t i = 0; i < kN; ++i) {
            const std::string ip =
                "10.0." + std::to_string((i >> 8) & 255) + "." + std::to_string(i & 255);
            const uint16_t port = static_cast<uint16_t>(32768 + i);
            const double ts = static_cast<double>(kT0 / kSec) + 0.5;
            char tsbuf[32];
            std::snprintf(tsbuf, sizeof tsbuf, "%.3f", ts);
            w.lines.push_back(std::string("{\"ts\":") + tsbuf + ",\"client_ip\":\"" + ip +
                              "\",\"client_port\":" + std::to_string(port) +
                              ",\"server_port\":443,\"account\":\"acct_" +
                              std::to_string(i % 5000) + "\",\"user_agent\":\"" + ua +
                              "\",\"request_id\":\"6700a7242471c01191ecbf14f1bf" +
                              std::to_string(1000 + i % 9000) + "\"}");
            fingerprint::Observation o;
            o.src = net::IpAddress::parse(ip);
            o.dst = net::IpAddress::parse("192.0.2.1");
            o.src_port = port;
            o.dst_port = 443;
            o.ts_ns = kT0;
            o.ja4.assign("t13d1516h2_8daaf6152771_02713d6af862");
            o.ja4_r = "t13d1516h2_002f,0035,009c,009d,1301,1302,1303,c013,c014,c02b,c02c,c02f";
            w.obs.push_back(o);
        }
        return w;
    }();
    return w;
}

struct Discard : AttributedSink {
    uint64_t attributed = 0;
    void on_attributed(const AttributedObservation& a) override { attributed += a.attributed(); }
};

void BM_Parse(benchmark::State& state) {
    const Workload& w = workload();
    RecordParser parser;
    AttributionRecord rec;
    size_t i = 0, bytes = 0;
    for (auto _ : state) {
        const std::string& l = w.lines[i++ & (kN - 1)];
        benchmark::DoNotOptimize(parser.parse(l, rec));
        bytes += l.size();
    }
    if (parser.stats().rejected_total()) state.SkipWithError("rejections");
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
    state.SetBytesProcessed(static_cast<int64_t>(bytes));
}
BENCHMARK(BM_Parse);

void BM_ParseGarbage(benchmark::State& state) {
    std::vector<std::string> garbage;
    for (int i = 0; i < 1024; ++i)
        garbage.push_back(i % 2 ? "GET /index.html HTTP/1.1 " + std::to_string(i)
                                : "{\"ts\":" + std::to_string(i) + ",\"client_ip\":\"x\"}");
    RecordParser parser;
    AttributionRecord rec;
    size_t i = 0;
    for (auto _ : state)
        benchmark::DoNotOptimize(parser.parse(garbage[i++ & 1023], rec));
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_ParseGarbage);

// Each iteration: one connection and the record naming it, through parse and join. The
// clock ticks every 1024 records.
template <bool kRecordFirst>
void BM_ParseAndJoin(benchmark::State& state) {
    Workload& w = workload();
    Discard sink;
    Joiner joiner(JoinerConfig{}, sink);
    AttributionFeed feed(joiner);
    joiner.tick(kT0);
    std::string line;
    size_t i = 0;
    for (auto _ : state) {
        const size_t k = i & (kN - 1);
        const uint8_t o = octet(i++ / kN);
        // The line as a source would hold it in its buffer, with this pass's address.
        line.assign(w.lines[k]);
        line[kIpOffset] = static_cast<char>('0' + o / 10);
        line[kIpOffset + 1] = static_cast<char>('0' + o % 10);
        w.obs[k].src.bytes[0] = o;
        if (kRecordFirst) {
            feed.on_line(line);
            joiner.on_observation(w.obs[k]);
        } else {
            joiner.on_observation(w.obs[k]);
            feed.on_line(line);
        }
        if ((i & 1023) == 0) joiner.tick(kT0);
    }
    if (sink.attributed != joiner.stats().matched || joiner.stats().unattributed != 0)
        state.SkipWithError("records did not match");
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
    state.counters["hit_rate"] = joiner.hit_rate();
}
BENCHMARK(BM_ParseAndJoin<true>)->Name("BM_ParseAndJoin/record_first");
BENCHMARK(BM_ParseAndJoin<false>)->Name("BM_ParseAndJoin/connection_first");

// The joiner alone, records already parsed.
void BM_JoinOnly(benchmark::State& state) {
    Workload& w = workload();
    std::vector<AttributionRecord> recs(kN);
    for (size_t k = 0; k < kN; ++k)
        parse_record(w.lines[k], recs[k]);
    Discard sink;
    Joiner joiner(JoinerConfig{}, sink);
    joiner.tick(kT0);
    size_t i = 0;
    for (auto _ : state) {
        const size_t k = i & (kN - 1);
        const uint8_t o = octet(i++ / kN);
        recs[k].client_ip.bytes[0] = o;
        w.obs[k].src.bytes[0] = o;
        joiner.on_attribution(recs[k]);
        joiner.on_observation(w.obs[k]);
        if ((i & 1023) == 0) joiner.tick(kT0);
    }
    if (joiner.stats().matched != static_cast<uint64_t>(state.iterations()))
        state.SkipWithError("records did not match");
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_JoinOnly);

// Unmatched records at full tables: every record evicts the oldest pending one.
void BM_UnmatchedFlood(benchmark::State& state) {
    Discard sink;
    JoinerConfig cfg;
    cfg.max_pending_records = 65536;
    Joiner joiner(cfg, sink);
    joiner.tick(kT0);
    AttributionRecord r;
    r.client_ip = net::IpAddress::parse("10.0.0.0");
    r.ts = static_cast<double>(kT0 / kSec);
    r.account = "flood-account-0000000000000000";
    uint32_t i = 0;
    for (auto _ : state) {
        ++i;
        r.client_ip.bytes[1] = static_cast<uint8_t>(i >> 16);
        r.client_ip.bytes[2] = static_cast<uint8_t>(i >> 8);
        r.client_port = static_cast<uint16_t>(1 + (i & 0xff));
        joiner.on_attribution(r);
    }
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
    state.counters["pending"] = joiner.pending_records();
}
BENCHMARK(BM_UnmatchedFlood);

}  // namespace
