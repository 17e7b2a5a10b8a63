#include "rules/state_io.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <string>

namespace sybilwatch::rules {
namespace {

constexpr int64_t kSec = 1'000'000'000;
constexpr int64_t kT0 = 1'795'773'579 * kSec;

struct Engine {
    AccountTable accounts;
    AggregateState agg{[] {
        AggregateConfig c;
        c.distinct_fields = 1;
        return c;
    }()};
    LinkState link{[] {
        LinkConfig c;
        c.min_accounts = 3;
        return c;
    }()};
    SynchronyState sync{SynchronyConfig{}};

    std::vector<RuleStateRef> refs() {
        return {{"proxy_rotation", &agg}, {"shared_stack", &link}, {"lock_step", &sync}};
    }
    void feed(const std::string& prefix, int n, int64_t t0) {
        for (int i = 0; i < n; ++i) {
            const int64_t t = t0 + i * 60 * kSec;
            const uint32_t a = accounts.intern(prefix + std::to_string(i % 10), t);
            const uint64_t d[1] = {a + 1ull};
            agg.observe(t, AggregateInput{1, "ja4", d, {}});
            const LinkKey k[1] = {{0, 42, "203.0.113.9"}};
            link.observe(t, a, k, Volume{1, 10, 20});
            sync.observe(t, a);
        }
    }
};

TEST(StateIo, SaveRestoreRoundTrip) {
    Engine e;
    e.feed("acct", 200, kT0);
    e.sync.scan(e.sync.now());
    const auto bytes = save_state(e.accounts, e.refs());

    Engine f;
    auto res = restore_state(bytes, f.accounts, f.refs());
    ASSERT_TRUE(res.ok) << res.error;
    EXPECT_EQ(res.rules, 3u);
    EXPECT_TRUE(res.skipped.empty());
    EXPECT_EQ(f.accounts.size(), 10u);
    EXPECT_EQ(f.accounts.find("acct3"), e.accounts.find("acct3"));
    const int64_t now = e.agg.now();
    EXPECT_EQ(f.agg.count(f.agg.find(1), now), e.agg.count(e.agg.find(1), now));
    EXPECT_EQ(f.agg.distinct(f.agg.find(1), 0, now), 10.0);
    EXPECT_EQ(f.link.cluster_of(0), e.link.cluster_of(0));
    EXPECT_NE(f.link.cluster_of(0), 0u);
    EXPECT_EQ(f.sync.cluster_of(0), e.sync.cluster_of(0));
    EXPECT_EQ(f.sync.active_buckets(3, now), e.sync.active_buckets(3, now));
    // Saving the restored state gives the same bytes.
    EXPECT_EQ(save_state(f.accounts, f.refs()), bytes);
}

TEST(StateIo, MergeOfTwoHosts) {
    Engine a, b;
    a.feed("acct", 50, kT0);
    b.feed("acct", 50, kT0);   // the same 10 accounts seen on another host
    b.feed("other", 30, kT0);  // and 10 more
    const auto bytes = save_state(b.accounts, b.refs());
    auto res = merge_state(bytes, a.accounts, a.refs());
    ASSERT_TRUE(res.ok) << res.error;
    EXPECT_EQ(a.accounts.size(), 20u);
    const int64_t now = a.agg.now();
    EXPECT_EQ(a.agg.count(a.agg.find(1), now), 130u);
    EXPECT_EQ(a.agg.distinct(a.agg.find(1), 0, now), 20.0);
    LinkState::ClusterInfo info;
    ASSERT_TRUE(a.link.cluster(a.link.cluster_of(a.accounts.find("other3")), info));
    EXPECT_EQ(info.accounts, 20u);
    EXPECT_EQ(info.volume.requests, 130u);
}

TEST(StateIo, CorruptSnapshotsAreRejectedAndChangeNothing) {
    Engine e;
    e.feed("acct", 100, kT0);
    const auto bytes = save_state(e.accounts, e.refs());
    Engine f;
    f.feed("keep", 5, kT0);
    const auto before = save_state(f.accounts, f.refs());
    // Truncations, a flipped byte anywhere, a wrong magic or version.
    for (size_t cut : {size_t{0}, size_t{7}, size_t{27}, bytes.size() / 2, bytes.size() - 1}) {
        EXPECT_FALSE(
            restore_state(std::span<const uint8_t>(bytes).first(cut), f.accounts, f.refs()).ok)
            << cut;
    }
    for (size_t i = 0; i < bytes.size(); i += 97) {
        auto bad = bytes;
        bad[i] ^= 0x5a;
        EXPECT_FALSE(restore_state(bad, f.accounts, f.refs()).ok) << i;
        EXPECT_FALSE(merge_state(bad, f.accounts, f.refs()).ok) << i;
    }
    EXPECT_EQ(save_state(f.accounts, f.refs()), before);
}

TEST(StateIo, RuleWithChangedParametersStartsEmpty) {
    Engine e;
    e.feed("acct", 100, kT0);
    const auto bytes = save_state(e.accounts, e.refs());
    AccountTable accounts;
    AggregateConfig wider;
    wider.distinct_fields = 1;
    wider.window_ns = 2 * 3600 * kSec;  // the rule's window changed since the save
    AggregateState agg(wider);
    LinkState link(e.link.config());
    std::vector<RuleStateRef> refs = {{"proxy_rotation", &agg}, {"shared_stack", &link}};
    auto res = restore_state(bytes, accounts, refs);
    ASSERT_TRUE(res.ok) << res.error;
    ASSERT_EQ(res.skipped.size(), 1u);
    EXPECT_EQ(res.skipped[0], "proxy_rotation");
    EXPECT_EQ(agg.groups(), 0u);
    EXPECT_EQ(res.rules, 1u);  // the link state; lock_step is no longer configured
    EXPECT_NE(link.cluster_of(0), 0u);
}

// The seeds of fuzz_state_restore (with its rules), restored and saved again: the bytes the
// previous in-memory layout (std::string names, a record per account id in the link state, a
// bitset per account in the synchrony state, dense sketches) saved for them, by size and
// FNV-1a. The layout changed, the format and what it holds did not.
TEST(StateIo, SeedSnapshotsSaveAsThePreviousLayoutDid) {
    struct Seed {
        const char* name;
        size_t size;
        uint64_t fnv;
    };
    // Version 2 (string key hashes changed): the version-1 figures were 0xc909d8b3907d728e,
    // 0xbd2244dba825b5c9 and 0x5acf50497a8cdf7d, which these bytes still give with the
    // version field set back to 1.
    const Seed seeds[] = {{"snapshot_0", 218, 0x8c5fbba28c161f75ULL},
                          {"snapshot_1", 2969, 0xd3dfa9cd34457a2cULL},
                          {"snapshot_2", 3852, 0x64e61a3d73d403faULL}};
    for (const Seed& seed : seeds) {
        std::ifstream in(
            std::string(SW_SOURCE_DIR) + "/tests/fuzz/corpus/fuzz_state_restore/" + seed.name,
            std::ios::binary);
        ASSERT_TRUE(in) << seed.name;
        const std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                                         std::istreambuf_iterator<char>());
        AccountTable accounts(1 << 16);
        AggregateConfig ac;
        ac.distinct_fields = 2;
        ac.sum_fields = 1;
        ac.max_groups = 1000;
        ac.exact_limit = 8;
        AggregateState agg(ac);
        LinkState link{LinkConfig{}};
        SynchronyState sync{SynchronyConfig{}};
        const std::vector<RuleStateRef> refs = {{"a", &agg}, {"l", &link}, {"s", &sync}};
        const auto res = restore_state(bytes, accounts, refs);
        ASSERT_TRUE(res.ok) << seed.name << ": " << res.error;
        EXPECT_TRUE(res.skipped.empty()) << seed.name;
        const std::vector<uint8_t> saved = save_state(accounts, refs);
        uint64_t h = 0xcbf29ce484222325ULL;
        for (uint8_t c : saved) {
            h ^= c;
            h *= 0x100000001b3ULL;
        }
        EXPECT_EQ(saved.size(), seed.size) << seed.name;
        EXPECT_EQ(h, seed.fnv) << seed.name;
    }
}

}  // namespace
}  // namespace sybilwatch::rules
