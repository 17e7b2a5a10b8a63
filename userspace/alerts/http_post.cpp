#include "alerts/http_post.hpp"

#include <curl/curl.h>

#include <mutex>

#include "alerts/sigpipe_guard.hpp"

namespace sybilwatch::alerts {

namespace {

struct EasyFree {
    void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct SlistFree {
    void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

void global_init() {
    // curl_global_init is not thread-safe on every build; once per process is what it wants.
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct Sink {
    std::string* body;
    size_t cap;
};

size_t on_body(char* data, size_t size, size_t n, void* user) {
    auto* s = static_cast<Sink*>(user);
    const size_t len = size * n;
    if (s->body->size() < s->cap) s->body->append(data, std::min(len, s->cap - s->body->size()));
    return len;  // keep reading past the cap so the connection stays reusable
}

}  // namespace

struct HttpClient::Handle {
    std::unique_ptr<CURL, EasyFree> easy;
    char errbuf[CURL_ERROR_SIZE] = {};
};

std::string url_origin(std::string_view url) {
    const size_t scheme_end = url.find("://");
    if (scheme_end == std::string_view::npos) return "(invalid URL)";
    const size_t host_start = scheme_end + 3;
    size_t end = url.find_first_of("/?#", host_start);
    if (end == std::string_view::npos) end = url.size();
    std::string_view authority = url.substr(host_start, end - host_start);
    if (const size_t at = authority.rfind('@'); at != std::string_view::npos)
        authority.remove_prefix(at + 1);
    return std::string(url.substr(0, host_start)) + std::string(authority);
}

HttpClient::HttpClient(HttpOptions options)
    : options_(std::move(options)), handle_(std::make_unique<Handle>()) {
    global_init();
    handle_->easy.reset(curl_easy_init());
}

HttpClient::~HttpClient() = default;

std::string HttpClient::check_url(std::string_view url) const {
    if (url.starts_with("https://")) return {};
    if (url.starts_with("http://")) {
        if (options_.allow_plain_http) return {};
        return "plain http:// sends findings and credentials in clear text; use https:// (or "
               "allow it explicitly)";
    }
    return "the URL must start with https://";
}

HttpResponse HttpClient::post(const std::string& url, const std::vector<std::string>& headers,
                              std::string_view body) {
    HttpResponse resp;
    CURL* c = handle_->easy.get();
    if (c == nullptr) {
        resp.error = "libcurl could not be initialised";
        return resp;
    }
    if (std::string why = check_url(url); !why.empty()) {
        resp.error = std::move(why);
        return resp;
    }
    curl_easy_reset(c);  // keeps the connection cache, clears the previous request's options
    std::unique_ptr<curl_slist, SlistFree> list;
    auto append = [&list](const char* line) {
        curl_slist* head = curl_slist_append(list.get(), line);
        if (head == nullptr) return false;  // the old list is untouched and still owned
        (void)list.release();
        list.reset(head);
        return true;
    };
    for (const auto& h : headers) {
        if (!append(h.c_str())) {
            resp.error = "out of memory building request headers";
            return resp;
        }
    }
    // curl adds "Expect: 100-continue" to large POSTs, costing a round trip; receivers here
    // read the whole body anyway.
    append("Expect:");

    Sink sink{&resp.body, options_.max_response_bytes};
    handle_->errbuf[0] = '\0';
    curl_easy_setopt(c, CURLOPT_URL, url.c_str());
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, options_.allow_plain_http ? "https,http" : "https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);  // a redirect must not carry the token on
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);        // no SIGALRM in a threaded daemon
    curl_easy_setopt(c, CURLOPT_PROXY, options_.proxy.c_str());
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, list.get());
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, handle_->errbuf);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
                     static_cast<long>(options_.connect_timeout.count()));
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.timeout.count()));
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, options_.verify ? 1L : 0L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, options_.verify ? 2L : 0L);
    curl_easy_setopt(c, CURLOPT_SSLVERSION, CURL_SSLVERSION_TLSv1_2);
    if (!options_.ca_file.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, options_.ca_file.c_str());
    if (!options_.ca_dir.empty()) curl_easy_setopt(c, CURLOPT_CAPATH, options_.ca_dir.c_str());
    if (!options_.client_cert.empty()) {
        curl_easy_setopt(c, CURLOPT_SSLCERT, options_.client_cert.c_str());
        curl_easy_setopt(c, CURLOPT_SSLKEY, options_.client_key.c_str());
    }

    CURLcode rc;
    {
        SigpipeGuard guard;  // CURLOPT_NOSIGNAL also stops curl from ignoring SIGPIPE itself
        rc = curl_easy_perform(c);
    }
    // The header list dies with this call; don't leave the handle pointing at it.
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, nullptr);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, nullptr);
    if (rc != CURLE_OK) {
        resp.body.clear();
        resp.error = curl_easy_strerror(rc);
        if (handle_->errbuf[0] != '\0') {
            resp.error += ": ";
            resp.error += handle_->errbuf;
        }
        return resp;
    }
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp.status);
    if (resp.status == 0) resp.error = "no HTTP status in the response";
    return resp;
}

}  // namespace sybilwatch::alerts
