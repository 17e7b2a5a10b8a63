// The one-shot digests against the standards' own test vectors.
#include "fingerprint/text_hash.hpp"

#include <gtest/gtest.h>

#include <array>
#include <string>

namespace sybilwatch::fingerprint {
namespace {

std::string sha256(std::string_view s, size_t chars = 64) {
    std::array<char, 64> out{};
    EXPECT_TRUE(sha256_hex(s, {out.data(), chars}));
    return std::string(out.data(), chars);
}
std::string md5(std::string_view s) {
    std::array<char, 32> out{};
    EXPECT_TRUE(md5_hex(s, out));
    return std::string(out.data(), out.size());
}

// FIPS 180-2 appendix B / RFC 6234 section 8.5.
TEST(TextHash, Sha256Vectors) {
    EXPECT_EQ(sha256("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    EXPECT_EQ(sha256(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    EXPECT_EQ(sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
              "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    EXPECT_EQ(sha256("abc", 12), "ba7816bf8f01");  // JA4's truncation
}

// RFC 1321 appendix A.5.
TEST(TextHash, Md5Vectors) {
    EXPECT_EQ(md5(""), "d41d8cd98f00b204e9800998ecf8427e");
    EXPECT_EQ(md5("abc"), "900150983cd24fb0d6963f7d28e17f72");
    EXPECT_EQ(
        md5("12345678901234567890123456789012345678901234567890123456789012345678901234567890"),
        "57edf4a22be3c955ac49da2e2107b67a");
}

// Texts sharing their first 64-byte block (whose MD5 state is reused) and texts that do not,
// long and short, repeated: each gets its own digest (values: Python's hashlib).
TEST(TextHash, Md5OfTextsSharingTheirFirstBlock) {
    const std::string head(64, 'h');
    const std::pair<std::string, std::string_view> cases[] = {
        {head, "d141045bfb385cad357e7c39c60e5da0"},
        {head + "a", "b976d5e0b4005f0b94e9019d307e0d88"},
        {head + "b", "afd412b87915aad5b2ff4a03e77866db"},
        {std::string(64, 'g') + "a", "560ead7eb30799943bf82d2ee2979e5b"},
        {head + std::string(100, 'x'), "d3d84b99910f81020c29210ef2c7e95a"},
    };
    for (int round = 0; round < 3; ++round) {
        for (const auto& [text, want] : cases)
            EXPECT_EQ(md5(text), want) << text.size() << " " << round;
    }
}

}  // namespace
}  // namespace sybilwatch::fingerprint
