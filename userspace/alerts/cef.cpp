#include "alerts/cef.hpp"

#include <charconv>

#include "alerts/json_fields.hpp"
#include "alerts/time_text.hpp"

namespace sybilwatch::alerts {
namespace {

class Extensions {
  public:
    explicit Extensions(std::string& out) : out_(out) {}
    void str(std::string_view key, std::string_view value) {
        if (value.empty()) return;
        sep();
        out_.append(key);
        out_.push_back('=');
        cef_escape_extension(value, out_);
    }
    void num(std::string_view key, int64_t v) {
        sep();
        out_.append(key);
        out_.push_back('=');
        char buf[24];
        auto r = std::to_chars(buf, buf + sizeof buf, v);
        out_.append(buf, r.ptr);
    }
    void labelled(std::string_view key, std::string_view label, std::string_view value) {
        if (value.empty()) return;
        str(std::string(key) + "Label", label);
        str(key, value);
    }

  private:
    void sep() {
        if (!first_) out_.push_back(' ');
        first_ = false;
    }
    std::string& out_;
    bool first_ = true;
};

}  // namespace

int cef_severity(rules::Severity s) {
    switch (s) {
        case rules::Severity::Info:
            return 1;
        case rules::Severity::Low:
            return 3;
        case rules::Severity::Medium:
            return 5;
        case rules::Severity::High:
            return 8;
        case rules::Severity::Critical:
            return 10;
    }
    return 5;
}

void cef_escape_header(std::string_view in, std::string& out) {
    for (char c : in) {
        if (c == '\\' || c == '|') {
            out.push_back('\\');
            out.push_back(c);
        } else if (c == '\r' || c == '\n') {
            out.push_back(' ');  // the header has no escape for line breaks
        } else {
            out.push_back(c);
        }
    }
}

void cef_escape_extension(std::string_view in, std::string& out) {
    for (char c : in) {
        switch (c) {
            case '\\':
                out.append("\\\\");
                break;
            case '=':
                out.append("\\=");
                break;
            case '\n':
                out.append("\\n");
                break;
            case '\r':
                out.append("\\r");
                break;
            default:
                out.push_back(c);
        }
    }
}

void render_cef(const rules::Finding& f, std::string& out, const FormatOptions& o) {
    out.clear();
    out.append("CEF:0|sybilwatch|sybilwatchd|");
    cef_escape_header(o.product_version, out);
    out.push_back('|');
    cef_escape_header(f.rule, out);
    out.push_back('|');
    cef_escape_header(f.title, out);
    out.push_back('|');
    out.append(std::to_string(cef_severity(f.severity)));
    out.push_back('|');

    const int64_t raised_ns = f.emitted_ns ? f.emitted_ns : f.last_seen_ns;
    Extensions x(out);
    x.num("rt", epoch_ms(raised_ns));
    x.num("start", epoch_ms(f.first_seen_ns));
    x.num("end", epoch_ms(f.last_seen_ns));
    x.str("externalId", f.finding_id);
    x.str("act", rules::to_string(f.activity));
    x.str("cat", f.kind);
    x.str("msg", f.output.empty() ? f.title : f.output);
    x.num("cnt", static_cast<int64_t>(f.observations));
    x.num("in", static_cast<int64_t>(f.client_bytes));
    x.num("out", static_cast<int64_t>(f.server_bytes));
    if (!f.samples.empty()) {
        const auto& s = f.samples.front();
        x.str("src", ip_text(s.src));
        if (s.src_port) x.num("spt", s.src_port);
        x.str("dst", ip_text(s.dst));
        if (s.dst_port) x.num("dpt", s.dst_port);
        x.str("suser", s.account);
        x.str("dhost", s.sni);
        x.str("requestClientApplication", s.user_agent);
    }
    auto first_of = [&](std::string_view field, std::string rules::SampleConnection::*m) {
        for (const auto& k : f.keys)
            if (k.field == field) return k.value;
        for (const auto& s : f.samples)
            if (!(s.*m).empty()) return s.*m;
        return std::string();
    };
    x.labelled("cs1", "ja4", first_of("ja4", &rules::SampleConnection::ja4));
    x.labelled("cs2", "ja4t", first_of("ja4t", &rules::SampleConnection::ja4t));
    std::string list;
    const size_t n =
        o.max_accounts ? std::min(o.max_accounts, f.accounts.size()) : f.accounts.size();
    for (size_t i = 0; i < n; ++i) {
        if (i) list.push_back(',');
        list.append(f.accounts[i]);
    }
    x.labelled("cs3", "accounts", list);
    list.clear();
    for (const auto& t : f.tags) {
        if (!list.empty()) list.push_back(',');
        list.append(t);
    }
    x.labelled("cs4", "tags", list);
    list.clear();
    for (const auto& k : f.keys) {
        if (!list.empty()) list.push_back(';');
        list.append(k.field).append(":").append(k.value);
        list.append("(").append(std::to_string(k.accounts)).append(")");
    }
    x.labelled("cs5", "keys", list);
    x.labelled("cs6", "tcp_sig", first_of("tcp_sig", &rules::SampleConnection::tcp_sig));
    x.str("cn1Label", "account_count");
    x.num("cn1", static_cast<int64_t>(f.account_count));
    x.str("cn2Label", "revision");
    x.num("cn2", f.revision);
    x.str("cn3Label", "requests");
    x.num("cn3", static_cast<int64_t>(f.requests));
    x.str("dvchost", o.hostname);
}

}  // namespace sybilwatch::alerts
