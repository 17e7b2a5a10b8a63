// sybilwatch's own finding JSON: the design's finding contract (docs/alerts.md).
#pragma once

#include <string>

#include "alerts/format.hpp"

namespace sybilwatch::alerts {

void render_finding_json(const rules::Finding& f, std::string& out, const FormatOptions& o = {});

}  // namespace sybilwatch::alerts
