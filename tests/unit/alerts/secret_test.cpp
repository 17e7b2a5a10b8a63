// Loading secrets from files and environment variables, and keeping them out of error text.
#include "alerts/secret.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>

#include "alerts/hmac_signature.hpp"
#include "siem_test_util.hpp"

namespace sybilwatch::alerts {
namespace {

TEST(Secret, FromFileStripsTrailingNewline) {
    test::TempDir dir;
    test::write_file(dir.file("token"), "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0\n", 0600);
    Secret s;
    std::string error;
    std::vector<std::string> warnings;
    ASSERT_TRUE(load_secret(SecretSource::from_file(dir.file("token")), s, error, warnings))
        << error;
    EXPECT_EQ(s.reveal(), "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0");
    EXPECT_TRUE(warnings.empty());

    test::write_file(dir.file("crlf"), "key with spaces\r\n\r\n", 0600);
    ASSERT_TRUE(load_secret(SecretSource::from_file(dir.file("crlf")), s, error, warnings));
    EXPECT_EQ(s.reveal(), "key with spaces");  // inner spaces are the key's own
}

TEST(Secret, WorldReadableFileLoadsWithAWarning) {
    test::TempDir dir;
    test::write_file(dir.file("token"), "abc123", 0644);
    Secret s;
    std::string error;
    std::vector<std::string> warnings;
    ASSERT_TRUE(load_secret(SecretSource::from_file(dir.file("token")), s, error, warnings));
    ASSERT_EQ(warnings.size(), 1u);
    EXPECT_NE(warnings[0].find("readable by every user"), std::string::npos);
    EXPECT_EQ(warnings[0].find("abc123"), std::string::npos);
}

TEST(Secret, FromEnvironment) {
    ::setenv("SW_TEST_HEC_TOKEN", "tok-from-env\n", 1);
    Secret s;
    std::string error;
    std::vector<std::string> warnings;
    ASSERT_TRUE(load_secret(SecretSource::from_env("SW_TEST_HEC_TOKEN"), s, error, warnings))
        << error;
    EXPECT_EQ(s.reveal(), "tok-from-env");
    ::unsetenv("SW_TEST_HEC_TOKEN");
    EXPECT_FALSE(load_secret(SecretSource::from_env("SW_TEST_HEC_TOKEN"), s, error, warnings));
    EXPECT_NE(error.find("SW_TEST_HEC_TOKEN is not set"), std::string::npos);
}

TEST(Secret, Refusals) {
    test::TempDir dir;
    Secret s;
    std::string error;
    std::vector<std::string> warnings;
    EXPECT_FALSE(load_secret({}, s, error, warnings));
    EXPECT_FALSE(load_secret(SecretSource::from_file(dir.file("missing")), s, error, warnings));
    EXPECT_NE(error.find("cannot open"), std::string::npos);
    test::write_file(dir.file("empty"), "\n", 0600);
    EXPECT_FALSE(load_secret(SecretSource::from_file(dir.file("empty")), s, error, warnings));
    EXPECT_NE(error.find("empty"), std::string::npos);
    test::write_file(dir.file("big"), std::string(kMaxSecretFileBytes + 1, 'k'), 0600);
    EXPECT_FALSE(load_secret(SecretSource::from_file(dir.file("big")), s, error, warnings));
    EXPECT_FALSE(
        load_secret(SecretSource::from_file(dir.path()), s, error, warnings));  // a directory
    EXPECT_FALSE(load_secret(SecretSource{dir.file("x"), "HOME"}, s, error, warnings));
    EXPECT_NE(error.find("not both"), std::string::npos);
    EXPECT_TRUE(s.empty());  // nothing half-loaded
}

TEST(Secret, MoveLeavesNothingBehind) {
    Secret a("short-key");
    Secret b(std::move(a));
    EXPECT_EQ(b.reveal(), "short-key");
    EXPECT_TRUE(a.empty());  // NOLINT(bugprone-use-after-move): that is the point
}

TEST(Redact, ReplacesEveryOccurrenceAndTruncatedCopies) {
    const std::string token = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0";
    EXPECT_EQ(redact("Authorization: Splunk " + token + " and " + token, token),
              "Authorization: Splunk [REDACTED] and [REDACTED]");
    // A URL cut at a length limit still carries most of the token.
    const std::string cut = "https://h/?t=" + token.substr(0, 20);
    EXPECT_EQ(redact(cut, token).find(token.substr(0, 8)), std::string::npos);
    EXPECT_EQ(redact("nothing here", token), "nothing here");
    EXPECT_EQ(redact("unchanged", ""), "unchanged");
}

TEST(HmacSha256, Rfc4231TestCases) {
    // RFC 4231 test case 2.
    EXPECT_EQ(hmac_sha256_hex("Jefe", "what do ya want for nothing?"),
              "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    // Test case 1: key 0x0b * 20, data "Hi There".
    EXPECT_EQ(hmac_sha256_hex(std::string(20, '\x0b'), "Hi There"),
              "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
    // Test case 6: a key longer than the block size is hashed first.
    EXPECT_EQ(hmac_sha256_hex(std::string(131, '\xaa'),
                              "Test Using Larger Than Block-Size Key - Hash Key First"),
              "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

TEST(HmacSha256, WebhookSignatureSignsTimestampDotBody) {
    EXPECT_EQ(webhook_signature("Jefe", 1712345678, "{}"),
              "sha256=" + hmac_sha256_hex("Jefe", "1712345678.{}"));
    // FIPS 180-2 "abc".
    EXPECT_EQ(sha256_hex("abc"),
              "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

}  // namespace
}  // namespace sybilwatch::alerts
