// HelloLists: the one pass over a ClientHello that JA4, ja4_o and JA3 (and their caches) read.
#include "fingerprint/hello_lists.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "fingerprint/ja4.hpp"
#include "unit/tls/hello_test_data.hpp"

namespace sybilwatch::fingerprint {
namespace {

using L = HelloLists;
using V = std::vector<uint16_t>;

V vec(std::span<const uint16_t> s) {
    return V(s.begin(), s.end());
}

testdata::HelloSpec greased_spec() {
    testdata::HelloSpec s;
    s.ciphers = {0x0a0a, 0x1301, 0xc02f, 0xfafa, 0x009c};
    s.extensions = {testdata::ext_empty(0x2a2a),
                    testdata::ext_sni("a.example"),
                    testdata::ext_alpn({"h2", "http/1.1"}),
                    testdata::ext_versions({0x3a3a, 0x0304, 0x0303}),
                    testdata::ext_groups({0x4a4a, 0x001d, 0x0017}),
                    testdata::ext_sig_algs({0x5a5a, 0x0403, 0x0804}),
                    testdata::ext_point_formats({0, 1}),
                    {0x6a6a, {0x00}}};
    return s;
}

TEST(HelloLists, WireOrderWithoutGreaseAndCountsInFront) {
    const testdata::OwnedHello h(testdata::build_client_hello(greased_spec()));
    ASSERT_TRUE(h.ok);
    L l;
    l.assign(h.ch, 't');
    EXPECT_EQ(vec(l.list(L::Ciphers)), (V{0x1301, 0xc02f, 0x009c}));
    EXPECT_EQ(vec(l.list(L::Extensions)), (V{0x0000, 0x0010, 0x002b, 0x000a, 0x000d, 0x000b}));
    EXPECT_EQ(vec(l.list(L::SignatureAlgorithms)), (V{0x0403, 0x0804}));
    EXPECT_EQ(vec(l.list(L::Groups)), (V{0x001d, 0x0017}));
    EXPECT_EQ(vec(l.list(L::PointFormats)), (V{0, 1}));
    EXPECT_EQ(l.legacy_version(), 0x0303);
    EXPECT_EQ(vec(l.counted(L::Ciphers)), (V{3, 0x1301, 0xc02f, 0x009c}));
    EXPECT_EQ(vec(l.extensions_and_signatures()),
              (V{6, 0x0000, 0x0010, 0x002b, 0x000a, 0x000d, 0x000b, 2, 0x0403, 0x0804}));
    // Part a is JA4's own; the key holds it, the version and every counted list.
    const std::string_view a(l.ja4_a().data(), l.ja4_a().size());
    EXPECT_EQ(a, "t13d0306h2");
    EXPECT_EQ(ja4(h.ch, 't').view().substr(0, 10), a);
    EXPECT_EQ(l.key().size(), 6u + 4 + 7 + 3 + 3 + 3);
}

TEST(HelloLists, StorageIsReusedWithoutStaleValues) {
    testdata::HelloSpec big;
    big.ciphers.clear();
    for (uint16_t c = 1; c <= 600; ++c)
        big.ciphers.push_back(c);
    const testdata::OwnedHello hb(testdata::build_client_hello(big));
    const testdata::OwnedHello hs(testdata::build_client_hello(greased_spec()));
    ASSERT_TRUE(hb.ok && hs.ok);
    L l;
    l.assign(hb.ch, 'q');
    EXPECT_EQ(l.list(L::Ciphers).size(), 600u);
    EXPECT_EQ(l.ja4_a()[0], 'q');
    l.assign(hs.ch, 't');
    EXPECT_EQ(vec(l.list(L::Ciphers)), (V{0x1301, 0xc02f, 0x009c}));
    EXPECT_EQ(l.key().size(), 6u + 4 + 7 + 3 + 3 + 3);
}

// The storage is sized from the bytes the views cover, not from the parser's counts, so a
// ClientHello whose counts disagree with its bytes cannot make it write out of bounds.
TEST(HelloLists, BoundsComeFromTheBytesNotFromTheCounts) {
    const testdata::OwnedHello h(testdata::build_client_hello(greased_spec()));
    ASSERT_TRUE(h.ok);
    tls::ClientHello lying = h.ch;
    lying.extension_count = 0;
    L l;
    l.assign(lying, 't');
    EXPECT_EQ(l.list(L::Extensions).size(), 6u);
}

}  // namespace
}  // namespace sybilwatch::fingerprint
