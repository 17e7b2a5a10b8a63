// client_hello_fingerprints through its caches: the values are those of the hello whatever was
// seen before it. A Chromium-style client permutes its extensions on every connection (JA3 and
// ja4_o change, JA4 does not); other stacks repeat their hellos exactly. The expected values
// here are computed independently, with EVP, from the lists the test itself put in the hello.
#include "fingerprint/hello_fingerprints.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "tls/grease.hpp"
#include "tls/record.hpp"
#include "unit/tls/hello_test_data.hpp"

namespace sybilwatch::fingerprint {
namespace {

using testdata::Bytes;

std::string digest_hex(const EVP_MD* md, const std::string& s, size_t chars) {
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_Digest(s.data(), s.size(), out, &len, md, nullptr);
    static const char* hex = "0123456789abcdef";
    std::string r;
    for (unsigned i = 0; i < len && r.size() < chars; ++i) {
        r += hex[out[i] >> 4];
        r += hex[out[i] & 0xf];
    }
    return r.substr(0, chars);
}

std::string hex_list(const std::vector<uint16_t>& v) {
    std::string s;
    char buf[8];
    for (size_t i = 0; i < v.size(); ++i) {
        std::snprintf(buf, sizeof buf, "%s%04x", i ? "," : "", v[i]);
        s += buf;
    }
    return s;
}
std::string dec_list(const std::vector<uint16_t>& v) {
    std::string s;
    for (size_t i = 0; i < v.size(); ++i)
        s += (i ? "-" : "") + std::to_string(v[i]);
    return s;
}
std::vector<uint16_t> u16s(std::span<const uint8_t> b) {
    std::vector<uint16_t> v;
    for (size_t i = 0; i + 1 < b.size(); i += 2)
        v.push_back(static_cast<uint16_t>(b[i] << 8 | b[i + 1]));
    return v;
}
std::vector<uint16_t> no_grease(std::vector<uint16_t> v) {
    std::erase_if(v, tls::is_grease);
    return v;
}

// The real Chrome hello taken apart, so its extensions can be reordered.
struct ChromeParts {
    testdata::HelloSpec spec;
    std::vector<uint16_t> sigs, groups;
    Bytes formats;
    ChromeParts() {
        const Bytes stream = testdata::read_hex("chrome_tls13.client.hex");
        std::array<uint8_t, 16384> scratch{};
        std::span<const uint8_t> msg;
        EXPECT_EQ(tls::extract_handshake(stream, tls::handshake_type::ClientHello, scratch, msg),
                  tls::Extract::Complete);
        tls::ClientHello ch;
        EXPECT_TRUE(tls::parse_client_hello(msg, false, ch));
        spec.legacy_version = ch.legacy_version;
        spec.session_id.assign(ch.session_id.begin(), ch.session_id.end());
        spec.ciphers = u16s(ch.cipher_suites);
        spec.compression.assign(ch.compression_methods.begin(), ch.compression_methods.end());
        for (const tls::Extension& e : ch.extensions())
            spec.extensions.push_back({e.type, Bytes(e.body.begin(), e.body.end())});
        sigs = u16s(ch.signature_algorithms_list().bytes());
        groups = u16s(ch.supported_groups_list().bytes());
        const auto f = ch.ec_point_formats_list();
        formats.assign(f.begin(), f.end());
    }
};

struct Want {
    std::string ja4_o, ja4_ro, ja3, ja3_full;
};

Want expected_order_dependent(const ChromeParts& c, const testdata::HelloSpec& s) {
    std::vector<uint16_t> exts;
    for (const auto& e : s.extensions)
        exts.push_back(e.type);
    const auto ciphers = no_grease(s.ciphers), ext_list = no_grease(exts);
    const auto sigs = no_grease(c.sigs), groups = no_grease(c.groups);
    const std::string a = "t13d1516h2";  // Chrome's part a, whatever the order
    Want w;
    const std::string c_text = hex_list(ext_list) + "_" + hex_list(sigs);
    w.ja4_ro = a + "_" + hex_list(ciphers) + "_" + c_text;
    w.ja4_o = a + "_" + digest_hex(EVP_sha256(), hex_list(ciphers), 12) + "_" +
              digest_hex(EVP_sha256(), c_text, 12);
    std::vector<uint16_t> formats(c.formats.begin(), c.formats.end());
    w.ja3_full = std::to_string(s.legacy_version) + "," + dec_list(ciphers) + "," +
                 dec_list(ext_list) + "," + dec_list(groups) + "," + dec_list(formats);
    w.ja3 = digest_hex(EVP_md5(), w.ja3_full, 32);
    return w;
}

TEST(HelloFingerprints, PermutedExtensionsGetTheirOwnOrderDependentValues) {
    const ChromeParts chrome;
    const std::string ja4 = "t13d1516h2_8daaf6152771_e5627efa2ab1";
    std::mt19937 rng(7);
    // Each order three times (a miss, a remembered miss, then a hit where it is cached),
    // interleaved with other orders, with and without the raw strings.
    std::vector<testdata::HelloSpec> orders;
    for (int i = 0; i < 20; ++i) {
        testdata::HelloSpec s = chrome.spec;
        std::shuffle(s.extensions.begin(), s.extensions.end(), rng);
        orders.push_back(s);
    }
    for (int round = 0; round < 3; ++round) {
        for (const auto& s : orders) {
            const Want w = expected_order_dependent(chrome, s);
            const Bytes msg = testdata::build_client_hello(s);
            for (bool raw : {false, true}) {
                Observation o;
                ASSERT_TRUE(client_hello_fingerprints(msg, 't', false, raw, o));
                EXPECT_EQ(o.ja4.view(), ja4);
                EXPECT_EQ(o.ja4_o.view(), w.ja4_o);
                EXPECT_EQ(o.ja3.view(), w.ja3);
                if (raw) {
                    EXPECT_EQ(o.ja4_ro, w.ja4_ro);
                    EXPECT_EQ(o.ja3_full, w.ja3_full);
                } else {
                    EXPECT_TRUE(o.ja4_ro.empty() && o.ja3_full.empty());
                }
            }
        }
    }
}

// Every reference hello, over and over in rotation: cached or not, its reference values.
TEST(HelloFingerprints, RepeatedStacksKeepTheirReferenceValues) {
    std::array<uint8_t, 16384> scratch{};
    const auto rows = testdata::read_expected();
    int checked = 0;
    for (int round = 0; round < 4; ++round) {
        for (const auto& row : rows) {
            SCOPED_TRACE(row.at("name"));
            const bool dtls = row.at("name") == "dtls_client_hello";
            const Bytes stream =
                testdata::read_hex(row.at("name") + (dtls ? ".hex" : ".client.hex"));
            std::span<const uint8_t> msg;
            ASSERT_EQ(dtls ? tls::extract_dtls_client_hello(stream, scratch, msg)
                           : tls::extract_handshake(stream, tls::handshake_type::ClientHello,
                                                    scratch, msg),
                      tls::Extract::Complete);
            Observation o;
            ASSERT_TRUE(client_hello_fingerprints(msg, dtls ? 'd' : 't', dtls, round % 2, o));
            EXPECT_EQ(o.ja4.view(), row.at("ja4"));
            if (!row.at("ja4_o").empty()) {
                EXPECT_EQ(o.ja4_o.view(), row.at("ja4_o"));
            }
            EXPECT_EQ(o.ja3.view(), row.at("ja3"));
            if (round % 2 && !row.at("ja4_r").empty()) {
                EXPECT_EQ(o.ja4_r, row.at("ja4_r"));
            }
            if (round % 2 && !row.at("ja3_full").empty()) {
                EXPECT_EQ(o.ja3_full, row.at("ja3_full"));
            }
            ++checked;
        }
    }
    EXPECT_GE(checked, 4 * 13);
}

// JA4 sorts its cipher and extension lists: duplicates kept, every length (the short-list
// ranking sort and the long-list fallback alike) giving the sorted text.
TEST(HelloFingerprints, SortedListsWithDuplicatesAndAnyLength) {
    std::mt19937 rng(11);
    for (size_t n : {0u, 1u, 2u, 7u, 8u, 9u, 31u, 63u, 64u, 65u, 100u}) {
        testdata::HelloSpec s;
        s.ciphers.clear();
        for (size_t i = 0; i < n; ++i)
            s.ciphers.push_back(static_cast<uint16_t>(rng() % 40 + 1));  // many duplicates
        s.extensions = {testdata::ext_sig_algs({0x0403})};
        const Bytes msg = testdata::build_client_hello(s);
        Observation o;
        ASSERT_TRUE(client_hello_fingerprints(msg, 't', false, true, o));
        auto sorted = s.ciphers;
        std::sort(sorted.begin(), sorted.end());
        EXPECT_EQ(o.ja4_r.substr(11, 5 * n - (n ? 1 : 0)), hex_list(sorted)) << n;
        const std::string b =
            n ? digest_hex(EVP_sha256(), hex_list(sorted), 12) : std::string(12, '0');
        EXPECT_EQ(o.ja4.view().substr(11, 12), b) << n;
    }
}

}  // namespace
}  // namespace sybilwatch::fingerprint
