// Reading attributed observations back from JSON lines: the format `sybilwatch tail` prints
// (the `sybilwatch fingerprint` object plus "account" and "user_agent"), as written by hand in
// rule test cases or captured from a running daemon. Every value is type- and range-checked;
// a problem is reported with the line number and the field; unknown fields are ignored.
#pragma once

#include <cstddef>
#include <istream>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>

#include "fingerprint/observation.hpp"
#include "identity/attributed_observation.hpp"

namespace sybilwatch::rules {

// One line's content. The Observation keeps the fingerprint JSON's fields; the attribution
// travels beside it as in identity::AttributedObservation.
struct ObservationLine {
    fingerprint::Observation obs;
    std::string account, user_agent, request_id;

    // A view for the rules engine; valid while this object is alive and unchanged.
    identity::AttributedObservation attributed() const {
        return {obs, account, user_agent, request_id, account.empty() ? 0.0 : obs.ts_ns / 1e9};
    }
};

// Lines longer than this are refused before parsing (a tail line is under 3 KB).
inline constexpr size_t kMaxObservationLine = 64 * 1024;

// Parses one JSON object into `out` (reset first). Returns an empty string on success, else
// the problem ("field 'src_port': must be an integer in 0..65535").
std::string parse_observation(std::string_view text, ObservationLine& out);
// The same from a parsed JSON value (test cases build these from YAML).
std::string observation_from_json(const nlohmann::json& j, ObservationLine& out);

// Lines from a stream; blank lines are skipped. Messages carry the 1-based line number.
class ObservationReader {
  public:
    explicit ObservationReader(std::istream& in) : in_(in) {}

    // Reads the next observation into `out`: true when one was read; false at the end or on
    // an error (then error() says "line N: ...", and the reader stops).
    bool next(ObservationLine& out);
    const std::string& error() const { return error_; }
    size_t line() const { return line_; }

  private:
    std::istream& in_;
    std::string buf_, error_;
    size_t line_ = 0;
};

}  // namespace sybilwatch::rules
