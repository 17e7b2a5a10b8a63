// Payload severity extraction (CEF header / JSON streaming) and RFC 5424 message building on
// arbitrary payload bytes: no crash or UB, and the built message keeps its framing invariants
// (octet count equals the message length, truncation never splits a UTF-8 sequence).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "alerts/syslog_frame.hpp"

using namespace sybilwatch::alerts;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view payload(reinterpret_cast<const char*>(data), size);
    const auto sev = payload_syslog_severity(payload);
    if (sev && static_cast<unsigned>(*sev) > 7) __builtin_trap();

    SyslogHeader h;
    h.hostname = sanitize_syslog_header_field(payload.substr(0, 300), kSyslogHostnameMax);
    if (!check_syslog_header_field(h.hostname, kSyslogHostnameMax, "hostname").empty())
        __builtin_trap();
    const size_t max = size == 0 ? 0 : data[0] % (size + 1);
    const size_t cut = utf8_prefix_length(payload, max);
    if (cut > max && cut != size) __builtin_trap();
    if (cut < size && cut > 0 && cut < max) {
        // Cut early only to drop a partial sequence: the byte at the cut is a lead byte.
        const auto b = static_cast<unsigned char>(payload[cut]);
        if ((b & 0xC0) == 0x80) __builtin_trap();
    }
    std::string msg, framed;
    append_syslog_message(h, sev.value_or(SyslogSeverity::Warning),
                          static_cast<int64_t>(size) * 977, payload.substr(0, cut), msg);
    append_octet_counted(msg, framed);
    if (framed != std::to_string(msg.size()) + " " + msg) __builtin_trap();
    return 0;
}
