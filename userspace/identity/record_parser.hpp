// Parses one identity-feed line into an AttributionRecord, or says why it was rejected. Lines
// come from outside the daemon (a gateway, or anyone who can write to the socket or the log), so
// every field is checked and every rejection is counted by reason.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "identity/attribution_record.hpp"

namespace sybilwatch::identity {

enum class ParseResult : uint8_t {
    Ok,
    TooLong,         // the line is over the length cap; not parsed
    NotJson,         // a syntax error, ill-formed UTF-8, or more than one value on the line
    NotObject,       // valid JSON, but not an object
    MissingField,    // ts, client_ip, client_port or account absent (or null)
    DuplicateField,  // a known field given twice: which one would be meant is ambiguous
    WrongType,       // a known field of the wrong JSON type
    BadTimestamp,    // not a time we can read, negative, or beyond year 2262
    BadIp,           // client_ip is not an IPv4 or IPv6 address
    BadPort,         // not an integer in 1..65535
    NoAccount,       // account empty, "-" or null: a request nobody was authenticated for
    FieldTooLong,    // account over kMaxAccount bytes
    BadCharacters,   // a control character in the account
};
inline constexpr size_t kParseResults = static_cast<size_t>(ParseResult::BadCharacters) + 1;

// snake_case names, used as metric labels ("too_long", "not_json", ...).
const char* to_string(ParseResult r);

struct ParseStats {
    uint64_t accepted = 0;
    std::array<uint64_t, kParseResults> rejected{};  // indexed by ParseResult; [Ok] stays 0
    uint64_t user_agent_truncated = 0;               // accepted records whose user agent was cut
    uint64_t request_id_truncated = 0;

    uint64_t rejected_total() const;
    uint64_t count(ParseResult r) const { return rejected[static_cast<size_t>(r)]; }
};

class RecordParser {
  public:
    // The default cap leaves room for a gateway's largest header lines once JSON-escaped.
    static constexpr size_t kDefaultMaxLine = 64 * 1024;

    explicit RecordParser(size_t max_line = kDefaultMaxLine) : max_line_(max_line) {}

    // Parses `line` (one JSON object, no newline) into `out`, whose strings keep their
    // capacity between calls. `out` is meaningful only when the result is Ok. Counts the
    // result in stats(). Never throws.
    ParseResult parse(std::string_view line, AttributionRecord& out);

    // Counts a line that a source could not hold (over its own buffer cap) as TooLong.
    void count_too_long() { ++stats_.rejected[static_cast<size_t>(ParseResult::TooLong)]; }

    size_t max_line() const { return max_line_; }
    const ParseStats& stats() const { return stats_; }

  private:
    size_t max_line_;
    ParseStats stats_;
};

// The same check without counting: for tests and tools.
ParseResult parse_record(std::string_view line, AttributionRecord& out,
                         size_t max_line = RecordParser::kDefaultMaxLine,
                         bool* user_agent_truncated = nullptr,
                         bool* request_id_truncated = nullptr);

}  // namespace sybilwatch::identity
