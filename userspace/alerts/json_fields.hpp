// Pieces of a Finding as JSON, shared by the JSON-based formats: the native object is also
// what OCSF carries under unmapped.sybilwatch and ECS under sybilwatch.*, so no format loses a
// field the native one has.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "alerts/format.hpp"
#include "net/ip_address.hpp"
#include "rules/finding.hpp"

namespace sybilwatch::alerts {

// Insertion-ordered: the fields come out in the order the documentation lists them.
using Json = nlohmann::ordered_json;

// The native finding object (docs/alerts.md, "Native JSON").
Json finding_object(const rules::Finding& f, const FormatOptions& o);
Json key_counts(const std::vector<rules::KeyCount>& v);
Json sample_object(const rules::SampleConnection& s);
// The accounts listed (all, or the first max_accounts) and whether the list is incomplete.
Json account_list(const rules::Finding& f, const FormatOptions& o);
bool accounts_incomplete(const rules::Finding& f, const FormatOptions& o);

std::string ip_text(const net::IpAddress& a);  // "" when unset

// One compact line. Account names and user agents come from the gateway: bytes that are not
// UTF-8 become U+FFFD instead of throwing.
void dump_line(const Json& j, std::string& out);

}  // namespace sybilwatch::alerts
