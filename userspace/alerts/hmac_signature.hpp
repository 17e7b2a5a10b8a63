// HMAC-SHA256 for webhook request signatures.
//
// Signed string: TIMESTAMP "." BODY, where TIMESTAMP is the decimal Unix time sent in the
// X-Sybilwatch-Timestamp header; the header X-Sybilwatch-Signature is "sha256=" + lowercase hex.
// Binding the timestamp in lets a receiver reject replays of an old, validly signed request
// (check that the timestamp is recent, then compare signatures in constant time).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace sybilwatch::alerts {

// Lowercase hex HMAC-SHA256 of `data` under `key` (RFC 2104 / RFC 4231).
std::string hmac_sha256_hex(std::string_view key, std::string_view data);

// "sha256=" + hmac_sha256_hex(key, timestamp + "." + body).
std::string webhook_signature(std::string_view key, int64_t unix_seconds, std::string_view body);

// Lowercase hex SHA-256 of `data`.
std::string sha256_hex(std::string_view data);

}  // namespace sybilwatch::alerts
