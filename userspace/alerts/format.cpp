#include "alerts/format.hpp"

#include "alerts/cef.hpp"
#include "alerts/ecs.hpp"
#include "alerts/finding_json.hpp"
#include "alerts/ocsf.hpp"

namespace sybilwatch::alerts {

void render(const rules::Finding& f, Format format, std::string& out,
            const FormatOptions& options) {
    switch (format) {
        case Format::Json:
            render_finding_json(f, out, options);
            return;
        case Format::Ocsf:
            render_ocsf_detection_finding(f, out, options);
            return;
        case Format::Ecs:
            render_ecs(f, out, options);
            return;
        case Format::Cef:
            render_cef(f, out, options);
            return;
    }
    render_finding_json(f, out, options);
}

std::optional<Format> parse_format(std::string_view name) {
    if (name == "json") return Format::Json;
    if (name == "ocsf") return Format::Ocsf;
    if (name == "ecs") return Format::Ecs;
    if (name == "cef") return Format::Cef;
    return std::nullopt;
}

const char* to_string(Format f) {
    switch (f) {
        case Format::Json:
            return "json";
        case Format::Ocsf:
            return "ocsf";
        case Format::Ecs:
            return "ecs";
        case Format::Cef:
            return "cef";
    }
    return "json";
}

}  // namespace sybilwatch::alerts
