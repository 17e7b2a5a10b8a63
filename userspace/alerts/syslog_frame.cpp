#include "alerts/syslog_frame.hpp"

#include <array>
#include <charconv>
#include <ctime>
#include <nlohmann/json.hpp>

namespace sybilwatch::alerts {

namespace {

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
        char x = a[i], y = b[i];
        if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
        if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
        if (x != y) return false;
    }
    return true;
}

constexpr std::array<std::string_view, 24> kFacilityNames = {
    "kern",   "user",   "mail",     "daemon", "auth",   "syslog", "lpr",    "news",
    "uucp",   "cron",   "authpriv", "ftp",    "ntp",    "audit",  "alert",  "clock",
    "local0", "local1", "local2",   "local3", "local4", "local5", "local6", "local7"};

std::optional<SyslogSeverity> severity_from_name(std::string_view v) {
    // Finding severities, OCSF severity names and CEF's word severities.
    if (iequals(v, "critical") || iequals(v, "fatal") || iequals(v, "very-high"))
        return SyslogSeverity::Critical;
    if (iequals(v, "high")) return SyslogSeverity::Error;
    if (iequals(v, "medium")) return SyslogSeverity::Warning;
    if (iequals(v, "low")) return SyslogSeverity::Notice;
    if (iequals(v, "info") || iequals(v, "informational")) return SyslogSeverity::Informational;
    return std::nullopt;
}

// CEF header Severity: 0-3 low, 4-6 medium, 7-8 high, 9-10 very high; 0-1 (sybilwatch renders
// info as 1) are taken as informational.
std::optional<SyslogSeverity> severity_from_cef_number(int64_t n) {
    if (n < 0 || n > 10) return std::nullopt;
    if (n >= 9) return SyslogSeverity::Critical;
    if (n >= 7) return SyslogSeverity::Error;
    if (n >= 4) return SyslogSeverity::Warning;
    if (n >= 2) return SyslogSeverity::Notice;
    return SyslogSeverity::Informational;
}

// OCSF severity_id: 1 informational .. 5 critical, 6 fatal.
std::optional<SyslogSeverity> severity_from_ocsf_id(int64_t n) {
    switch (n) {
        case 1:
            return SyslogSeverity::Informational;
        case 2:
            return SyslogSeverity::Notice;
        case 3:
            return SyslogSeverity::Warning;
        case 4:
            return SyslogSeverity::Error;
        case 5:
        case 6:
            return SyslogSeverity::Critical;
        default:
            return std::nullopt;
    }
}

std::optional<SyslogSeverity> cef_severity(std::string_view p) {
    // CEF:Version|Vendor|Product|Version|SignatureID|Name|Severity|Extension, with '|' and '\'
    // escaped by '\' in the header fields.
    int pipes = 0;
    size_t start = 0;
    for (size_t i = 0; i < p.size(); ++i) {
        if (p[i] == '\\') {
            ++i;
            continue;
        }
        if (p[i] != '|') continue;
        ++pipes;
        if (pipes == 6) {
            start = i + 1;
        } else if (pipes == 7) {
            const std::string_view v = p.substr(start, i - start);
            int64_t n = 0;
            const auto r = std::from_chars(v.data(), v.data() + v.size(), n);
            if (r.ec == std::errc() && r.ptr == v.data() + v.size())
                return severity_from_cef_number(n);
            return severity_from_name(v);
        }
    }
    return std::nullopt;
}

// Streams the JSON and stops as soon as a top-level severity is known, so a large finding
// (thousands of accounts) is not parsed just to read one field near its start.
class SeveritySax {
  public:
    std::optional<SyslogSeverity> result;

