// The daemon's memory with 1 million live connections and 1 million attributed accounts
// (target: RSS under 1 GiB). A plain program, not a Google Benchmark: it builds state once and
// reads /proc/self/status after each stage.
//
// Stage 1: 1,000,000 TCP connections to port 443, each from its own client address and port:
// SYN, SYN-ACK, ACK, a real ClientHello (tests/data/tls), the server's hello; fed to the
// fingerprint engine as the daemon feeds it with eBPF (IP packets, EmitAt::Close, no packet
// cadence, the one-hour backstop timeout), so every connection stays open. Chromium's hellos
// get their extensions permuted per connection, as Chrome and Edge do (their JA3 and JA4_o
// change on every connection), in the share of the generated bench capture.
// Stage 2: 1,000,000 attribution records, one distinct account each, into the identity joiner
// (max_pending_records = 2^20): they wait for their connections, which are still open.
// Stage 3: the connections end (flush): each Observation is rebuilt and joined with its record;
// the count of joined observations carrying JA4 is checked.
//
//   daemon_memory_bench [--connections N] [--no-permute] [--no-raw]
#include <sys/resource.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "rules/default_pack.hpp"
#include "rules/engine.hpp"

#include "fingerprint/engine.hpp"
#include "identity/joiner.hpp"

namespace {

using namespace sybilwatch;
using Bytes = std::vector<uint8_t>;

Bytes read_hex(const std::string& name) {
    std::ifstream in(std::string(SW_SOURCE_DIR) + "/tests/data/tls/" + name);
    if (!in) {
        std::fprintf(stderr, "daemon_memory_bench: cannot read tests/data/tls/%s\n", name.c_str());
        std::exit(1);
    }
    Bytes out;
    for (std::string line; std::getline(in, line);) {
        if (line.empty() || line[0] == '#') continue;
        for (size_t i = 0; i + 1 < line.size(); i += 2)
            out.push_back(static_cast<uint8_t>(std::stoul(line.substr(i, 2), nullptr, 16)));
    }
    return out;
}

uint16_t be16(const Bytes& b, size_t at) {
    return static_cast<uint16_t>(b[at] << 8 | b[at + 1]);
}

// A ClientHello record whose extensions a Chromium client permutes (all but GREASE, padding
// and pre_shared_key keep their place). Lengths never change, so the permuted copy is written
// over a buffer of the same size.
struct HelloTemplate {
    Bytes hello, server;
    bool chromium = false;
    size_t ext_start = 0;
    std::vector<std::pair<size_t, size_t>> exts;  // (offset, length incl. header)
    std::vector<size_t> movable;                  // indexes into exts

