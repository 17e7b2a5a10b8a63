#include "alerts/finding_json.hpp"

#include "alerts/json_fields.hpp"

namespace sybilwatch::alerts {

void render_finding_json(const rules::Finding& f, std::string& out, const FormatOptions& o) {
    dump_line(finding_object(f, o), out);
}

}  // namespace sybilwatch::alerts
