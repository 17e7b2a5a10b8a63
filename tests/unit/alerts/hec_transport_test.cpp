// The Splunk HEC transport against a loopback HTTPS receiver playing HEC: token header, batch
// shape, retry after 503, indexer acknowledgement, refusals kept, TLS verification, and the
// token never showing up in error text.
#include "alerts/hec_transport.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <sstream>

#include "alerts/format.hpp"
#include "https_receiver.hpp"

namespace sybilwatch::alerts {
namespace {

using namespace std::chrono_literals;
using Json = nlohmann::json;

constexpr const char* kToken = "8c3f6a1e-52b4-4d7e-9f10-2b6c0e4d9a77";

std::string rendered(Format fmt) {
    std::string out;
    render(test::sample_finding(), fmt, out);
    return out;
}

// The concatenated event objects of one HEC request body.
std::vector<Json> events_of(const std::string& body) {
    std::vector<Json> out;
    std::istringstream in(body);
    // operator>> reads one JSON value and leaves the stream just after it.
    while ((in >> std::ws).peek() != std::char_traits<char>::eof()) {
        Json j;
        try {
            in >> j;
        } catch (const Json::exception&) {
            out.push_back(Json());  // the test sees a non-object and fails there
            break;
        }
        out.push_back(std::move(j));
    }
    return out;
}

class HecTransportTest : public test::HttpsReceiverTest {
  protected:
    HecConfig config(const std::string& url) {
        test::write_file(dir_.file("hec.token"), std::string(kToken) + "\n", 0600);
        HecConfig c;
        c.url = url;
        c.token = SecretSource::from_file(dir_.file("hec.token"));
        c.host = "edge-1.example";
        c.http.ca_file = dir_.file("ca.pem");
        c.http.timeout = 5s;
        c.ack_poll_interval = 20ms;
        c.ack_timeout = 3s;
        return c;
    }
    std::unique_ptr<HecTransport> make(HecConfig c) {
        std::string error;
        std::vector<std::string> warnings;
        auto t = HecTransport::create(std::move(c), error, warnings);
        EXPECT_TRUE(t) << error;
        EXPECT_TRUE(warnings.empty());
        return t;
    }
};

TEST_F(HecTransportTest, BatchShapeAndAuthorization) {
    auto rx = start({"--token", kToken});
    ASSERT_TRUE(rx->ready());
    auto t = make(config(rx->url()));
    ASSERT_TRUE(t);
    const std::vector<std::string> payloads = {rendered(Format::Json), rendered(Format::Cef),
                                               rendered(Format::Ocsf)};
    const std::vector<std::string_view> v(payloads.begin(), payloads.end());
    std::string error;
    const auto before = std::chrono::system_clock::now();
    ASSERT_EQ(t->send(v, error), 3u) << error;

    const auto reqs = rx->requests();
    ASSERT_EQ(reqs.size(), 1u);  // one batch, one request
    const auto& r = reqs[0];
    EXPECT_EQ(r.path, "/services/collector/event");
    EXPECT_EQ(r.header("authorization"), std::string("Splunk ") + kToken);
    EXPECT_EQ(r.header("content-type"), "application/json");
    EXPECT_EQ(r.header("x-splunk-request-channel"), "");  // only with ack or a set channel
    const auto events = events_of(r.body);
    ASSERT_EQ(events.size(), 3u) << r.body;
    const double now = std::chrono::duration<double>(before.time_since_epoch()).count();
    for (size_t i = 0; i < 3; ++i) {
        const Json& e = events[i];
        ASSERT_TRUE(e.is_object()) << r.body;
        EXPECT_NEAR(e["time"].get<double>(), now, 5.0);
        EXPECT_EQ(e["host"], "edge-1.example");
        EXPECT_EQ(e["source"], "sybilwatchd");
        EXPECT_EQ(e["sourcetype"], "sybilwatch:finding");
        EXPECT_FALSE(e.contains("index"));
    }
    // JSON findings are embedded as objects, CEF as a string.
    EXPECT_EQ(events[0]["event"], Json::parse(payloads[0]));
    EXPECT_EQ(events[0]["event"]["finding_id"], test::sample_finding().finding_id);
    EXPECT_EQ(events[1]["event"], payloads[1]);
    EXPECT_EQ(events[2]["event"], Json::parse(payloads[2]));
    EXPECT_EQ(t->stats().events_sent, 3u);
}

TEST_F(HecTransportTest, RetriesAfter503) {
    auto rx = start({"--token", kToken, "--fail-first", "1"});
    ASSERT_TRUE(rx->ready());
    auto c = config(rx->url() + "/services/collector/event");  // a full endpoint URL works too
    c.index = "fraud";
    auto t = make(std::move(c));
    ASSERT_TRUE(t);
    const std::string p = rendered(Format::Json);
    const std::vector<std::string_view> v = {p, p};
    std::string error;
    EXPECT_EQ(t->send(v, error), 0u);
    EXPECT_NE(error.find("HTTP 503"), std::string::npos) << error;
    EXPECT_NE(error.find("will retry"), std::string::npos) << error;
    EXPECT_EQ(error.find(kToken), std::string::npos);
    ASSERT_EQ(t->send(v, error), 2u) << error;
    const auto reqs = rx->requests();
    ASSERT_EQ(reqs.size(), 2u);
    EXPECT_EQ(reqs[1].path, "/services/collector/event");
    const auto events = events_of(reqs[1].body);
    ASSERT_EQ(events.size(), 2u);
    EXPECT_EQ(events[0]["index"], "fraud");
    EXPECT_EQ(t->stats().retryable_failures, 1u);
}

TEST_F(HecTransportTest, IndexerAcknowledgement) {
    auto rx = start({"--token", kToken, "--ack-pending", "2"});
    ASSERT_TRUE(rx->ready());
    auto c = config(rx->url());
    c.ack = true;
    auto t = make(std::move(c));
    ASSERT_TRUE(t);
    EXPECT_EQ(t->channel().size(), 36u);  // a generated GUID
    const std::string p = rendered(Format::Ecs);
    const std::vector<std::string_view> v = {p};
    std::string error;
    ASSERT_EQ(t->send(v, error), 1u) << error;

    const auto reqs = rx->requests();
    ASSERT_EQ(reqs.size(), 4u);  // the event, two "pending" polls, the acked poll
    EXPECT_EQ(reqs[0].path, "/services/collector/event");
    EXPECT_EQ(reqs[0].header("x-splunk-request-channel"), t->channel());
    for (size_t i = 1; i < reqs.size(); ++i) {
        EXPECT_EQ(reqs[i].path, "/services/collector/ack");
        EXPECT_EQ(reqs[i].query, "channel=" + t->channel());
        EXPECT_EQ(reqs[i].header("x-splunk-request-channel"), t->channel());
        EXPECT_EQ(reqs[i].header("authorization"), std::string("Splunk ") + kToken);
        EXPECT_EQ(Json::parse(reqs[i].body), Json::parse(R"({"acks":[0]})"));
    }
    // The next batch gets the next ackId.
    ASSERT_EQ(t->send(v, error), 1u) << error;
    EXPECT_EQ(Json::parse(rx->requests().back().body), Json::parse(R"({"acks":[1]})"));
}

TEST_F(HecTransportTest, AckTimeoutAcceptsNothing) {
    auto rx = start({"--token", kToken, "--ack-pending", "1000000"});
    ASSERT_TRUE(rx->ready());
    auto c = config(rx->url());
    c.ack = true;
    c.ack_timeout = 300ms;
    auto t = make(std::move(c));
    ASSERT_TRUE(t);
    const std::vector<std::string_view> v = {"{\"finding_id\":\"x\"}"};
    std::string error;
    EXPECT_EQ(t->send(v, error), 0u);
    EXPECT_NE(error.find("not acknowledged"), std::string::npos) << error;
    EXPECT_EQ(t->stats().ack_timeouts, 1u);
    EXPECT_EQ(t->stats().events_sent, 0u);
}

TEST_F(HecTransportTest, BadTokenKeepsFindingsAndNeverEchoesTheToken) {
    auto rx = start({"--token", "the-right-token"});
    ASSERT_TRUE(rx->ready());
    auto t = make(config(rx->url()));
    ASSERT_TRUE(t);
    const std::vector<std::string_view> v = {"{}", "{}"};
    std::string error;
    EXPECT_EQ(t->send(v, error), 0u);
    EXPECT_NE(error.find("HTTP 403"), std::string::npos) << error;
    EXPECT_NE(error.find("Invalid token"), std::string::npos) << error;
    EXPECT_NE(error.find("check the HEC token"), std::string::npos) << error;
    EXPECT_EQ(error.find(kToken), std::string::npos);
    EXPECT_EQ(t->stats().rejected, 1u);
}

TEST_F(HecTransportTest, InvalidEventAcceptsTheOnesBeforeIt) {
    auto rx = start({"--token", kToken});
    ASSERT_TRUE(rx->ready());
    auto t = make(config(rx->url()));
    ASSERT_TRUE(t);
    const std::vector<std::string_view> v = {"{\"n\":1}", "{\"n\":2}", "{\"poison\":true}",
                                             "{\"n\":4}"};
    std::string error;
    EXPECT_EQ(t->send(v, error), 2u);
    EXPECT_NE(error.find("event 2"), std::string::npos) << error;
}

TEST_F(HecTransportTest, BatchByteLimitSplitsBatches) {
    auto rx = start({"--token", kToken});
    ASSERT_TRUE(rx->ready());
    auto c = config(rx->url());
    c.max_batch_bytes = 300;
    auto t = make(std::move(c));
    ASSERT_TRUE(t);
    const std::string p = "{\"pad\":\"" + std::string(200, 'p') + "\"}";
    const std::vector<std::string_view> v = {p, p, p};
    std::string error;
    EXPECT_EQ(t->send(v, error), 1u);  // one always goes, however large
    EXPECT_EQ(events_of(rx->requests().at(0).body).size(), 1u);
}

TEST_F(HecTransportTest, WrongCaFailsVerificationWithoutLeakingTheToken) {
    auto rx = start({"--token", kToken});
    ASSERT_TRUE(rx->ready());
    auto c = config(rx->url());
    c.http.ca_file = dir_.file("other-ca.pem");
    auto t = make(std::move(c));
    ASSERT_TRUE(t);
    const std::vector<std::string_view> v = {"{}"};
    std::string error;
    EXPECT_EQ(t->send(v, error), 0u);
    EXPECT_NE(error.find("certificate"), std::string::npos) << error;
    EXPECT_EQ(error.find(kToken), std::string::npos);
    EXPECT_TRUE(rx->requests().empty());  // nothing reached the receiver
}

TEST_F(HecTransportTest, TokenInUrlIsRedactedFromErrors) {
    // An operator pasting the token into the URL must not see it in the daemon's log.
    const std::string origin = "https://127.0.0.1:" + std::to_string(test::free_port());
    auto c = config(origin + "/" + kToken);
    auto t = make(std::move(c));
    ASSERT_TRUE(t);
    const std::vector<std::string_view> v = {"{}"};
    std::string error;
    EXPECT_EQ(t->send(v, error), 0u);
    EXPECT_NE(error.find("HEC " + origin + ": "), std::string::npos) << error;  // says where
    EXPECT_EQ(error.find(kToken), std::string::npos) << error;
}

TEST_F(HecTransportTest, ConfigurationRefusals) {
    std::string error;
    std::vector<std::string> warnings;
    auto c = config("http://127.0.0.1:8088");
    EXPECT_FALSE(HecTransport::create(std::move(c), error, warnings));
    EXPECT_NE(error.find("https"), std::string::npos) << error;

    c = config("https://127.0.0.1:8088");
    c.token = SecretSource::from_env("SW_TEST_NO_SUCH_VARIABLE");
    EXPECT_FALSE(HecTransport::create(std::move(c), error, warnings));
    EXPECT_NE(error.find("SW_TEST_NO_SUCH_VARIABLE"), std::string::npos);

    test::write_file(dir_.file("bad.token"), "two words\n", 0600);
    c = config("https://127.0.0.1:8088");
    c.token = SecretSource::from_file(dir_.file("bad.token"));
    EXPECT_FALSE(HecTransport::create(std::move(c), error, warnings));
    EXPECT_EQ(error.find("two words"), std::string::npos);

    test::write_file(dir_.file("open.token"), kToken, 0644);
    c = config("https://127.0.0.1:8088");
    c.token = SecretSource::from_file(dir_.file("open.token"));
    warnings.clear();
    EXPECT_TRUE(HecTransport::create(std::move(c), error, warnings));
    ASSERT_EQ(warnings.size(), 1u);
    EXPECT_EQ(warnings[0].find(kToken), std::string::npos);
}

}  // namespace
}  // namespace sybilwatch::alerts