    bool null() { return value_seen(); }
    bool boolean(bool) { return value_seen(); }
    bool number_integer(int64_t v) { return number(v); }
    bool number_unsigned(uint64_t v) {
        return number(v > 1000 ? int64_t{-1} : static_cast<int64_t>(v));
    }
    bool number_float(double, const std::string&) { return value_seen(); }
    bool string(std::string& s) {
        if (depth_ == 1 && key_ == Key::Severity) {
            if (auto sev = severity_from_name(s)) result = sev;
            if (result) return false;
        }
        return value_seen();
    }
    bool binary(nlohmann::json::binary_t&) { return value_seen(); }
    bool start_object(size_t) {
        if (depth_ == 1) in_event_ = key_ == Key::Event;
        ++depth_;
        key_ = Key::Other;
        return true;
    }
    bool end_object() {
        --depth_;
        if (depth_ == 1) {
            in_event_ = false;
            key_ = Key::Other;
        }
        return true;
    }
    bool start_array(size_t) {
        ++depth_;
        key_ = Key::Other;
        return true;
    }
    bool end_array() {
        --depth_;
        if (depth_ == 1) key_ = Key::Other;
        return true;
    }
    bool key(std::string& k) {
        if (depth_ == 1) {
            key_ = k == "severity"      ? Key::Severity
                   : k == "severity_id" ? Key::SeverityId
                   : k == "event"       ? Key::Event
                                        : Key::Other;
        } else if (depth_ == 2 && in_event_) {
            key_ = k == "severity" ? Key::SeverityId : Key::Other;
        }
        return true;
    }
    bool parse_error(size_t, const std::string&, const nlohmann::detail::exception&) {
        return false;
    }

  private:
    // SeverityId: OCSF's top-level severity_id, or ECS's event.severity (sybilwatch renders
    // it as 1 info .. 5 critical, the OCSF scale).
    enum class Key { Other, Severity, SeverityId, Event };
    bool number(int64_t v) {
        if ((depth_ == 1 || (depth_ == 2 && in_event_)) && key_ == Key::SeverityId) {
            // Keep looking for a "severity" name, which is more specific; remember the id.
            if (!result) result = severity_from_ocsf_id(v);
        }
        return value_seen();
    }
    bool value_seen() {
        if (depth_ == 1 || (depth_ == 2 && in_event_)) key_ = Key::Other;
        return true;
    }
    bool in_event_ = false;
    int depth_ = 0;
    Key key_ = Key::Other;
};

}  // namespace

std::optional<SyslogFacility> parse_syslog_facility(std::string_view name) {
    for (size_t i = 0; i < kFacilityNames.size(); ++i) {
        if (iequals(name, kFacilityNames[i])) return static_cast<SyslogFacility>(i);
    }
    unsigned n = 0;
    const auto r = std::from_chars(name.data(), name.data() + name.size(), n);
    if (!name.empty() && r.ec == std::errc() && r.ptr == name.data() + name.size() && n < 24)
        return static_cast<SyslogFacility>(n);
    return std::nullopt;
}

std::optional<SyslogSeverity> parse_syslog_severity(std::string_view name) {
    struct Entry {
        std::string_view name;
        SyslogSeverity sev;
    };
    static constexpr Entry kNames[] = {
        {"emerg", SyslogSeverity::Emergency},    {"emergency", SyslogSeverity::Emergency},
        {"alert", SyslogSeverity::Alert},        {"crit", SyslogSeverity::Critical},
        {"critical", SyslogSeverity::Critical},  {"err", SyslogSeverity::Error},
        {"error", SyslogSeverity::Error},        {"warning", SyslogSeverity::Warning},
        {"warn", SyslogSeverity::Warning},       {"notice", SyslogSeverity::Notice},
        {"info", SyslogSeverity::Informational}, {"informational", SyslogSeverity::Informational},
        {"debug", SyslogSeverity::Debug},
    };
    for (const auto& e : kNames) {
        if (iequals(name, e.name)) return e.sev;
    }
    return std::nullopt;
}

SyslogSeverity syslog_severity(rules::Severity s) {
    switch (s) {
        case rules::Severity::Critical:
            return SyslogSeverity::Critical;
        case rules::Severity::High:
            return SyslogSeverity::Error;
        case rules::Severity::Medium:
            return SyslogSeverity::Warning;
        case rules::Severity::Low:
            return SyslogSeverity::Notice;
        case rules::Severity::Info:
            return SyslogSeverity::Informational;
    }
    return SyslogSeverity::Warning;
}

