#include "rules/account_table.hpp"

#include <gtest/gtest.h>

#include <string>

#include "net/ip_address.hpp"

namespace sybilwatch::rules {
namespace {

constexpr int64_t kSec = 1'000'000'000;
constexpr int64_t kT0 = 1'795'773'579 * kSec;

TEST(AccountTable, InternsDenseIds) {
    AccountTable t;
    EXPECT_EQ(t.intern("acct_1", kT0), 0u);
    EXPECT_EQ(t.intern("acct_2", kT0), 1u);
    EXPECT_EQ(t.intern("acct_1", kT0 + 5), 0u);
    EXPECT_EQ(t.find("acct_2"), 1u);
    EXPECT_EQ(t.find("nobody"), AccountTable::kNoAccount);
    EXPECT_EQ(t.name(1), "acct_2");
    EXPECT_EQ(t.last_seen(0), kT0 + 5);
    EXPECT_EQ(t.size(), 2u);
    EXPECT_EQ(t.intern("", kT0), AccountTable::kNoAccount);
}

TEST(AccountTable, CapacityRefusesUntilExpiryFreesIds) {
    AccountTable t(3);
    for (int i = 0; i < 3; ++i)
        EXPECT_NE(t.intern("a" + std::to_string(i), kT0 + i * kSec), AccountTable::kNoAccount);
    EXPECT_EQ(t.intern("late", kT0 + 10 * kSec), AccountTable::kNoAccount);
    EXPECT_EQ(t.refused(), 1u);
    // Horizon 10 s at kT0+11s: a0 (kT0) and a1 (kT0+1s) go, a2 (kT0+2s) stays one more ns.
    EXPECT_EQ(t.expire(kT0 + 11 * kSec, 10 * kSec), 2u);
    EXPECT_EQ(t.find("a0"), AccountTable::kNoAccount);
    EXPECT_EQ(t.find("a2"), 2u);
    const uint32_t id = t.intern("late", kT0 + 11 * kSec);
    EXPECT_LT(id, 2u);  // a freed id is reused: ids stay dense
    EXPECT_EQ(t.name(id), "late");
    EXPECT_EQ(t.id_limit(), 3u);
}

TEST(AccountTable, MergeMapsIds) {
    AccountTable a, b;
    a.intern("x", kT0);
    a.intern("y", kT0);
    b.intern("y", kT0 + 1);
    b.intern("z", kT0 + 2);
    const auto map = a.merge(b);
    ASSERT_EQ(map.size(), 2u);
    EXPECT_EQ(map[0], 1u);  // y
    EXPECT_EQ(map[1], 2u);  // z, new here
    EXPECT_EQ(a.last_seen(1), kT0 + 1);
}

TEST(AccountTable, SaveLoadKeepsIdsAndHoles) {
    AccountTable a;
    for (int i = 0; i < 100; ++i)
        a.intern("user-" + std::to_string(i) + "@example.com", kT0 + i);
    a.expire(kT0 + 50, 0);  // frees users 0..50
    std::vector<uint8_t> buf;
    StateWriter w(buf);
    a.save(w);
    AccountTable b;
    StateReader r(buf);
    ASSERT_TRUE(b.load(r));
    EXPECT_EQ(b.size(), 49u);
    EXPECT_EQ(b.find("user-77@example.com"), 77u);
    EXPECT_EQ(b.find("user-7@example.com"), AccountTable::kNoAccount);
    EXPECT_LT(b.intern("new", kT0), 51u);  // reuses a hole
    // Truncation is detected.
    AccountTable c;
    StateReader shortr(std::span<const uint8_t>(buf).first(buf.size() - 3));
    EXPECT_FALSE(c.load(shortr));
}

TEST(AccountTable, KeepsEachAccountsLatestFacts) {
    AccountTable t;
    const auto ip = net::IpAddress::parse("203.0.113.77");
    const std::string name = "user-1@example.com";
    const uint32_t id = t.intern(name, AccountTable::hash(name), kT0, AccountFacts::of(ip, 7));
    AccountFacts f = t.facts(id);
    EXPECT_EQ(f.ja4, 7u);
    EXPECT_EQ(f.network(), net::IpAddress::parse("203.0.113.0"));  // the /24
    const auto v6 = net::IpAddress::parse("2001:db8:1:2:3::9");
    t.intern(name, AccountTable::hash(name), kT0 + 1, AccountFacts::of(v6, 9));
    f = t.facts(id);
    EXPECT_EQ(f.ja4, 9u);
    EXPECT_EQ(f.network(), net::IpAddress::parse("2001:db8:1::"));  // the /48
    // Interned without facts (a merge): the facts stay.
    t.intern(name, kT0 + 2);
    EXPECT_EQ(t.facts(id).ja4, 9u);
    EXPECT_EQ(t.last_seen(id), kT0 + 2);
    EXPECT_EQ(t.facts(12345).family, 0);
}

TEST(AccountTable, LongNamesAreTruncatedToOneAccount) {
    AccountTable t;
    const std::string a(300, 'a'), b = std::string(256, 'a') + "bbb";
    const uint32_t id = t.intern(a, kT0);
    EXPECT_EQ(t.intern(b, kT0), id);  // the same first 256 bytes
    EXPECT_EQ(t.name(id).size(), AccountTable::kMaxNameBytes);
    EXPECT_EQ(t.find(b), id);
    EXPECT_EQ(t.size(), 1u);
}

// Freed names are holes in the arena; once most of it is holes expire() rewrites it. Ids,
// names, times and facts of the remaining accounts stay; lookups keep working.
TEST(AccountTable, ExpiryCompactsTheArena) {
    AccountTable t(1'000'000);
    constexpr uint32_t kN = 200'000;
    const auto ip = net::IpAddress::parse("198.51.100.1");
    for (uint32_t i = 0; i < kN; ++i) {
        const std::string n = "user-" + std::to_string(i) + "@example.com";
        ASSERT_EQ(t.intern(n, AccountTable::hash(n), kT0 + (i % 10 == 0 ? 100 * kSec : 0),
                           AccountFacts::of(ip, i)),
                  i);
    }
    const size_t full = t.memory_bytes();
    EXPECT_LT(full / kN, 80u);  // about 60 B for a 24-byte name
    EXPECT_EQ(t.expire(kT0 + 50 * kSec, 10 * kSec), kN - kN / 10);
    EXPECT_LT(t.memory_bytes(), full * 2 / 3);  // the arena was rewritten
    for (uint32_t i = 0; i < kN; ++i) {
        const std::string n = "user-" + std::to_string(i) + "@example.com";
        if (i % 10 == 0) {
            ASSERT_EQ(t.find(n), i);
            ASSERT_EQ(t.name(i), n);
            ASSERT_EQ(t.facts(i).ja4, i);
            ASSERT_EQ(t.last_seen(i), kT0 + 100 * kSec);
        } else {
            ASSERT_EQ(t.find(n), AccountTable::kNoAccount);
            ASSERT_EQ(t.name(i), "");
        }
    }
    // Freed ids are reused for new names.
    EXPECT_LT(t.intern("newcomer", kT0 + 60 * kSec), kN);
    EXPECT_EQ(t.size(), kN / 10 + 1);
}

// A batch peeks its accounts ahead and touches them later (Engine::observe of a span): the
// entry offset a Ref carries is good until the arena is rewritten, ids freed, or the table
// replaced; then the Ref is no longer current() and the account is interned by name.
TEST(AccountTable, APeekedRefIsCurrentUntilTheTableChanges) {
    AccountTable t(1'000'000);
    constexpr uint32_t kN = 50'000;
    const auto ip = net::IpAddress::parse("198.51.100.1");
    auto name = [](uint32_t i) { return "user-" + std::to_string(i) + "@example.com"; };
    for (uint32_t i = 0; i < kN; ++i)
        t.intern(name(i), AccountTable::hash(name(i)), kT0 + (i % 10 == 0 ? 100 * kSec : 0),
                 AccountFacts::of(ip, i));
    const std::string kept = name(40'000);
    const AccountTable::Ref before = t.peek(kept, AccountTable::hash(kept));
    ASSERT_EQ(before.id, 40'000u);
    // Unchanged table: the Ref's entry is the account's.
    ASSERT_TRUE(t.current(before));
    EXPECT_EQ(t.touch(before, kT0 + 101 * kSec, AccountFacts::of(ip, 7)), 40'000u);
    EXPECT_EQ(t.facts(40'000).ja4, 7u);
    EXPECT_EQ(t.last_seen(40'000), kT0 + 101 * kSec);

    const size_t full = t.memory_bytes();
    t.expire(kT0 + 50 * kSec, 10 * kSec);  // frees 90% and rewrites the arena
    ASSERT_LT(t.memory_bytes(), full * 2 / 3);
    EXPECT_FALSE(t.current(before));
    EXPECT_EQ(t.intern(kept, AccountTable::hash(kept), kT0 + 102 * kSec, AccountFacts::of(ip, 8)),
              40'000u);
    EXPECT_EQ(t.facts(40'000).ja4, 8u);
    EXPECT_EQ(t.last_seen(40'000), kT0 + 102 * kSec);
    EXPECT_EQ(t.name(40'000), kept);
    for (uint32_t i = 0; i < kN; i += 10) {
        if (i == 40'000) continue;
        ASSERT_EQ(t.facts(i).ja4, i) << name(i);
    }

    // A name not in the table peeks as no account.
    EXPECT_FALSE(t.current(t.peek("nobody", AccountTable::hash("nobody"))));

    // Another table, or this one replaced by another (a restore moves one in): not current.
    const AccountTable::Ref now = t.peek(kept, AccountTable::hash(kept));
    ASSERT_TRUE(t.current(now));
    AccountTable other;
    other.intern(kept, kT0);
    EXPECT_FALSE(other.current(now));
    t = std::move(other);
    EXPECT_FALSE(t.current(now));
    EXPECT_TRUE(t.current(t.peek(kept, AccountTable::hash(kept))));
}

TEST(AccountTable, LoadRefusesANameTwice) {
    AccountTable a;
    a.intern("x", kT0);
    a.intern("y", kT0);
    std::vector<uint8_t> buf;
    StateWriter w(buf);
    a.save(w);
    // The second name rewritten to the first: a corrupt snapshot.
    std::vector<uint8_t> bad = buf;
    bad[bad.size() - 1] = 'x';
    AccountTable b;
    StateReader r(bad);
    EXPECT_FALSE(b.load(r));
    StateReader good(buf);
    ASSERT_TRUE(b.load(good));
    EXPECT_EQ(b.find("y"), 1u);
}

}  // namespace
}  // namespace sybilwatch::rules
