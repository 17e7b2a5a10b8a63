// RFC 5424 syslog messages and RFC 6587 octet-counted framing for the syslog transport.
//
//   SYSLOG-MSG = <PRI>1 SP TIMESTAMP SP HOSTNAME SP APP-NAME SP PROCID SP MSGID SP SD [SP MSG]
//
// Header fields are PRINTUSASCII (%d33-126) with the lengths of RFC 5424 section 6.2; an absent
// field is the NILVALUE "-". STRUCTURED-DATA is always "-": the finding travels in MSG.
//
// No BOM by default. RFC 5424 lets MSG be MSG-ANY (no BOM) or MSG-UTF8 (BOM + UTF-8). A BOM
// would sit in front of the JSON or CEF text, and most consumers (rsyslog's %msg%, Splunk, CEF
// parsers that look for "CEF:" at the start, JSON parsers per RFC 8259 section 8.1) take it as
// part of the payload, so the common case is better served without it. Payloads are UTF-8 in
// either case; `utf8_bom` turns it on for receivers that want it declared.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "rules/finding.hpp"

namespace sybilwatch::alerts {

enum class SyslogSeverity : uint8_t {
    Emergency = 0,
    Alert = 1,
    Critical = 2,
    Error = 3,
    Warning = 4,
    Notice = 5,
    Informational = 6,
    Debug = 7,
};

// RFC 5424 table 1 (0..23).
enum class SyslogFacility : uint8_t {
    Kern = 0,
    User = 1,
    Mail = 2,
    Daemon = 3,
    Auth = 4,
    Syslog = 5,
    Lpr = 6,
    News = 7,
    Uucp = 8,
    Cron = 9,
    Authpriv = 10,
    Ftp = 11,
    Ntp = 12,
    Audit = 13,
    Alert = 14,
    Clock = 15,
    Local0 = 16,
    Local1 = 17,
    Local2 = 18,
    Local3 = 19,
    Local4 = 20,
    Local5 = 21,
    Local6 = 22,
    Local7 = 23,
};

// Config names: "kern", "user", ..., "local7" (the names of syslog.conf); numeric "0".."23" too.
std::optional<SyslogFacility> parse_syslog_facility(std::string_view name);
// "emerg"/"emergency", "alert", "crit"/"critical", "err"/"error", "warning"/"warn", "notice",
// "info"/"informational", "debug".
std::optional<SyslogSeverity> parse_syslog_severity(std::string_view name);

constexpr unsigned syslog_pri(SyslogFacility f, SyslogSeverity s) {
    return static_cast<unsigned>(f) * 8u + static_cast<unsigned>(s);
}

// Finding severity to syslog severity: critical→crit, high→err, medium→warning, low→notice,
// info→info. Nothing maps to emerg/alert: those mean the *host* is unusable.
SyslogSeverity syslog_severity(rules::Severity s);

// The severity a rendered finding carries, so each frame gets its own PRI: CEF's header
// Severity (0-10), or JSON's top-level "severity" (name or OCSF severity_id) or ECS's
// event.severity. nullopt when the payload says nothing recognisable.
std::optional<SyslogSeverity> payload_syslog_severity(std::string_view payload);

// RFC 5424 section 6.2 limits.
inline constexpr size_t kSyslogHostnameMax = 255;
inline constexpr size_t kSyslogAppNameMax = 48;
inline constexpr size_t kSyslogProcIdMax = 128;
inline constexpr size_t kSyslogMsgIdMax = 32;

// Empty when `value` is a valid header field (1..max_len PRINTUSASCII, or empty = NILVALUE);
// otherwise why not, naming the field as `what`.
std::string check_syslog_header_field(std::string_view value, size_t max_len,
                                      std::string_view what);
// For values the operator did not type (gethostname()): characters outside %d33-126 become
// '_', the value is cut to max_len, empty becomes "-".
std::string sanitize_syslog_header_field(std::string_view value, size_t max_len);

struct SyslogHeader {
    SyslogFacility facility = SyslogFacility::Local0;
    // Each valid per check_syslog_header_field; empty is sent as "-".
    std::string hostname;
    std::string app_name = "sybilwatchd";
    std::string procid;
    std::string msgid = "finding";
    bool utf8_bom = false;
};

// RFC 3339 UTC with microseconds ("2003-10-11T22:14:15.003000Z"), the precision RFC 5424
// section 6.2.3 allows at most.
void append_syslog_timestamp(int64_t unix_ns, std::string& out);

// Appends one SYSLOG-MSG (unframed: UDP sends it as is, one per datagram, RFC 5426).
void append_syslog_message(const SyslogHeader& h, SyslogSeverity severity, int64_t unix_ns,
                           std::string_view msg, std::string& out);

// RFC 6587 section 3.4.1 octet counting: MSG-LEN SP SYSLOG-MSG (RFC 5425 uses the same).
void append_octet_counted(std::string_view syslog_msg, std::string& out);

// The longest prefix of `s` not over `max` bytes that does not end inside a UTF-8 sequence.
size_t utf8_prefix_length(std::string_view s, size_t max);

}  // namespace sybilwatch::alerts