std::optional<SyslogSeverity> payload_syslog_severity(std::string_view payload) {
    size_t i = 0;
    while (i < payload.size() &&
           (payload[i] == ' ' || payload[i] == '\t' || payload[i] == '\n' || payload[i] == '\r'))
        ++i;
    const std::string_view p = payload.substr(i);
    if (p.starts_with("CEF:")) return cef_severity(p);
    if (p.starts_with("{")) {
        SeveritySax sax;
        nlohmann::json::sax_parse(p.begin(), p.end(), &sax);
        return sax.result;
    }
    return std::nullopt;
}

std::string check_syslog_header_field(std::string_view value, size_t max_len,
                                      std::string_view what) {
    if (value.size() > max_len) {
        return std::string(what) + " is longer than " + std::to_string(max_len) +
               " characters (RFC 5424 section 6.2)";
    }
    for (const char c : value) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 33 || u > 126) {
            return std::string(what) +
                   " may only hold printable US-ASCII without spaces (RFC 5424 section 6)";
        }
    }
    return {};
}

std::string sanitize_syslog_header_field(std::string_view value, size_t max_len) {
    std::string out(value.substr(0, max_len));
    for (char& c : out) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 33 || u > 126) c = '_';
    }
    if (out.empty()) out = "-";
    return out;
}

void append_syslog_timestamp(int64_t unix_ns, std::string& out) {
    int64_t secs = unix_ns / 1'000'000'000;
    int64_t frac_ns = unix_ns % 1'000'000'000;
    if (frac_ns < 0) {
        frac_ns += 1'000'000'000;
        --secs;
    }
    const time_t t = static_cast<time_t>(secs);
    struct tm tm {};
    ::gmtime_r(&t, &tm);
    // RFC 5424 allows years 0000-9999 only (full-date of RFC 3339); clamp what cannot be shown.
    int year = tm.tm_year + 1900;
    if (year < 0) year = 0;
    if (year > 9999) year = 9999;
    char buf[40];
    const int n = std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", year,
                                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                                static_cast<int>(frac_ns / 1000));
    if (n > 0) out.append(buf, static_cast<size_t>(n));
}

namespace {
void append_field(std::string_view v, std::string& out) {
    out += v.empty() ? std::string_view("-") : v;
    out += ' ';
}
}  // namespace

void append_syslog_message(const SyslogHeader& h, SyslogSeverity severity, int64_t unix_ns,
                           std::string_view msg, std::string& out) {
    char pri[8];
    const int n = std::snprintf(pri, sizeof(pri), "<%u>1 ", syslog_pri(h.facility, severity));
    out.append(pri, static_cast<size_t>(n));
    append_syslog_timestamp(unix_ns, out);
    out += ' ';
    append_field(h.hostname, out);
    append_field(h.app_name, out);
    append_field(h.procid, out);
    append_field(h.msgid, out);
    out += '-';  // STRUCTURED-DATA: NILVALUE
    if (msg.empty() && !h.utf8_bom) return;
    out += ' ';
    if (h.utf8_bom) out += "\xEF\xBB\xBF";
    out += msg;
}

void append_octet_counted(std::string_view syslog_msg, std::string& out) {
    char len[24];
    const auto r = std::to_chars(len, len + sizeof(len), syslog_msg.size());
    out.append(len, r.ptr);
    out += ' ';
    out += syslog_msg;
}

size_t utf8_prefix_length(std::string_view s, size_t max) {
    if (s.size() <= max) return s.size();
    size_t n = max;
    // Step back over continuation bytes (10xxxxxx) to the lead byte; drop the lead byte too when
    // its sequence would not fit.
    size_t back = 0;
    while (n > 0 && back < 4 && (static_cast<unsigned char>(s[n - 1]) & 0xC0) == 0x80) {
        --n;
        ++back;
    }
    if (n == 0) return 0;
    const auto lead = static_cast<unsigned char>(s[n - 1]);
    size_t need = 1;
    if ((lead & 0xE0) == 0xC0)
        need = 2;
    else if ((lead & 0xF0) == 0xE0)
        need = 3;
    else if ((lead & 0xF8) == 0xF0)
        need = 4;
    if (need == 1) return max;         // ASCII or stray continuation bytes: cut at max
    if (back + 1 >= need) return max;  // the sequence before the cut is complete
    return n - 1;                      // cut before the incomplete sequence
}

}  // namespace sybilwatch::alerts
