#include "rules/sample_ring.hpp"

#include <gtest/gtest.h>

#include <string>

#include "rules_test_util.hpp"

namespace sybilwatch::rules {
namespace {

// A connection comes back as it went in, by age, until kSlots newer ones have written over
// it; texts longer than the slot's share are cut, never spilled into the next field.
TEST(SampleRing, KeepsTheLatestConnectionsByAge) {
    SampleRing ring;
    EXPECT_EQ(ring.account(0), SampleRing::kNoAccount);  // nothing written yet

    fingerprint::Observation o = test::browser_obs();
    o.ts_ns = 7;
    o.src = net::IpAddress::parse("2001:db8::9");
    o.src_port = 40001;
    o.ja3.assign("0149f47eabf9a20d0893e2a44e5a6323");
    const std::string long_ua(400, 'u'), long_account(300, 'a');
    const identity::AttributedObservation first{o, "alice@example.com", "curl/8.5.0", "", 0};
    ring.push(first, 11);
    const SampleConnection c = ring.connection(0);
    EXPECT_EQ(ring.account(0), 11u);
    EXPECT_EQ(c.ts_ns, 7);
    EXPECT_EQ(c.src, o.src);
    EXPECT_EQ(c.dst, o.dst);
    EXPECT_EQ(c.src_port, 40001);
    EXPECT_EQ(c.dst_port, o.dst_port);
    EXPECT_EQ(c.account, "alice@example.com");
    EXPECT_EQ(c.sni, o.sni.view());
    EXPECT_EQ(c.ja4, o.ja4.view());
    EXPECT_EQ(c.ja3, "0149f47eabf9a20d0893e2a44e5a6323");
    EXPECT_EQ(c.ja4t, o.ja4t.view());
    EXPECT_EQ(c.tcp_sig, o.tcp_sig.view());
    EXPECT_EQ(c.user_agent, "curl/8.5.0");

    const std::string long_ja4t = "65535_" + std::string(190, '2');  // a SYN full of options
    o.ja4t.assign(long_ja4t);
    ASSERT_EQ(o.ja4t.view(), long_ja4t);
    const identity::AttributedObservation big{o, long_account, long_ua, "", 0};
    ring.push(big, SampleRing::kNoAccount);
    const SampleConnection b = ring.connection(0);
    EXPECT_EQ(b.ja4t, long_ja4t);  // fingerprints are never cut
    EXPECT_EQ(b.account, long_account.substr(0, 256));
    EXPECT_EQ(b.user_agent, long_ua.substr(0, 256));
    EXPECT_EQ(b.ja4, o.ja4.view());  // the fields between are whole
    EXPECT_EQ(ring.account(0), SampleRing::kNoAccount);
    EXPECT_EQ(ring.connection(1).account, "alice@example.com");  // one older
    EXPECT_EQ(ring.account(1), 11u);

    for (uint32_t i = 0; i < SampleRing::kSlots - 2; ++i) {
        o.ts_ns = 100 + i;
        const std::string name = "u" + std::to_string(i);
        ring.push(identity::AttributedObservation{o, name, "", "", 0}, 1000 + i);
    }
    EXPECT_EQ(ring.account(SampleRing::kSlots - 1), 11u);  // the oldest still held
    ring.push(identity::AttributedObservation{o, "next", "", "", 0}, 5);
    EXPECT_NE(ring.account(SampleRing::kSlots - 1), 11u);  // now written over
    EXPECT_EQ(ring.connection(0).account, "next");
    EXPECT_EQ(ring.connection(1).account, "u" + std::to_string(SampleRing::kSlots - 3));
    EXPECT_EQ(ring.connection(1).user_agent, "");
}

}  // namespace
}  // namespace sybilwatch::rules
