// Runs tests/unit/alerts/https_receiver.py (a loopback HTTPS server that records requests and
// plays Splunk HEC) as a child process for the HEC and webhook tests.
#pragma once

#include <nlohmann/json.hpp>

#include "siem_test_util.hpp"

namespace sybilwatch::alerts::test {

struct RecordedRequest {
    std::string path, query, body;
    nlohmann::json headers;  // lower-case names
    std::optional<bool> signature_ok;
    std::string header(const std::string& name) const {
        auto it = headers.find(name);
        return it != headers.end() && it->is_string() ? it->get<std::string>() : std::string();
    }
};

class HttpsReceiver {
  public:
    // `dir` must hold server.pem/server.key (make_test_pki).
    HttpsReceiver(const std::string& python, const TempDir& dir, std::vector<std::string> extra)
        : dir_(dir) {
        std::vector<std::string> argv = {
            python,        std::string(SW_SOURCE_DIR) + "/tests/unit/alerts/https_receiver.py",
            "--cert",      dir.file("server.pem"),
            "--key",       dir.file("server.key"),
            "--port-file", dir.file("receiver.port"),
            "--log",       dir.file("requests.jsonl")};
        argv.insert(argv.end(), extra.begin(), extra.end());
        std::remove(dir.file("receiver.port").c_str());
        std::remove(dir.file("requests.jsonl").c_str());
        proc_ = std::make_unique<ChildProcess>(argv, dir.file("receiver.out"));
        if (wait_until([&] { return !read_file(dir.file("receiver.port")).empty(); })) {
            port_ = static_cast<uint16_t>(std::stoi(read_file(dir.file("receiver.port"))));
        }
    }

    bool ready() const { return port_ != 0; }
    std::string url(const std::string& path = "") const {
        return "https://127.0.0.1:" + std::to_string(port_) + path;
    }
    std::string diagnostics() const { return read_file(dir_.file("receiver.out")); }

    std::vector<RecordedRequest> requests() const {
        std::vector<RecordedRequest> out;
        for (const auto& line : read_lines(dir_.file("requests.jsonl"))) {
            const auto j = nlohmann::json::parse(line, nullptr, false);
            if (!j.is_object()) continue;
            RecordedRequest r;
            r.path = j.value("path", "");
            r.query = j.value("query", "");
            r.body = j.value("body", "");
            r.headers = j.value("headers", nlohmann::json::object());
            if (j.contains("signature_ok")) r.signature_ok = j["signature_ok"].get<bool>();
            out.push_back(std::move(r));
        }
        return out;
    }

  private:
    const TempDir& dir_;
    std::unique_ptr<ChildProcess> proc_;
    uint16_t port_ = 0;
};

// Common set-up: certificates and a python3 to run the receiver (skip, or fail under CI=true).
class HttpsReceiverTest : public ::testing::Test {
  protected:
    void SetUp() override {
        python_ = find_on_path("python3");
        if (python_.empty()) SW_SKIP_OR_FAIL("python3 is needed for the HTTPS test receiver");
        const std::string openssl = find_on_path("openssl");
        if (openssl.empty())
            SW_SKIP_OR_FAIL("the openssl tool is needed to make test certificates");
        ASSERT_TRUE(make_test_pki(openssl, dir_.path())) << "openssl failed";
    }
    std::unique_ptr<HttpsReceiver> start(std::vector<std::string> extra = {}) {
        auto r = std::make_unique<HttpsReceiver>(python_, dir_, std::move(extra));
        EXPECT_TRUE(r->ready()) << r->diagnostics();
        return r;
    }

    TempDir dir_;
    std::string python_;
};

}  // namespace sybilwatch::alerts::test
