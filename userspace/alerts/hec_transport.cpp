#include "alerts/hec_transport.hpp"

#include <openssl/rand.h>
#include <unistd.h>

#include <cstdio>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

namespace sybilwatch::alerts {

namespace {

using Clock = std::chrono::steady_clock;
using Json = nlohmann::json;

std::string json_string(std::string_view s) {
    // Invalid UTF-8 is replaced rather than thrown on: a finding is never refused for it.
    return Json(std::string(s)).dump(-1, ' ', false, Json::error_handler_t::replace);
}

bool header_safe(std::string_view v) {
    for (const char c : v) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x21 || u > 0x7E) return false;
    }
    return !v.empty();
}

std::string strip_collector_path(std::string url) {
    while (!url.empty() && url.back() == '/')
        url.pop_back();
    for (std::string_view suffix : {"/services/collector/event", "/services/collector"}) {
        if (url.ends_with(suffix)) {
            url.resize(url.size() - suffix.size());
            break;
        }
    }
    return url;
}

// "HEC code 4: Invalid token" from a HEC error body, or its first bytes when it is not JSON.
std::string describe_answer(const Json& j, const std::string& raw) {
    if (j.is_object()) {
        std::string out;
        if (auto c = j.find("code"); c != j.end() && c->is_number_integer())
            out = "code " + std::to_string(c->get<int64_t>());
        if (auto t = j.find("text"); t != j.end() && t->is_string())
            out += (out.empty() ? "" : ": ") + t->get<std::string>();
        if (!out.empty()) return out;
    }
    std::string cut = raw.substr(0, 200);
    for (char& c : cut) {
        if (static_cast<unsigned char>(c) < 0x20) c = ' ';
    }
    return cut;
}

}  // namespace

std::string random_uuid() {
    unsigned char b[16];
    if (RAND_bytes(b, sizeof(b)) != 1) {
        // Only a channel name, not a key: the OS generator is good enough if OpenSSL's fails.
        std::random_device rd;
        for (auto& x : b)
            x = static_cast<unsigned char>(rd());
    }
    b[6] = static_cast<unsigned char>((b[6] & 0x0F) | 0x40);  // version 4
    b[8] = static_cast<unsigned char>((b[8] & 0x3F) | 0x80);  // RFC 4122 variant
    char out[37];
    std::snprintf(out, sizeof(out),
                  "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
                  b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
                  b[14], b[15]);
    return out;
}

struct HecTransport::Impl {
    HecConfig cfg;
    Secret token;
    std::string event_url, ack_url;
    std::string origin;         // for error text: scheme://host:port only
    std::string envelope_tail;  // ,"host":...,"event":  (everything between time and payload)
    std::vector<std::string> headers;
    std::unique_ptr<HttpClient> http;
    std::string body, scratch;

    std::atomic<uint64_t> requests{0}, events_sent{0}, retryable_failures{0}, rejected{0},
        ack_timeouts{0}, ack_missing{0};

    std::string clean(std::string text) const { return redact(text, token.reveal()); }
    void append_event(std::string_view payload, double time, std::string& out) const;
    bool wait_for_ack(uint64_t ack_id, std::string& error);
};

void HecTransport::Impl::append_event(std::string_view payload, double time,
                                      std::string& out) const {
    char t[40];
    const int n = std::snprintf(t, sizeof(t), "{\"time\":%.3f", time);
    out.append(t, static_cast<size_t>(n));
    out += envelope_tail;
    if (Json::accept(payload)) {
        out += payload;
    } else {
        out += json_string(payload);
    }
    out += '}';
}

bool HecTransport::Impl::wait_for_ack(uint64_t ack_id, std::string& error) {
    const auto deadline = Clock::now() + cfg.ack_timeout;
    const std::string request = "{\"acks\":[" + std::to_string(ack_id) + "]}";
    std::string last = "no answer yet";
    for (;;) {
        // Indexing takes a moment: asking at once would only cost a request.
        const auto left = deadline - Clock::now();
        if (left <= Clock::duration::zero()) break;
        std::this_thread::sleep_for(std::min<Clock::duration>(cfg.ack_poll_interval, left));
        HttpResponse r = http->post(ack_url, headers, request);
        if (r.status == 200) {
            const Json j = Json::parse(r.body, nullptr, false);
            const std::string key = std::to_string(ack_id);
            if (j.is_object() && j.contains("acks") && j["acks"].is_object()) {
                const Json& acks = j["acks"];
                if (auto it = acks.find(key);
                    it != acks.end() && it->is_boolean() && it->get<bool>())
                    return true;
                last = "not yet acknowledged";
            } else {
                last = "unexpected ack answer: " + describe_answer(j, r.body);
            }
        } else if (r.status == 0) {
            last = r.error;
        } else {
            last = "HTTP " + std::to_string(r.status) + " (" +
                   describe_answer(Json::parse(r.body, nullptr, false), r.body) + ")";
        }
    }
    ack_timeouts.fetch_add(1, std::memory_order_relaxed);
    error = clean("HEC " + origin + ": ackId " + std::to_string(ack_id) +
                  " not acknowledged within " + std::to_string(cfg.ack_timeout.count()) + " ms (" +
                  last + "); the batch will be sent again");
    return false;
}

