#include "alerts/webhook_transport.hpp"

#include <nlohmann/json.hpp>

#include "alerts/hmac_signature.hpp"

namespace sybilwatch::alerts {

namespace {

using Json = nlohmann::json;

bool is_token_char(char c) {
    // RFC 9110 section 5.6.2 tchar.
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
    return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    return out;
}

std::string check_header(const std::string& name, const std::string& value) {
    if (name.empty()) return "empty header name";
    for (const char c : name) {
        if (!is_token_char(c)) return "header name \"" + name + "\" is not an HTTP token";
    }
    static constexpr std::string_view kOurs[] = {"content-type",
                                                 "content-length",
                                                 "host",
                                                 "transfer-encoding",
                                                 "connection",
                                                 "expect",
                                                 "x-sybilwatch-signature",
                                                 "x-sybilwatch-timestamp",
                                                 "x-sybilwatch-delivery"};
    const std::string l = lower(name);
    for (const auto o : kOurs) {
        if (l == o) return "header " + name + " is set by sybilwatch and cannot be configured";
    }
    for (const char c : value) {
        const auto u = static_cast<unsigned char>(c);
        // Visible ASCII, space, tab and UTF-8 bytes; no CR/LF (header injection) or controls.
        if ((u < 0x20 && u != '\t') || u == 0x7F)
            return "header " + name + " has a control character in its value";
    }
    return {};
}

}  // namespace

struct WebhookTransport::Impl {
    WebhookConfig cfg;
    Secret key;
    std::vector<std::string> fixed_headers;  // Content-Type, User-Agent and the custom ones
    std::vector<std::string> headers;        // per request: fixed + signature headers
    std::unique_ptr<HttpClient> http;
    std::string body;
    std::string origin;  // for error text: the path may hold a secret

    std::atomic<uint64_t> requests{0}, findings_sent{0}, retryable_failures{0}, rejected{0};

    std::string clean(std::string text) const { return redact(text, key.reveal()); }
    void append_document(std::string_view payload, std::string& out) const {
        if (Json::accept(payload)) {
            out += payload;
        } else {
            out += Json(std::string(payload)).dump(-1, ' ', false, Json::error_handler_t::replace);
        }
    }
    // Posts `body`; true when accepted.
    bool post(size_t findings, std::string& error);
};

bool WebhookTransport::Impl::post(size_t findings, std::string& error) {
    const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
    headers = fixed_headers;
    headers.push_back("X-Sybilwatch-Delivery: " + sha256_hex(body).substr(0, 32));
    if (!key.empty()) {
        headers.push_back("X-Sybilwatch-Timestamp: " + std::to_string(now));
        headers.push_back("X-Sybilwatch-Signature: " + webhook_signature(key.reveal(), now, body));
    }
    requests.fetch_add(1, std::memory_order_relaxed);
    HttpResponse r = http->post(cfg.url, headers, body);
    if (r.status >= 200 && r.status < 300) {
        findings_sent.fetch_add(findings, std::memory_order_relaxed);
        return true;
    }
    if (r.status == 0) {
        retryable_failures.fetch_add(1, std::memory_order_relaxed);
        error = clean("webhook " + origin + ": " + r.error + "; will retry");
        return false;
    }
    std::string answer = r.body.substr(0, 200);
    for (char& c : answer) {
        if (static_cast<unsigned char>(c) < 0x20) c = ' ';
    }
    std::string what = "webhook " + origin + ": HTTP " + std::to_string(r.status);
    if (!answer.empty()) what += " (" + answer + ")";
    if (http_status_retryable(r.status)) {
        retryable_failures.fetch_add(1, std::memory_order_relaxed);
        error = clean(what + "; will retry");
    } else {
        rejected.fetch_add(1, std::memory_order_relaxed);
        error = clean(what + "; findings are kept and retried");
    }
    return false;
}

std::unique_ptr<WebhookTransport> WebhookTransport::create(WebhookConfig config, std::string& error,
                                                           std::vector<std::string>& warnings) {
    auto impl = std::make_unique<Impl>();
    if (config.url.empty()) {
        error = "webhook: no url configured";
        return nullptr;
    }
    if (!config.key.file.empty() || !config.key.env.empty()) {
        if (!load_secret(config.key, impl->key, error, warnings)) {
            error = "webhook key: " + error;
            return nullptr;
        }
    } else {
        warnings.push_back("webhook " + url_origin(config.url) +
                           ": no signing key configured, requests are not signed");
    }
    impl->http = std::make_unique<HttpClient>(config.http);
    if (std::string why = impl->http->check_url(config.url); !why.empty()) {
        error = impl->clean("webhook url: " + why);
        return nullptr;
    }
    impl->origin = url_origin(config.url);
    impl->fixed_headers.push_back("Content-Type: application/json");
    impl->fixed_headers.push_back("User-Agent: sybilwatchd");
    for (const auto& [name, value] : config.headers) {
        if (std::string why = check_header(name, value); !why.empty()) {
            error = "webhook: " + why;
            return nullptr;
        }
        impl->fixed_headers.push_back(name + ": " + value);
    }
    if (config.max_batch == 0) config.max_batch = 1;
    impl->cfg = std::move(config);
    return std::unique_ptr<WebhookTransport>(new WebhookTransport(std::move(impl)));
}

WebhookTransport::WebhookTransport(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
WebhookTransport::~WebhookTransport() = default;

size_t WebhookTransport::max_batch() const {
    return impl_->cfg.batch ? impl_->cfg.max_batch : 64;
}

size_t WebhookTransport::send(std::span<const std::string_view> payloads, std::string& error) {
    Impl& m = *impl_;
    if (payloads.empty()) return 0;
    if (m.cfg.batch) {
        const size_t n = std::min(payloads.size(), m.cfg.max_batch);
        m.body.assign(1, '[');
        for (size_t i = 0; i < n; ++i) {
            if (i > 0) m.body += ',';
            m.append_document(payloads[i], m.body);
        }
        m.body += ']';
        return m.post(n, error) ? n : 0;
    }
    for (size_t i = 0; i < payloads.size(); ++i) {
        m.body.clear();
        m.append_document(payloads[i], m.body);
        if (!m.post(1, error)) return i;
    }
    return payloads.size();
}

WebhookStats WebhookTransport::stats() const {
    const Impl& m = *impl_;
    WebhookStats s;
    s.requests = m.requests.load(std::memory_order_relaxed);
    s.findings_sent = m.findings_sent.load(std::memory_order_relaxed);
    s.retryable_failures = m.retryable_failures.load(std::memory_order_relaxed);
    s.rejected = m.rejected.load(std::memory_order_relaxed);
    return s;
}

}  // namespace sybilwatch::alerts
