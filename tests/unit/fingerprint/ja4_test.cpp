#include "fingerprint/ja4.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <array>
#include <atomic>
#include <cstdlib>
#include <new>
#include <string>
#include <vector>

#include "tls/record.hpp"
#include "unit/tls/hello_test_data.hpp"

// Counts C++ heap allocations so the test can prove the JA4 code makes none (libcrypto's own
// malloc is outside this count; see tls/text_digest.hpp). (GCC cannot see that
// the replaced new and delete pair malloc with free.)
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
namespace {
thread_local size_t g_allocations = 0;
}
void* operator new(size_t n) {
    ++g_allocations;
    if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
    throw std::bad_alloc();
}
void operator delete(void* p) noexcept {
    std::free(p);
}
void operator delete(void* p, size_t) noexcept {
    std::free(p);
}

namespace sybilwatch::fingerprint {
namespace {

using testdata::Bytes;

// Extracts and parses the client side of a test connection.
struct Hello {
    Bytes stream;
    std::array<uint8_t, 16384> scratch{};
    std::span<const uint8_t> msg;
    tls::ClientHello ch;
    bool ok = false;
    explicit Hello(const std::string& name) {
        if (name == "dtls_client_hello") {
            stream = testdata::read_hex(name + ".hex");
            ok = tls::extract_dtls_client_hello(stream, scratch, msg) == tls::Extract::Complete &&
                 tls::parse_client_hello(msg, true, ch);
        } else {
            stream = testdata::read_hex(name + ".client.hex");
            ok = tls::extract_handshake(stream, tls::handshake_type::ClientHello, scratch, msg) ==
                     tls::Extract::Complete &&
                 tls::parse_client_hello(msg, false, ch);
        }
    }
};

// Builds and parses a synthetic hello; the result owns the bytes the ClientHello views.
struct Synthetic : testdata::OwnedHello {
    explicit Synthetic(const testdata::HelloSpec& s) : OwnedHello(testdata::build_client_hello(s)) {
        EXPECT_TRUE(ok);
    }
};

std::string sha256_12(const std::string& s) {
    unsigned char md[32];
    unsigned int len = 0;
    EVP_Digest(s.data(), s.size(), md, &len, EVP_sha256(), nullptr);
    static const char* hex = "0123456789abcdef";
    std::string out;
    for (int i = 0; i < 6; ++i) {
        out += hex[md[i] >> 4];
        out += hex[md[i] & 0xf];
    }
    return out;
}

// Reference values: Python/Rust JA4 reference output for the same connections
// (tests/data/tls/expected.tsv, see its README).
TEST(Ja4, MatchesReferenceOnRealHellos) {
    int checked = 0;
    for (const auto& row : testdata::read_expected()) {
        SCOPED_TRACE(row.at("name"));
        Hello h(row.at("name"));
        ASSERT_TRUE(h.ok);
        const char transport = row.at("name") == "dtls_client_hello" ? 'd' : 't';
        EXPECT_EQ(ja4(h.ch, transport).view(), row.at("ja4"));
        std::string r, o, ro;
        ja4_variants(h.ch, transport, r, o, ro);
        if (!row.at("ja4_r").empty()) {
            EXPECT_EQ(r, row.at("ja4_r"));
        }
        if (!row.at("ja4_o").empty()) {
            EXPECT_EQ(o, row.at("ja4_o"));
        }
        if (!row.at("ja4_ro").empty()) {
            EXPECT_EQ(ro, row.at("ja4_ro"));
        }
        EXPECT_EQ(h.ch.sni(), row.at("sni"));
        // The engine's call, without raw strings: cached after the first time, same values.
        for (int pass = 0; pass < 2; ++pass) {
            const Ja4Family f = ja4_family(h.ch, transport, nullptr, nullptr);
            EXPECT_EQ(f.ja4.view(), row.at("ja4")) << pass;
            if (!row.at("ja4_o").empty()) {
                EXPECT_EQ(f.ja4_o.view(), row.at("ja4_o")) << pass;
            }
        }
        ++checked;
    }
    EXPECT_GE(checked, 13);
}

TEST(Ja4, SpecExampleAndNamedCases) {
    // The brief's headline values, spelled out.
    EXPECT_EQ(ja4(Hello("chrome_tls13").ch, 't').view(), "t13d1516h2_8daaf6152771_e5627efa2ab1");
    // No SNI (HTTP CONNECT proxy): 'i'.
    EXPECT_EQ(ja4(Hello("https_connect").ch, 't').view(), "t12i860500_e18388e7f3a3_a1e935682795");
    // ALPN bytes ba ad: the spec's hex rule, not the references' "99".
    EXPECT_EQ(ja4(Hello("non_ascii_alpn").ch, 't').view(), "t13d1516bd_8daaf6152771_e5627efa2ab1");
    // Transport is the caller's.
    EXPECT_EQ(ja4(Hello("chrome_tls13").ch, 'q').view(), "q13d1516h2_8daaf6152771_e5627efa2ab1");
}

TEST(Ja4, NoSignatureAlgorithms) {
    // https3-301-get.pcap: only SNI; the sorted list is empty and there are no signature
    // algorithms, so c is zeros and the raw form ends with "_" and nothing after it.
    Hello h("tls10_no_sigalgs");
    ASSERT_TRUE(h.ok);
    EXPECT_EQ(ja4(h.ch, 't').view(), "t10d230100_6a57a6f57151_000000000000");
    std::string r, o, ro;
    ja4_variants(h.ch, 't', r, o, ro);
    EXPECT_TRUE(r.ends_with("00ff_"));
    EXPECT_TRUE(ro.ends_with("_0000"));
    EXPECT_EQ(o, "t10d230100_ce175d585f73_000000000000");

    // With extensions but no signature_algorithms: no trailing underscore in the hashed text.
    testdata::HelloSpec s;
    s.extensions = {testdata::ext_groups({0x001d}), testdata::ext_point_formats({0})};
    const Synthetic groups_only(s);
    const tls::ClientHello& ch = groups_only.ch;
    EXPECT_EQ(ja4(ch, 't').view().substr(24), sha256_12("000a,000b"));
    ja4_variants(ch, 't', r, o, ro);
    EXPECT_EQ(r, "t12i030200_1301,1302,c02b_000a,000b");
}

TEST(Ja4, GreaseEverywhereChangesNothing) {
    testdata::HelloSpec plain;
    plain.ciphers = {0x1301, 0xc02f, 0x009c};
    plain.extensions = {
        testdata::ext_sni("a.example"),           testdata::ext_alpn({"h2", "http/1.1"}),
        testdata::ext_versions({0x0304, 0x0303}), testdata::ext_groups({0x001d, 0x0017}),
        testdata::ext_sig_algs({0x0403, 0x0804}), testdata::ext_point_formats({0})};
    testdata::HelloSpec greased = plain;
    greased.ciphers = {0x0a0a, 0x1301, 0xc02f, 0xfafa, 0x009c};
    greased.extensions = {testdata::ext_empty(0x2a2a),
                          testdata::ext_sni("a.example"),
                          testdata::ext_alpn({"h2", "http/1.1"}),
                          testdata::ext_versions({0x3a3a, 0x0304, 0x0303}),
                          testdata::ext_groups({0x4a4a, 0x001d, 0x0017}),
                          testdata::ext_sig_algs({0x5a5a, 0x0403, 0x0804}),
                          testdata::ext_point_formats({0}),
                          {0x6a6a, {0x00}}};
    const Synthetic ha(plain), hb(greased);
    const tls::ClientHello &a = ha.ch, &b = hb.ch;
    EXPECT_EQ(ja4(a, 't').view(), ja4(b, 't').view());
    EXPECT_EQ(ja4(a, 't').view().substr(0, 10), "t13d0306h2");
    std::string ra, oa, roa, rb, ob, rob;
    ja4_variants(a, 't', ra, oa, roa);
    ja4_variants(b, 't', rb, ob, rob);
    EXPECT_EQ(ra, rb);
    EXPECT_EQ(oa, ob);
    EXPECT_EQ(roa, rob);
    EXPECT_EQ(ra, "t13d0306h2_009c,1301,c02f_000a,000b,000d,002b_0403,0804");
    EXPECT_EQ(roa, "t13d0306h2_1301,c02f,009c_0000,0010,002b,000a,000d,000b_0403,0804");
}

TEST(Ja4, EmptyListsHashToZeros) {
    testdata::HelloSpec s;
    s.ciphers = {};
    s.extensions_block = false;
    const Synthetic h(s);
    const tls::ClientHello& ch = h.ch;
    EXPECT_EQ(ja4(ch, 't').view(), "t12i000000_000000000000_000000000000");
    std::string r, o, ro;
    ja4_variants(ch, 't', r, o, ro);
    EXPECT_EQ(r, "t12i000000__");
    EXPECT_EQ(o, "t12i000000_000000000000_000000000000");
    EXPECT_EQ(ro, "t12i000000__");
}

TEST(Ja4, OneCharacterAndEmptyAlpn) {
    testdata::HelloSpec s;
    s.extensions = {testdata::ext_alpn({"x", "h2"})};
    EXPECT_EQ(ja4(Synthetic(s).ch, 't').view().substr(8, 2), "xx");
    s.extensions = {testdata::ext_alpn({})};  // present, no protocols
    EXPECT_EQ(ja4(Synthetic(s).ch, 't').view().substr(8, 2), "00");
}

TEST(Ja4, CountsCapAt99AndLongListsStillHashEverything) {
    // 600 ciphers: more than any real client, and past the inline buffer (spill path).
    testdata::HelloSpec s;
    s.ciphers.clear();
    std::string sorted;
    for (uint16_t c = 600; c > 0; --c)
        s.ciphers.push_back(c);
    for (uint16_t c = 1; c <= 600; ++c) {
        char buf[8];
        std::snprintf(buf, sizeof buf, "%s%04x", c == 1 ? "" : ",", c);
        sorted += buf;
    }
    for (uint16_t t = 0x100; t < 0x100 + 120; ++t)
        s.extensions.push_back(testdata::ext_empty(t));
    const Synthetic h(s);
    const tls::ClientHello& ch = h.ch;
    const Ja4 j = ja4(ch, 't');
    EXPECT_EQ(j.view().substr(0, 10), "t12i999900");
    EXPECT_EQ(j.view().substr(11, 12), sha256_12(sorted));
    std::string r, o, ro;
    ja4_variants(ch, 't', r, o, ro);
    EXPECT_EQ(r.substr(11, sorted.size()), sorted);
}

TEST(Ja4, SignatureAlgorithmsKeepWireOrderAndDuplicates) {
    // macos_tcp_flags.pcap lists 0x0805 twice; the reference keeps both.
    Hello h("macos");
    std::string r, o, ro;
    ja4_variants(h.ch, 't', r, o, ro);
    EXPECT_TRUE(r.ends_with("_0403,0804,0401,0503,0203,0805,0805,0501,0806,0601,0201")) << r;
}

TEST(Ja4, NoHeapAllocation) {
    Hello h("chrome_tls13");
    ASSERT_TRUE(h.ok);
    (void)ja4(h.ch, 't');  // warm-up: first use fetches the digest and the per-thread context
    const size_t before = g_allocations;
    Ja4 j;
    for (int i = 0; i < 100; ++i) {
        tls::ClientHello ch;
        ASSERT_TRUE(tls::parse_client_hello(h.msg, false, ch));
        j = ja4(ch, 't');
    }
    EXPECT_EQ(g_allocations, before);
    EXPECT_EQ(j.view(), "t13d1516h2_8daaf6152771_e5627efa2ab1");

    // The variants reuse the strings' capacity once it suffices.
    std::string r, o, ro;
    ja4_variants(h.ch, 't', r, o, ro);
    const size_t warm = g_allocations;
    ja4_variants(h.ch, 't', r, o, ro);
    EXPECT_EQ(g_allocations, warm);
}

}  // namespace
}  // namespace sybilwatch::fingerprint
