// Rule condition evaluation per observation: a realistic condition (a macro, a list of 50
// JA4s, a CIDR list and an RE2 regex) over varied observations; also building the
// EvalContext alone and a group-key hash.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

#include "rules/eval_context.hpp"
#include "rules/rule_loader.hpp"

using namespace sybilwatch;

namespace {

std::string ja4_of(int i) {
    char b[64];
    std::snprintf(b, sizeof b, "t13d%04dh2_8daaf6152771_%012x", 1500 + i, i * 7919);
    return b;
}

const rules::RuleSet& rule_set() {
    static const rules::RuleSet set = [] {
        std::string y = "- list: known_ja4\n  items: [";
        for (int i = 0; i < 50; ++i)
            y += (i ? ", " : "") + ja4_of(i);
        y += R"(]
- list: cloud_nets
  items: [10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, 100.64.0.0/10, 203.0.113.0/24, 2001:db8::/32]
- macro: tls_client
  condition: ja4 exists and transport in (tcp, quic) and account exists
- rule: realistic
  desc: d
  kind: aggregate
  condition: >
    tls_client and ja4 in (known_ja4) and ip in (cloud_nets)
    and sni regex '(^|\.)(api|chat)\.example\.(com|net)$'
  group_by: [ja4, net24]
  window: 1h
  threshold: distinct(account) >= 20
)";
        const rules::RuleSource src{"bench.yaml", y};
        rules::LoadResult r = rules::load_rules_text(std::span<const rules::RuleSource>(&src, 1));
        if (!r.ok()) throw std::runtime_error(r.errors[0].to_string());
        return std::move(r.rules);
    }();
    return set;
}

// 256 connections: half with a listed JA4, most from listed networks, various SNIs.
std::vector<fingerprint::Observation> observations() {
    std::vector<fingerprint::Observation> v(256);
    const char* snis[] = {"api.example.com", "chat.example.net", "www.example.org",
                          "cdn.example.com"};
    for (size_t i = 0; i < v.size(); ++i) {
        auto& o = v[i];
        o.ts_ns = 1'700'000'000'000'000'000 + static_cast<int64_t>(i) * 1'000'000;
        const uint8_t a[4] = {static_cast<uint8_t>(i % 3 == 0 ? 198 : 10), 51,
                              static_cast<uint8_t>(i), 7};
        o.src = net::IpAddress::v4(std::span<const uint8_t, 4>(a, 4));
        o.dst = net::IpAddress::parse("192.0.2.1");
        o.dst_port = 443;
        o.ja4.assign(i % 2 ? ja4_of(static_cast<int>(i % 50)) : ja4_of(100 + static_cast<int>(i)));
        o.sni.assign(snis[i % 4]);
        o.rtt_us = 20'000 + static_cast<int64_t>(i) * 37;
    }
    return v;
}

void BM_RealisticCondition(benchmark::State& state) {
    const rules::RuleSpec& rule = rule_set().rules()[0];
    const auto obs = observations();
    size_t i = 0, hits = 0;
    for (auto _ : state) {
        const identity::AttributedObservation a{obs[i++ & 255], "acct-1", "", ""};
        const rules::EvalContext ctx(a);
        hits += rule.matches(ctx);
    }
    benchmark::DoNotOptimize(hits);
    state.counters["match_ratio"] =
        static_cast<double>(hits) / static_cast<double>(state.iterations());
}
BENCHMARK(BM_RealisticCondition);

void BM_EvalContextOnly(benchmark::State& state) {
    const auto obs = observations();
    size_t i = 0;
    for (auto _ : state) {
        const identity::AttributedObservation a{obs[i++ & 255], "acct-1", "", ""};
        const rules::EvalContext ctx(a);
        benchmark::DoNotOptimize(ctx.get(rules::FieldId::Hour).num);
    }
}
BENCHMARK(BM_EvalContextOnly);

void BM_GroupKeyHash(benchmark::State& state) {
    const rules::RuleSpec& rule = rule_set().rules()[0];
    const auto obs = observations();
    size_t i = 0;
    uint64_t h = 0;
    for (auto _ : state) {
        const rules::EvalContext ctx(obs[i++ & 255]);
        h ^= rules::key_hash(ctx, rule.group_by).value_or(0);
    }
    benchmark::DoNotOptimize(h);
}
BENCHMARK(BM_GroupKeyHash);

}  // namespace
