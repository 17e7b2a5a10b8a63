// HTTPS POST over a libcurl easy handle (OpenSSL backend) for the HEC and webhook transports.
// One client per transport, used from the delivery thread only; the handle is kept so its
// connection (and TLS session) is reused between requests. Certificate and host name
// verification are on unless the configuration turns them off. Nothing here logs: errors are
// returned as text, which carries no header values (the caller redacts the URL's secrets).
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace sybilwatch::alerts {

struct HttpOptions {
    std::string ca_file;  // PEM bundle; with ca_dir empty too, the system's default store
    std::string ca_dir;
    bool verify = true;                   // peer certificate and host name
    std::string client_cert, client_key;  // mutual TLS, PEM
    // Proxy URL; empty: none (an environment's http(s)_proxy is deliberately not picked up,
    // so where findings go is decided by the configuration alone).
    std::string proxy;
    bool allow_plain_http = false;  // http:// URLs (e.g. a HEC with SSL off on a trusted net)
    std::chrono::milliseconds connect_timeout{5000};
    std::chrono::milliseconds timeout{15000};  // whole request, connect included
    size_t max_response_bytes = 64 * 1024;     // the rest is read and discarded
};

struct HttpResponse {
    long status = 0;    // 0: no HTTP response (network, TLS or timeout: see error)
    std::string body;   // at most max_response_bytes
    std::string error;  // set when status == 0
};

// Statuses worth retrying: the receiver is overloaded or briefly failing, not refusing.
constexpr bool http_status_retryable(long status) {
    return status == 408 || status == 429 || status >= 500;
}

// "https://host:port" of a URL: enough to say where a request went without the path or query,
// which may carry a secret (webhook URLs often do). Userinfo ("user:pass@") is dropped too.
std::string url_origin(std::string_view url);

class HttpClient {
  public:
    explicit HttpClient(HttpOptions options);
    ~HttpClient();
    HttpClient(const HttpClient&) = delete;
    HttpClient& operator=(const HttpClient&) = delete;

    // Empty when `url` can be used with these options (scheme https, or http when allowed).
    std::string check_url(std::string_view url) const;

    // `headers` are complete "Name: value" lines.
    HttpResponse post(const std::string& url, const std::vector<std::string>& headers,
                      std::string_view body);

  private:
    struct Handle;
    HttpOptions options_;
    std::unique_ptr<Handle> handle_;
};

}  // namespace sybilwatch::alerts
