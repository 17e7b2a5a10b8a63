// ArcSight Common Event Format (CEF 0) for syslog receivers:
//   CEF:0|sybilwatch|sybilwatchd|<version>|<rule id>|<title>|<severity 0-10>|<extensions>
// Header fields escape '\' and '|'; extension values escape '\' and '=' and write CR/LF as
// \r and \n, so one finding is always one line. Extensions (docs/alerts.md lists them):
// rt/start/end (epoch ms), externalId (finding_id), act (create/update/close), cat (rule
// kind), msg, cnt (connections), in/out (bytes), src/spt/dst/dpt/suser/dhost/
// requestClientApplication from the first sample connection, cs1 ja4, cs2 ja4t, cs3 accounts
// (comma-separated), cs4 tags, cs5 shared keys, cs6 tcp_sig, cn1 account_count, cn2 revision,
// cn3 requests, dvchost.
#pragma once

#include <string>
#include <string_view>

#include "alerts/format.hpp"

namespace sybilwatch::alerts {

// Info 1, Low 3, Medium 5, High 8, Critical 10 (ArcSight: 0-3 low, 4-6 medium, 7-8 high,
// 9-10 very high).
int cef_severity(rules::Severity s);

void cef_escape_header(std::string_view in, std::string& out);     // appends
void cef_escape_extension(std::string_view in, std::string& out);  // appends

void render_cef(const rules::Finding& f, std::string& out, const FormatOptions& o = {});

}  // namespace sybilwatch::alerts
