// Helpers for the rule language tests: load rule text, compile one condition, observations.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "fingerprint/observation.hpp"
#include "rules/eval_context.hpp"
#include "rules/rule_loader.hpp"

namespace sybilwatch::rules::test {

inline LoadResult load(const std::string& yaml, const std::string& name = "r.yaml") {
    const RuleSource src{name, yaml};
    return load_rules_text(std::span<const RuleSource>(&src, 1));
}

inline std::string errors_of(const LoadResult& r) {
    std::string s;
    for (const Diagnostic& d : r.errors)
        s += d.to_string() + "\n";
    return s;
}

// A browser-like TLS connection from 198.51.100.23 (JA4 of Chrome from the FoxIO captures).
inline fingerprint::Observation browser_obs() {
    fingerprint::Observation o;
    o.ts_ns = 1'700'000'000'000'000'000;  // 2023-11-14T22:13:20Z, a Tuesday
    o.src = net::IpAddress::parse("198.51.100.23");
    o.dst = net::IpAddress::parse("192.0.2.1");
    o.src_port = 50122;
    o.dst_port = 443;
    o.sni.assign("api.example.com");
    o.alpn.assign("h2");
    o.ja4.assign("t13d1516h2_8daaf6152771_e5627efa2ab1");
    o.ja3.assign("cd08e31494f9531f560d64c695473da9");
    o.tcp_sig.assign("4:64+0:0:1460:mss*44,7:mss,sok,ts,nop,ws:df,id+:0");
    o.client_ttl = 64;
    o.rtt_us = 27'300;
    o.cadence.requests = 12;
    o.cadence.responses = 12;
    o.cadence.client_bytes = 4096;
    o.cadence.server_bytes = 100'000;
    o.cadence.duration_us = 5'000'000;
    for (uint64_t g : {100'000u, 110'000u, 90'000u})
        o.cadence.add_gap(g);
    return o;
}

// Compiles `cond` as the condition of a match rule, after `prelude` (lists, macros).
struct OneRule {
    LoadResult result;
    const RuleSpec* rule = nullptr;

    explicit OneRule(const std::string& cond, const std::string& prelude = "") {
        result = load(prelude + "- rule: r\n  desc: d\n  condition: '" + cond + "'\n");
        if (result.ok()) rule = result.rules.find("r");
    }
    bool eval(const EvalContext& ctx) const { return rule && rule->condition.eval(ctx); }
};

}  // namespace sybilwatch::rules::test
