// Rule-state snapshots from disk (or another host) through restore and merge. The input is
// used twice: as a whole file (header, checksum and all), and as a payload wrapped in a valid
// header, so the fuzzer reaches the record parsers behind the checksum too.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "rules/state_io.hpp"

namespace {

using namespace sybilwatch::rules;

struct Engine {
    AccountTable accounts{1 << 16};
    AggregateState agg{[] {
        AggregateConfig c;
        c.distinct_fields = 2;
        c.sum_fields = 1;
        c.max_groups = 1000;
        c.exact_limit = 8;
        return c;
    }()};
    LinkState link{LinkConfig{}};
    SynchronyState sync{SynchronyConfig{}};
    std::vector<RuleStateRef> refs() { return {{"a", &agg}, {"l", &link}, {"s", &sync}}; }
};

uint64_t fnv1a(std::span<const uint8_t> b) {
    uint64_t h = 0xcbf29ce484222325ULL;
    for (uint8_t c : b) {
        h ^= c;
        h *= 0x100000001b3ULL;
    }
    return h;
}

void exercise(Engine& e, int64_t now) {
    // Whatever was restored must be usable: observe, query, rebuild, scan, save again.
    const uint32_t a = e.accounts.intern("fuzz", now);
    const uint64_t d[2] = {1, 2};
    const double s[1] = {1.0};
    const uint32_t g = e.agg.observe(now, AggregateInput{5, "g", d, s});
    (void)e.agg.count(g, now);
    (void)e.agg.distinct(g, 0, now);
    const LinkKey k[1] = {{0, 9, "k"}};
    e.link.observe(now, a, k, Volume{1, 1, 1});
    e.link.rebuild(now);
    e.sync.observe(now, a);
    e.sync.scan(now);
    (void)save_state(e.accounts, e.refs());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::span<const uint8_t> in(data, size);
    {
        Engine e;
        if (restore_state(in, e.accounts, e.refs()).ok)
            exercise(e, e.agg.now() == INT64_MIN ? 0 : e.agg.now());
    }
    // The same bytes as a payload behind a valid header.
    std::vector<uint8_t> file = {'S', 'W', 'R', 'U', 'L', 'E', 'S', 'T'};
    for (int i = 0; i < 4; ++i)
        file.push_back(static_cast<uint8_t>(kStateVersion >> (8 * i)));
    const uint64_t len = size, sum = fnv1a(in);
    for (int i = 0; i < 8; ++i)
        file.push_back(static_cast<uint8_t>(len >> (8 * i)));
    for (int i = 0; i < 8; ++i)
        file.push_back(static_cast<uint8_t>(sum >> (8 * i)));
    file.insert(file.end(), in.begin(), in.end());
    {
        Engine e;
        if (restore_state(file, e.accounts, e.refs()).ok) exercise(e, 1'795'773'579'000'000'000);
    }
    {
        Engine e;
        e.accounts.intern("existing", 0);
        (void)merge_state(file, e.accounts, e.refs());
    }
    return 0;
}