    void parse() {
        size_t p = 5 + 4 + 2 + 32;  // record header, handshake header, version, random
        p += 1 + hello.at(p);
        p += 2 + be16(hello, p);
        p += 1 + hello.at(p);
        const size_t end = p + 2 + be16(hello, p);
        p += 2;
        ext_start = p;
        while (p + 4 <= end) {
            const uint16_t type = be16(hello, p);
            const size_t len = 4 + be16(hello, p + 2);
            const bool grease = (type & 0x0f0f) == 0x0a0a && (type >> 8) == (type & 0xff);
            if (chromium && !grease && type != 0x0015 && type != 0x0029)
                movable.push_back(exts.size());
            exts.push_back({p, len});
            p += len;
        }
    }
    void permute(std::mt19937_64& rng, Bytes& out) const {
        out = hello;
        if (movable.empty()) return;
        std::vector<size_t> order(exts.size());
        for (size_t i = 0; i < order.size(); ++i)
            order[i] = i;
        std::vector<size_t> moved = movable;
        std::shuffle(moved.begin(), moved.end(), rng);
        for (size_t i = 0; i < movable.size(); ++i)
            order[movable[i]] = moved[i];
        size_t w = ext_start;
        for (size_t idx : order) {
            const auto [off, len] = exts[idx];
            std::memcpy(out.data() + w, hello.data() + off, len);
            w += len;
        }
    }
};

// IPv4 + TCP, as the eBPF program hands them over (from the IP header on).
void tcp_packet(Bytes& out, uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport,
                uint8_t flags, uint32_t seq, uint32_t ack, uint8_t ttl,
                std::span<const uint8_t> options, std::span<const uint8_t> payload) {
    const size_t tcp_len = 20 + options.size();
    const size_t total = 20 + tcp_len + payload.size();
    out.assign(total, 0);
    uint8_t* ip = out.data();
    ip[0] = 0x45;
    ip[2] = static_cast<uint8_t>(total >> 8), ip[3] = static_cast<uint8_t>(total);
    ip[6] = 0x40;  // DF
    ip[8] = ttl;
    ip[9] = 6;
    for (int i = 0; i < 4; ++i) {
        ip[12 + i] = static_cast<uint8_t>(src >> (24 - 8 * i));
        ip[16 + i] = static_cast<uint8_t>(dst >> (24 - 8 * i));
    }
    uint8_t* t = ip + 20;
    t[0] = static_cast<uint8_t>(sport >> 8), t[1] = static_cast<uint8_t>(sport);
    t[2] = static_cast<uint8_t>(dport >> 8), t[3] = static_cast<uint8_t>(dport);
    for (int i = 0; i < 4; ++i) {
        t[4 + i] = static_cast<uint8_t>(seq >> (24 - 8 * i));
        t[8 + i] = static_cast<uint8_t>(ack >> (24 - 8 * i));
    }
    t[12] = static_cast<uint8_t>((tcp_len / 4) << 4);
    t[13] = flags;
    t[14] = 0xfa, t[15] = 0xf0;  // window 64240
    if (!options.empty()) std::memcpy(t + 20, options.data(), options.size());
    if (!payload.empty()) std::memcpy(t + tcp_len, payload.data(), payload.size());
}

struct Mem {
    long rss_kb = 0, hwm_kb = 0;
};
Mem read_mem() {
    Mem m;
    std::ifstream st("/proc/self/status");
    for (std::string line; std::getline(st, line);) {
        if (line.rfind("VmRSS:", 0) == 0) m.rss_kb = std::atol(line.c_str() + 6);
        if (line.rfind("VmHWM:", 0) == 0) m.hwm_kb = std::atol(line.c_str() + 6);
    }
    return m;
}
void print_mem(const char* stage, const Mem& m) {
    std::printf("  %-44s VmRSS %8.1f MiB   VmHWM %8.1f MiB\n", stage, m.rss_kb / 1024.0,
                m.hwm_kb / 1024.0);
}

double seconds_since(std::chrono::steady_clock::time_point t) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

struct NoFindings : rules::FindingSink {
    uint64_t findings = 0;
    void on_finding(const rules::Finding&) override { ++findings; }
};

// What the daemon does with each joined observation: the rules engine (default pack) tracks
// its account.
struct CountSink : identity::AttributedSink {
    uint64_t passed = 0, with_account = 0, with_ja4 = 0;
    rules::Engine* rules = nullptr;
    void on_attributed(const identity::AttributedObservation& a) override {
        ++passed;
        with_account += !a.account.empty();
        with_ja4 += !a.obs.ja4.empty();
        if (rules) rules->observe(a);
    }
    void on_late_attribution(const identity::LateAttribution&) override {}
};

}  // namespace

