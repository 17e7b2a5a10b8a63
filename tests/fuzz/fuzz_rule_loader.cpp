// Arbitrary bytes as a rule file: the loader must report errors, never crash, hang or leak;
// whatever loads must evaluate against an observation without fault.
#include <cstddef>
#include <cstdint>
#include <string>

#include "rules/eval_context.hpp"
#include "rules/rule_loader.hpp"

using namespace sybilwatch;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size > 64 * 1024) return 0;  // a rule file, not a novel
    const rules::RuleSource src{"fuzz.yaml",
                                std::string(reinterpret_cast<const char*>(data), size)};
    const rules::LoadResult r = rules::load_rules_text(std::span<const rules::RuleSource>(&src, 1));
    for (const rules::Diagnostic& d : r.errors)
        (void)d.to_string();

    fingerprint::Observation o;
    o.src = net::IpAddress::parse("198.51.100.23");
    o.dst = net::IpAddress::parse("2001:db8::1");
    o.ja4.assign("t13d1516h2_8daaf6152771_e5627efa2ab1");
    o.sni.assign("api.example.com");
    o.rtt_us = 12'345;
    const identity::AttributedObservation a{o, "acct", "ua", "rid"};
    const rules::EvalContext ctx(a);
    std::string out;
    const double measures[] = {1, 2, 3, 4, 5, 6, 7, 8};
    for (const rules::RuleSpec& rule : r.rules.rules()) {
        (void)rule.matches(ctx);
        (void)rules::key_hash(ctx, rule.group_by);
        out.clear();
        (void)rules::append_key_text(ctx, rule.group_by, out);
        (void)rule.threshold.eval(measures);
        rule.output.render(&ctx, measures, out);
    }
    return 0;
}
