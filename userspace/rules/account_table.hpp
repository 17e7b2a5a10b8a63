// AccountTable: interns account names into dense uint32 ids, so the rule states index plain
// vectors by account instead of hashing strings per observation (and a link or synchrony
// state's per-account cost is a few words, not a string).
//
// Memory is bounded by `capacity`: at the cap a new account is refused (kNoAccount, counted
// in refused()) until expire() frees ids. expire(now, horizon) frees accounts not seen for
// `horizon`; the engine passes at least the longest rule window plus its maintenance interval
// (link rebuild / synchrony scan), so no state still refers to a freed id when it is reused.
// Cost per account: the name (inline up to 15 bytes, else a heap block), 8 B last-seen and
// ~16-32 B of index slots.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rules/hash_index.hpp"
#include "rules/state_codec.hpp"

namespace sybilwatch::rules {

class AccountTable {
  public:
    static constexpr uint32_t kNoAccount = UINT32_MAX;
    static constexpr size_t kMaxNameBytes = 256;  // longer names are truncated

    explicit AccountTable(uint32_t capacity = 4'000'000);

    // The id of `name` (interned if new, its last-seen time raised to t); kNoAccount when the
    // table is full or the name is empty.
    uint32_t intern(std::string_view name, int64_t t);
    uint32_t find(std::string_view name) const;
    // The name of a live id ("" for a free one).
    std::string_view name(uint32_t id) const;
    int64_t last_seen(uint32_t id) const;

    // Frees the accounts with last_seen + horizon <= now; returns how many.
    size_t expire(int64_t now, int64_t horizon_ns);

    // Interns every account of `other`; result[other_id] = this table's id (kNoAccount for
    // free ids or when full). The map the states' merge() functions take.
    std::vector<uint32_t> merge(const AccountTable& other);

    size_t size() const { return live_; }
    uint32_t capacity() const { return capacity_; }
    uint32_t id_limit() const { return static_cast<uint32_t>(names_.size()); }  // ids < this
    uint64_t refused() const { return refused_; }
    size_t memory_bytes() const;

    void save(StateWriter& w) const;
    bool load(StateReader& r);  // ids are kept as saved

  private:
    uint64_t key_of(std::string_view name, uint32_t attempt) const;
    bool slot_for(std::string_view name, uint64_t& key) const;  // a free or matching key

    uint32_t capacity_;
    std::vector<std::string> names_;  // "" = free id
    std::vector<int64_t> last_seen_;
    std::vector<uint32_t> free_;
    HashIndex index_;  // hash(name) (re-hashed on the rare collision) -> id
    size_t live_ = 0;
    uint64_t refused_ = 0;
};

}  // namespace sybilwatch::rules
