// Saving, restoring and merging the rules engine's state: the account table and every
// stateful rule's runtime, in one binary snapshot.
//
// Format (little-endian): "SWRULEST" magic, u32 version (1), u64 payload length, u64 FNV-1a
// of the payload; payload = account table, u32 rule count, then per rule: its id, u8 kind,
// u32 record length, the record. Every read is bounds-checked (files may be truncated or
// corrupt); a bad header or checksum rejects the whole snapshot and changes nothing. A rule
// whose record does not load (its kind or parameters changed since the save, e.g. a new
// window) starts empty and is listed in `skipped`; the others are restored. Snapshots of rules
// no longer configured are ignored.
//
// Merge adds a snapshot (e.g. another host's) into the live states: accounts are interned into
// this table (ids remapped), aggregate slices add up, distinct counters and bucket sets union,
// link incidences union and the link clusters are rebuilt.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "rules/account_table.hpp"
#include "rules/aggregate_state.hpp"
#include "rules/link_state.hpp"
#include "rules/synchrony_state.hpp"

namespace sybilwatch::rules {

// A stateful rule's runtime, owned by the engine, with the rule's id.
struct RuleStateRef {
    std::string rule;
    std::variant<AggregateState*, LinkState*, SynchronyState*> state;
};

struct StateIoResult {
    bool ok = false;
    std::string error;                 // why the snapshot was rejected
    std::vector<std::string> skipped;  // rules whose record did not fit (left empty/unchanged)
    size_t rules = 0;                  // rules restored or merged
};

// 2: key hashes of strings changed (wyhash); a version-1 snapshot's groups and keys would
// never match a new observation, so it is refused rather than restored.
inline constexpr uint32_t kStateVersion = 2;

std::vector<uint8_t> save_state(const AccountTable& accounts, std::span<const RuleStateRef> rules);

// Replaces `accounts` and the listed states with the snapshot's (all or nothing for a corrupt
// snapshot; see above for rules that do not fit).
StateIoResult restore_state(std::span<const uint8_t> bytes, AccountTable& accounts,
                            std::span<const RuleStateRef> rules);

// Adds the snapshot into `accounts` and the listed states.
StateIoResult merge_state(std::span<const uint8_t> bytes, AccountTable& accounts,
                          std::span<const RuleStateRef> rules);

}  // namespace sybilwatch::rules