std::unique_ptr<HecTransport> HecTransport::create(HecConfig config, std::string& error,
                                                   std::vector<std::string>& warnings) {
    auto impl = std::make_unique<Impl>();
    if (config.url.empty()) {
        error = "HEC: no url configured";
        return nullptr;
    }
    if (!load_secret(config.token, impl->token, error, warnings)) {
        error = "HEC token: " + error;
        return nullptr;
    }
    if (!header_safe(impl->token.reveal())) {
        // A token with spaces or control characters would break (or inject) HTTP headers.
        error = "HEC token: it may only hold printable ASCII without spaces";
        return nullptr;
    }
    impl->http = std::make_unique<HttpClient>(config.http);
    const std::string base = strip_collector_path(config.url);
    if (std::string why = impl->http->check_url(base); !why.empty()) {
        error = impl->clean("HEC url: " + why);
        return nullptr;
    }
    if (config.ack && config.channel.empty()) config.channel = random_uuid();
    if (!config.channel.empty() && !header_safe(config.channel)) {
        error = "HEC channel: it may only hold printable ASCII without spaces";
        return nullptr;
    }
    if (config.host.empty()) {
        char buf[256] = {};
        ::gethostname(buf, sizeof(buf) - 1);
        config.host = buf;
    }
    if (config.max_batch == 0) config.max_batch = 1;
    impl->origin = url_origin(base);
    impl->event_url = base + "/services/collector/event";
    impl->ack_url = base + "/services/collector/ack";
    if (!config.channel.empty()) impl->ack_url += "?channel=" + config.channel;

    std::string& tail = impl->envelope_tail;
    tail = ",\"host\":" + json_string(config.host) + ",\"source\":" + json_string(config.source) +
           ",\"sourcetype\":" + json_string(config.sourcetype);
    if (!config.index.empty()) tail += ",\"index\":" + json_string(config.index);
    tail += ",\"event\":";

    impl->headers.push_back("Authorization: Splunk " + std::string(impl->token.reveal()));
    impl->headers.push_back("Content-Type: application/json");
    impl->headers.push_back("User-Agent: sybilwatchd");
    if (!config.channel.empty())
        impl->headers.push_back("X-Splunk-Request-Channel: " + config.channel);
    impl->cfg = std::move(config);
    return std::unique_ptr<HecTransport>(new HecTransport(std::move(impl)));
}

HecTransport::HecTransport(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HecTransport::~HecTransport() {
    // The Authorization header holds the token in plain text.
    if (impl_ && !impl_->headers.empty()) {
        std::string& auth = impl_->headers.front();
        std::fill(auth.begin(), auth.end(), '\0');
    }
}

size_t HecTransport::max_batch() const {
    return impl_->cfg.max_batch;
}
const std::string& HecTransport::channel() const {
    return impl_->cfg.channel;
}

size_t HecTransport::send(std::span<const std::string_view> payloads, std::string& error) {
    Impl& m = *impl_;
    if (payloads.empty()) return 0;
    const double now =
        std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
    m.body.clear();
    size_t n = 0;
    for (; n < payloads.size() && n < m.cfg.max_batch; ++n) {
        m.scratch.clear();
        m.append_event(payloads[n], now, m.scratch);
        if (n > 0 && m.body.size() + m.scratch.size() > m.cfg.max_batch_bytes) break;
        m.body += m.scratch;
    }
    m.requests.fetch_add(1, std::memory_order_relaxed);
    HttpResponse r = m.http->post(m.event_url, m.headers, m.body);
    if (r.status == 0) {
        m.retryable_failures.fetch_add(1, std::memory_order_relaxed);
        error = m.clean("HEC " + m.origin + ": " + r.error + "; will retry");
        return 0;
    }
    const Json answer = Json::parse(r.body, nullptr, false);
    if (r.status >= 200 && r.status < 300) {
        if (m.cfg.ack) {
            const bool has_id = answer.is_object() && answer.contains("ackId") &&
                                answer["ackId"].is_number_unsigned();
            if (!has_id) {
                // HEC took the events but cannot confirm indexing: resending would only
                // duplicate them. Accepted; counted so the misconfiguration shows.
                m.ack_missing.fetch_add(1, std::memory_order_relaxed);
            } else if (!m.wait_for_ack(answer["ackId"].get<uint64_t>(), error)) {
                return 0;
            }
        }
        m.events_sent.fetch_add(n, std::memory_order_relaxed);
        return n;
    }
    const std::string what = "HEC " + m.origin + ": HTTP " + std::to_string(r.status) + " (" +
                             describe_answer(answer, r.body) + ")";
    if (http_status_retryable(r.status)) {
        m.retryable_failures.fetch_add(1, std::memory_order_relaxed);
        error = m.clean(what + "; will retry");
        return 0;
    }
    m.rejected.fetch_add(1, std::memory_order_relaxed);
    if (r.status == 400 && answer.is_object() && answer.contains("invalid-event-number") &&
        answer["invalid-event-number"].is_number_unsigned()) {
        const uint64_t bad = answer["invalid-event-number"].get<uint64_t>();
        if (bad < n) {
            error = m.clean(what + "; event " + std::to_string(bad) +
                            " of the batch was refused, the ones before it were indexed");
            m.events_sent.fetch_add(bad, std::memory_order_relaxed);
            return static_cast<size_t>(bad);
        }
    }
    const bool auth = r.status == 401 || r.status == 403;
    error = m.clean(what + (auth ? "; check the HEC token: findings are kept until it works"
                                 : "; findings are kept and retried"));
    return 0;
}

HecStats HecTransport::stats() const {
    const Impl& m = *impl_;
    HecStats s;
    s.requests = m.requests.load(std::memory_order_relaxed);
    s.events_sent = m.events_sent.load(std::memory_order_relaxed);
    s.retryable_failures = m.retryable_failures.load(std::memory_order_relaxed);
    s.rejected = m.rejected.load(std::memory_order_relaxed);
    s.ack_timeouts = m.ack_timeouts.load(std::memory_order_relaxed);
    s.ack_missing = m.ack_missing.load(std::memory_order_relaxed);
    return s;
}

}  // namespace sybilwatch::alerts