int main(int argc, char** argv) {
    uint32_t n = 1'000'000;
    bool permute = true, raw = true;
    for (int i = 1; i < argc; ++i) {
        const std::string_view a = argv[i];
        if (a == "--connections" && i + 1 < argc)
            n = static_cast<uint32_t>(std::strtoul(argv[++i], nullptr, 10));
        else if (a == "--no-permute")
            permute = false;
        else if (a == "--no-raw")
            raw = false;
        else if (a.rfind("--benchmark", 0) == 0)
            continue;  // bench/run.sh passes Google Benchmark flags to every *_bench
        else {
            std::fprintf(stderr, "usage: %s [--connections N] [--no-permute] [--no-raw]\n",
                         argv[0]);
            return 2;
        }
    }

    // Client stacks, with the weights of the bench capture's mix (Chromium about 60%).
    struct Stack {
        const char* name;
        bool chromium;
        int weight;
    };
    const std::array<Stack, 5> stacks{{{"chrome_tls13", true, 60},
                                       {"macos", false, 15},
                                       {"latest_s1", false, 10},
                                       {"latest_s5", false, 10},
                                       {"tls12_client", false, 5}}};
    std::vector<HelloTemplate> templates;
    std::vector<size_t> pick;  // 100 slots, by weight
    for (const Stack& s : stacks) {
        HelloTemplate t;
        t.hello = read_hex(std::string(s.name) + ".client.hex");
        t.server = read_hex(std::string(s.name) + ".server.hex");
        t.chromium = s.chromium && permute;
        t.parse();
        for (int i = 0; i < s.weight; ++i)
            pick.push_back(templates.size());
        templates.push_back(std::move(t));
    }
    const Bytes syn_opts = {2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7};
    const Bytes synack_opts = {2, 4, 0x05, 0xb4, 4, 2, 1, 1, 1, 3, 3, 7};

    const Mem m0 = read_mem();
    std::printf(
        "daemon memory bench: %u connections, %u attribution records; raw strings %s, "
        "Chromium extension permutation %s\n",
        n, n, raw ? "on" : "off", permute ? "on" : "off");
    std::printf("  sizeof: fingerprint::Flow %zu, Handshake %zu, Observation %zu bytes\n",
                sizeof(fingerprint::Flow), sizeof(fingerprint::Handshake),
                sizeof(fingerprint::Observation));
    print_mem("start", m0);

    identity::JoinerConfig jc;
    jc.max_pending_records = 1u << 20;
    CountSink out;
    identity::Joiner joiner(jc, out);
    NoFindings findings;
    rules::LoadResult pack = rules::load_rules_text(rules::default_pack());
    if (!pack.ok()) {
        std::fprintf(stderr, "daemon_memory_bench: the default pack does not load\n");
        return 1;
    }
    rules::Engine rules_engine(std::make_shared<const rules::RuleSet>(std::move(pack.rules)), {},
                               findings);
    out.rules = &rules_engine;

    // As userspace/service/pipeline.cpp configures it for eBPF capture.
    fingerprint::EngineConfig ec;
    ec.max_flows = 1u << 20;
    ec.emit = fingerprint::EmitAt::Close;
    ec.cadence_from_packets = false;
    ec.tcp_idle_ns = ec.udp_idle_ns = 3600LL * 1'000'000'000;
    ec.raw = raw;
    fingerprint::Engine engine(ec, joiner);
    const Mem m1 = read_mem();
    print_mem("engine and joiner constructed", m1);

    // ------------------------------------------------------------ connections
    std::mt19937_64 rng(1);
    const uint32_t server = 0xc6336401;  // 198.51.100.1
    int64_t ts = 1'700'000'000'000'000'000;
    Bytes pkt, hello;
    std::vector<uint32_t> client_ip(n);
    std::vector<uint16_t> client_port(n);
    uint64_t packets = 0;
    // Opens n connections from distinct clients above `base` (a /10 and up, ports 1024..).
    auto open_connections = [&](uint32_t base) {
        for (uint32_t i = 0; i < n; ++i) {
            // Distinct clients: 100.64.0.0/10 and up, ports 1024..65535.
            const uint32_t cip = base + i / 16;
            const uint16_t cport = static_cast<uint16_t>(1024 + (i % 16) * 4000 + (i / 16) % 4000);
            client_ip[i] = cip, client_port[i] = cport;
            const HelloTemplate& t = templates[pick[i % pick.size()]];
            t.permute(rng, hello);
            const uint32_t cisn = static_cast<uint32_t>(rng()), sisn = static_cast<uint32_t>(rng());
            const uint8_t cttl = static_cast<uint8_t>(64 - i % 20), sttl = 57;
            auto feed = [&](int64_t advance_ns) {
                ts += advance_ns;
                engine.on_ip(ts, pkt, static_cast<uint32_t>(pkt.size()));
                ++packets;
            };
            tcp_packet(pkt, cip, server, cport, 443, 0x02, cisn, 0, cttl, syn_opts, {});
            feed(200);
            tcp_packet(pkt, server, cip, 443, cport, 0x12, sisn, cisn + 1, sttl, synack_opts, {});
            feed(200);
            tcp_packet(pkt, cip, server, cport, 443, 0x10, cisn + 1, sisn + 1, cttl, {}, {});
            feed(200);
            tcp_packet(pkt, cip, server, cport, 443, 0x18, cisn + 1, sisn + 1, cttl, {}, hello);
            feed(200);
            tcp_packet(pkt, server, cip, 443, cport, 0x18, sisn + 1,
                       cisn + 1 + static_cast<uint32_t>(hello.size()), sttl, {}, t.server);
            feed(200);
        }
    };
    auto t0 = std::chrono::steady_clock::now();
    open_connections(0x64400000u);
    const double open_s = seconds_since(t0);
    const Mem m2 = read_mem();
    const fingerprint::EngineStats& st = engine.stats();
    print_mem("connections open", m2);
    std::printf(
        "    open %u (in handshake %u), client hellos %llu, server hellos %llu, "
        "evicted %llu; %u distinct interned facts (%.1f MiB)\n",
        engine.open_flows(), engine.handshaking_flows(),
        static_cast<unsigned long long>(st.client_hellos),
        static_cast<unsigned long long>(st.server_hellos),
        static_cast<unsigned long long>(st.flows_evicted), engine.interned_facts(),
        engine.facts_memory_bytes() / 1048576.0);
    std::printf("    %.2f s for %llu packets: %.2f M packets/s, %.0f connections/s\n", open_s,
                static_cast<unsigned long long>(packets), packets / open_s / 1e6, n / open_s);
    const double per_flow = (m2.rss_kb - m1.rss_kb) * 1024.0 / n;

    // ------------------------------------------------------------ attribution records
    const std::array<std::string, 3> agents{
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/131.0.0.0 Safari/537.36",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like "
        "Gecko) Version/18.1 Safari/605.1.15",
        "python-requests/2.32.3"};
    joiner.tick(ts);
    t0 = std::chrono::steady_clock::now();
    identity::AttributionRecord rec;
    char buf[64];
    for (uint32_t i = 0; i < n; ++i) {
        rec.ts = static_cast<double>(ts) / 1e9;
        const uint32_t ip = client_ip[i];
        const std::array<uint8_t, 4> b{static_cast<uint8_t>(ip >> 24),
                                       static_cast<uint8_t>(ip >> 16),
                                       static_cast<uint8_t>(ip >> 8), static_cast<uint8_t>(ip)};
        rec.client_ip = net::IpAddress::v4(b);
        rec.client_port = client_port[i];
        rec.server_port = 443;
        std::snprintf(buf, sizeof buf, "account-%08u", i);
        rec.account = buf;
        rec.user_agent = agents[i % agents.size()];
        std::snprintf(buf, sizeof buf, "%016llx%016llx", static_cast<unsigned long long>(rng()),
                      static_cast<unsigned long long>(rng()));
        rec.request_id = buf;
        joiner.on_attribution(rec);
    }
    const double records_s = seconds_since(t0);
    const Mem m3 = read_mem();
    print_mem("attribution records pending", m3);
    std::printf(
        "    pending %u records, evicted %llu; %.2f s (%.0f records/s)\n", joiner.pending_records(),
        static_cast<unsigned long long>(joiner.stats().evicted_records), records_s, n / records_s);
    const double per_record = (m3.rss_kb - m2.rss_kb) * 1024.0 / n;

    // ------------------------------------------------------------ connections end
    t0 = std::chrono::steady_clock::now();
    engine.flush(fingerprint::EndReason::Fin);
    joiner.flush();
    const double flush_s = seconds_since(t0);
    const Mem m4 = read_mem();
    print_mem("connections ended and joined", m4);
    std::printf(
        "    %llu observations, %llu with their account, %llu with JA4; %.2f s "
        "(%.0f observations/s)\n",
        static_cast<unsigned long long>(out.passed),
        static_cast<unsigned long long>(out.with_account),
        static_cast<unsigned long long>(out.with_ja4), flush_s, out.passed / flush_s);

    std::printf(
        "    the rules engine (default pack, %zu rules) tracks %zu accounts in %.1f MiB "
        "(%.0f B each by its own count), %llu findings\n",
        rules_engine.rules().rules().size(), rules_engine.accounts(),
        rules_engine.memory_bytes() / 1048576.0,
        static_cast<double>(rules_engine.memory_bytes()) /
            std::max<size_t>(1, rules_engine.accounts()),
        static_cast<unsigned long long>(findings.findings));
    {
        const rules::EngineMemory mem = rules_engine.memory();
        const double na = static_cast<double>(std::max<size_t>(1, rules_engine.accounts()));
        std::printf(
            "    per account: account table %.0f B, aggregate %.0f B, link %.0f B, synchrony "
            "%.0f B, bookkeeping %.0f B\n",
            mem.accounts / na, mem.aggregate / na, mem.link / na, mem.synchrony / na,
            mem.bookkeeping / na);
    }

    // ------------------------------------------------------------ steady state
    // The daemon's worst case: another million live connections while the rules still track
    // the million accounts of the first.
    open_connections(0x70000000u);
    const Mem m5 = read_mem();
    print_mem("1M live connections + 1M accounts in rules", m5);

    const double gib = 1024.0 * 1024.0;  // KiB per GiB
    const bool ok =
        out.passed == n && out.with_account == n && out.with_ja4 == n && st.flows_evicted == 0;
    std::printf("\nresults\n");
    std::printf("  bytes per open connection (RSS growth / connections)    %8.0f B\n", per_flow);
    std::printf("  bytes per pending attribution record                    %8.0f B\n", per_record);
    std::printf("  RSS with %u live connections and %u accounts       %8.1f MiB (%.2f GiB)\n", n, n,
                m3.rss_kb / 1024.0, m3.rss_kb / gib);
    std::printf("  peak RSS (VmHWM)                                        %8.1f MiB\n",
                m4.hwm_kb / 1024.0);
    std::printf("  RSS with %u live connections, %zu accounts in the rules  %8.1f MiB (%.2f GiB)\n",
                n, rules_engine.accounts(), m5.rss_kb / 1024.0, m5.rss_kb / gib);
    const bool target = m3.rss_kb < gib && m5.rss_kb < gib;
    std::printf("  target: RSS under 1 GiB (both)                          %s\n",
                target ? "PASS" : "FAIL  <<<<<<<<<<");
    std::printf(
        "  checks: every connection open, ended once, joined with its account, with "
        "JA4: %s\n",
        ok ? "ok" : "FAIL");
    return ok ? 0 : 1;
}
