// The wire formats a sink renders findings into: sybilwatch's own JSON (the design's finding
// contract), OCSF Detection Finding, ECS-style JSON for Elastic, and CEF for syslog SIEMs.
// Every format renders one finding as one line (no embedded newline), so any transport can
// frame it as a JSON line, a syslog message or an HEC event.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "rules/finding.hpp"

namespace sybilwatch::alerts {

enum class Format : uint8_t { Json, Ocsf, Ecs, Cef };

struct FormatOptions {
    // The daemon passes its SW_VERSION; libraries are not told the project version.
    std::string product_version = "0.1.0";
    // The edge host that raised the finding (OCSF device.hostname, ECS observer.hostname,
    // CEF dvchost); omitted when empty.
    std::string hostname;
    // Accounts listed per finding; 0 lists all the Finding carries. A syslog receiver with a
    // small message limit is the reason to set it; the count is always exact.
    size_t max_accounts = 0;
};

// Replaces `out` with the rendered finding (its capacity is reused).
void render(const rules::Finding& f, Format format, std::string& out,
            const FormatOptions& options = {});

// "json", "ocsf", "ecs", "cef" (the names the configuration uses).
std::optional<Format> parse_format(std::string_view name);
const char* to_string(Format f);

}  // namespace sybilwatch::alerts
