// nginx can send access-log lines straight to a Unix datagram socket
// (access_log syslog:server=unix:PATH), one line per datagram behind an RFC 3164 header:
// "<190>Apr  5 12:34:56 host nginx: {...}". RFC 5424 senders look alike up to the message.
#pragma once

#include <string_view>

namespace sybilwatch::identity {

// The message of a syslog datagram: when `msg` starts with a "<PRI>" (1 to 3 digits), what
// follows the header, which is where the JSON object starts (the first '{'; header fields
// never contain one). Otherwise `msg` unchanged. Without a '{' after the header, the part
// after it is returned, which the parser then rejects.
std::string_view strip_syslog_header(std::string_view msg);

}  // namespace sybilwatch::identity
