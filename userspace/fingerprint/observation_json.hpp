// The fingerprint JSON line of the `sybilwatch fingerprint` contract (DESIGN.md): one object per
// connection, the initiator as src, a value that was not computed left out.
#pragma once

#include <string>

#include "fingerprint/observation.hpp"

namespace sybilwatch::fingerprint {

// Appends the observation as one JSON object and a newline to `out`.
void append_json(const Observation& o, std::string& out);

// Appends `s` as a JSON string literal: quotes, backslashes and control bytes escaped, bytes
// that are not valid UTF-8 written as \u00XX so the line is always valid JSON.
void append_json_string(std::string_view s, std::string& out);

}  // namespace sybilwatch::fingerprint
