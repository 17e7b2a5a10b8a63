// Finding: what the rules engine raises and the alerts module delivers. The design's contract
// fields (finding_id, rule, severity, title, account_count, accounts, shared keys with counts,
// first_seen, last_seen, sample connections) plus what an investigator needs to act on it.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "net/ip_address.hpp"

namespace sybilwatch::rules {

enum class Severity : uint8_t { Info, Low, Medium, High, Critical };

// Create: first time; Update: the same finding grew (same finding_id, revision + 1);
// Close: its window expired and nothing keeps it alive.
enum class FindingActivity : uint8_t { Create, Update, Close };

// A value the accounts of a finding share (or a network or client stack seen), with how many
// of the finding's accounts had it.
struct KeyCount {
    std::string field;  // "ja4", "ja4+ja4t", "net24", ...
    std::string value;
    uint64_t accounts = 0;
};

struct SampleConnection {
    int64_t ts_ns = 0;
    net::IpAddress src, dst;
    uint16_t src_port = 0, dst_port = 0;
    std::string account, sni, ja4, ja3, ja4t, tcp_sig, user_agent;
};

struct Finding {
    std::string finding_id;  // stable across updates of one finding (rule + group)
    uint32_t revision = 0;   // 0 on Create, +1 on each Update/Close
    FindingActivity activity = FindingActivity::Create;
    std::string rule;    // the rule's id
    std::string kind;    // match | aggregate | link | synchrony
    std::string title;   // the rule's description, short
    std::string output;  // the rule's output template, rendered
    Severity severity = Severity::Medium;
    std::vector<std::string> tags;

    // Group-by values (aggregate) or the link keys' field names (link), in rule order.
    std::vector<std::pair<std::string, std::string>> group;
    // Measures of aggregate rules ("count", "distinct(account)", ...), as evaluated.
    std::vector<std::pair<std::string, double>> measures;

    uint64_t account_count = 0;         // exact (or estimated beyond the exact limit)
    std::vector<std::string> accounts;  // sorted; complete up to the configured cap
    bool accounts_truncated = false;

    std::vector<KeyCount> keys;           // the shared keys that linked/grouped the accounts
    std::vector<KeyCount> networks;       // /24 and /48 networks seen, busiest first
    std::vector<KeyCount> client_stacks;  // ja4 (and tcp_sig) values seen, busiest first

    uint64_t observations = 0;  // connections behind the finding
    uint64_t requests = 0;
    uint64_t client_bytes = 0, server_bytes = 0;
    int64_t first_seen_ns = 0, last_seen_ns = 0;  // event time of the first and last connection
    int64_t emitted_ns = 0;                       // when this revision was raised (event time)

    std::vector<SampleConnection> samples;  // a few connections, oldest first
};

const char* to_string(Severity s);
const char* to_string(FindingActivity a);

}  // namespace sybilwatch::rules
