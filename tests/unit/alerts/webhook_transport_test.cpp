// The webhook transport against a loopback HTTPS receiver: HMAC signatures checked by the
// receiver (Python's hmac) and recomputed here, replay-protecting timestamp, custom headers,
// one request per finding or a JSON array batch, retries and refusals, TLS verification.
#include "alerts/webhook_transport.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdlib.h>

#include <chrono>

#include "alerts/format.hpp"
#include "https_receiver.hpp"

namespace sybilwatch::alerts {
namespace {

using namespace std::chrono_literals;
using Json = nlohmann::json;

constexpr const char* kKeyEnv = "SW_TEST_WEBHOOK_KEY";
constexpr const char* kKey = "whsec-3b9d7e2a61f04c58a7d1e9b2c6f8a0d4";

std::string rendered(Format fmt) {
    std::string out;
    render(test::sample_finding(), fmt, out);
    return out;
}

// Independent of the transport's code: OpenSSL's one-shot HMAC over timestamp "." body.
std::string expected_signature(const std::string& ts, const std::string& body) {
    const std::string msg = ts + "." + body;
    unsigned char mac[32];
    unsigned int len = 0;
    HMAC(EVP_sha256(), kKey, static_cast<int>(std::strlen(kKey)),
         reinterpret_cast<const unsigned char*>(msg.data()), msg.size(), mac, &len);
    std::string hex = "sha256=";
    char b[3];
    for (unsigned i = 0; i < len; ++i) {
        std::snprintf(b, sizeof(b), "%02x", mac[i]);
        hex += b;
    }
    return hex;
}

class WebhookTransportTest : public test::HttpsReceiverTest {
  protected:
    void SetUp() override {
        ::setenv(kKeyEnv, kKey, 1);
        HttpsReceiverTest::SetUp();
    }
    void TearDown() override { ::unsetenv(kKeyEnv); }
    WebhookConfig config(const std::string& url) {
        WebhookConfig c;
        c.url = url;
        c.key = SecretSource::from_env(kKeyEnv);
        c.http.ca_file = dir_.file("ca.pem");
        c.http.timeout = 5s;
        return c;
    }
    std::unique_ptr<WebhookTransport> make(WebhookConfig c) {
        std::string error;
        std::vector<std::string> warnings;
        auto t = WebhookTransport::create(std::move(c), error, warnings);
        EXPECT_TRUE(t) << error;
        return t;
    }
    std::vector<std::string> receiver_args() { return {"--hmac-key-env", kKeyEnv}; }
};

TEST_F(WebhookTransportTest, OneSignedRequestPerFinding) {
    auto rx = start(receiver_args());
    ASSERT_TRUE(rx->ready());
    auto c = config(rx->url("/hooks/sybilwatch"));
    c.headers = {{"X-Team", "fraud-ops"}, {"X-Env", "prod eu-1"}};
    auto t = make(std::move(c));
    ASSERT_TRUE(t);
    const std::vector<std::string> payloads = {rendered(Format::Json), rendered(Format::Ocsf)};
    const std::vector<std::string_view> v(payloads.begin(), payloads.end());
    std::string error;
    const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
    ASSERT_EQ(t->send(v, error), 2u) << error;

    const auto reqs = rx->requests();
    ASSERT_EQ(reqs.size(), 2u);
    for (size_t i = 0; i < 2; ++i) {
        const auto& r = reqs[i];
        EXPECT_EQ(r.path, "/hooks/sybilwatch");
        EXPECT_EQ(r.body, payloads[i]);  // the finding document, byte for byte
        EXPECT_EQ(r.header("content-type"), "application/json");
        EXPECT_EQ(r.header("x-team"), "fraud-ops");
        EXPECT_EQ(r.header("x-env"), "prod eu-1");
        const std::string ts = r.header("x-sybilwatch-timestamp");
        ASSERT_FALSE(ts.empty());
        EXPECT_NEAR(static_cast<double>(std::stoll(ts)), static_cast<double>(now), 5.0);
        EXPECT_EQ(r.header("x-sybilwatch-signature"), expected_signature(ts, r.body));
        ASSERT_TRUE(r.signature_ok.has_value());
        EXPECT_TRUE(*r.signature_ok);  // Python's hmac agrees
        EXPECT_EQ(r.header("x-sybilwatch-delivery").size(), 32u);
    }
    EXPECT_NE(reqs[0].header("x-sybilwatch-delivery"), reqs[1].header("x-sybilwatch-delivery"));
    // A signature does not verify for another timestamp (what stops a replay with a fresh one).
    EXPECT_NE(
        reqs[0].header("x-sybilwatch-signature"),
        expected_signature(std::to_string(std::stoll(reqs[0].header("x-sybilwatch-timestamp")) + 1),
                           reqs[0].body));
}

TEST_F(WebhookTransportTest, BatchIsAJsonArrayAndCefBecomesAString) {
    auto rx = start(receiver_args());
    ASSERT_TRUE(rx->ready());
    auto c = config(rx->url("/batch"));
    c.batch = true;
    c.max_batch = 2;
    auto t = make(std::move(c));
    ASSERT_TRUE(t);
    EXPECT_EQ(t->max_batch(), 2u);
    const std::vector<std::string> payloads = {rendered(Format::Json), rendered(Format::Cef),
                                               rendered(Format::Ecs)};
    const std::vector<std::string_view> v(payloads.begin(), payloads.end());
    std::string error;
    ASSERT_EQ(t->send(v, error), 2u) << error;  // max_batch per request
    const auto reqs = rx->requests();
    ASSERT_EQ(reqs.size(), 1u);
    const Json body = Json::parse(reqs[0].body);
    ASSERT_TRUE(body.is_array());
    ASSERT_EQ(body.size(), 2u);
    EXPECT_EQ(body[0], Json::parse(payloads[0]));
    EXPECT_EQ(body[1], payloads[1]);
    EXPECT_TRUE(reqs[0].signature_ok.value_or(false));
}

TEST_F(WebhookTransportTest, RetryAfter503CarriesTheSameDeliveryId) {
    auto rx = start({"--hmac-key-env", kKeyEnv, "--fail-first", "1"});
    ASSERT_TRUE(rx->ready());
    auto t = make(config(rx->url("/hook")));
    ASSERT_TRUE(t);
    const std::string a = rendered(Format::Json);
    const std::vector<std::string_view> v = {a, "{\"second\":true}"};
    std::string error;
    EXPECT_EQ(t->send(v, error), 0u);
    EXPECT_NE(error.find("HTTP 503"), std::string::npos) << error;
    EXPECT_EQ(error.find(kKey), std::string::npos);
    ASSERT_EQ(t->send(v, error), 2u) << error;
    const auto reqs = rx->requests();
    ASSERT_EQ(reqs.size(), 3u);
    EXPECT_EQ(reqs[0].body, reqs[1].body);
    EXPECT_EQ(reqs[0].header("x-sybilwatch-delivery"), reqs[1].header("x-sybilwatch-delivery"));
    EXPECT_EQ(t->stats().retryable_failures, 1u);
    EXPECT_EQ(t->stats().findings_sent, 2u);
}

TEST_F(WebhookTransportTest, RefusalIsKeptAndReported) {
    auto rx = start(receiver_args());
    ASSERT_TRUE(rx->ready());
    auto t = make(config(rx->url("/reject")));
    ASSERT_TRUE(t);
    const std::vector<std::string_view> v = {"{}"};
    std::string error;
    EXPECT_EQ(t->send(v, error), 0u);
    EXPECT_NE(error.find("HTTP 400"), std::string::npos) << error;
    EXPECT_NE(error.find("unsupported finding"), std::string::npos) << error;
    EXPECT_EQ(t->stats().rejected, 1u);
}

TEST_F(WebhookTransportTest, WrongCaFailsVerification) {
    auto rx = start(receiver_args());
    ASSERT_TRUE(rx->ready());
    auto c = config(rx->url("/hook"));
    c.http.ca_file = dir_.file("other-ca.pem");
    auto t = make(std::move(c));
    ASSERT_TRUE(t);
    const std::vector<std::string_view> v = {"{}"};
    std::string error;
    EXPECT_EQ(t->send(v, error), 0u);
    EXPECT_NE(error.find("certificate"), std::string::npos) << error;
    EXPECT_EQ(error.find(kKey), std::string::npos);
    EXPECT_TRUE(rx->requests().empty());
}

TEST_F(WebhookTransportTest, HeaderAndKeyConfiguration) {
    std::string error;
    std::vector<std::string> warnings;
    auto c = config("https://127.0.0.1:9/hook");
    c.headers = {{"X-Sybilwatch-Signature", "forged"}};
    EXPECT_FALSE(WebhookTransport::create(std::move(c), error, warnings));
    EXPECT_NE(error.find("set by sybilwatch"), std::string::npos) << error;

    c = config("https://127.0.0.1:9/hook");
    c.headers = {{"X-Note", "a\r\nInjected: yes"}};
    EXPECT_FALSE(WebhookTransport::create(std::move(c), error, warnings));
    c = config("https://127.0.0.1:9/hook");
    c.headers = {{"Bad Name", "v"}};
    EXPECT_FALSE(WebhookTransport::create(std::move(c), error, warnings));

    c = config("https://127.0.0.1:9/hook");
    c.key = {};
    warnings.clear();
    EXPECT_TRUE(WebhookTransport::create(std::move(c), error, warnings));
    ASSERT_EQ(warnings.size(), 1u);
    EXPECT_NE(warnings[0].find("not signed"), std::string::npos);
}

TEST_F(WebhookTransportTest, UnsignedWhenNoKey) {
    auto rx = start(receiver_args());
    ASSERT_TRUE(rx->ready());
    auto c = config(rx->url("/hook"));
    c.key = {};
    auto t = make(std::move(c));
    ASSERT_TRUE(t);
    const std::vector<std::string_view> v = {"{}"};
    std::string error;
    ASSERT_EQ(t->send(v, error), 1u) << error;
    const auto reqs = rx->requests();
    ASSERT_EQ(reqs.size(), 1u);
    EXPECT_EQ(reqs[0].header("x-sybilwatch-signature"), "");
    EXPECT_FALSE(reqs[0].signature_ok.has_value());
}

TEST(UrlOrigin, DropsPathQueryAndUserinfo) {
    // Slack-style webhook URLs carry their secret in the path.
    EXPECT_EQ(url_origin("https://hooks.example.com/services/T0/B0/XXXXSECRET"),
              "https://hooks.example.com");
    EXPECT_EQ(url_origin("https://user:pw@[::1]:8443/h?token=x"), "https://[::1]:8443");
    EXPECT_EQ(url_origin("https://127.0.0.1:8088"), "https://127.0.0.1:8088");
    EXPECT_EQ(url_origin("no scheme"), "(invalid URL)");
}

}  // namespace
}  // namespace sybilwatch::alerts
