// AccountTable: interns account names into dense uint32 ids, so the rule states index plain
// vectors by account instead of hashing strings per observation (and a link or synchrony
// state's per-account cost is a few words, not a string).
//
// Memory is bounded by `capacity`: at the cap a new account is refused (kNoAccount, counted
// in refused()) until expire() frees ids. expire(now, horizon) frees accounts not seen for
// `horizon`; the engine passes at least the longest rule window plus its maintenance interval
// (link rebuild / synchrony scan), so no state still refers to a freed id when it is reused.
//
// Layout: every observation looks its account up, so one lookup touches two cache lines
// where it can: an open-addressing index of 8-byte slots (the entry's offset and 32 bits of
// the name's hash, so a probe compares names only when those agree) and an arena holding each
// account's entry in one piece: last-seen time, id, the facts the engine keeps of its latest
// connection, and the name (no std::string: no 32-byte object and heap block per account).
// Ids map back to entries through 4 bytes each. Cost per account: 24 B + the name, rounded
// up to 8, + 4 B + 11-16 B of index slots (about 60 B for a 20-byte name).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string_view>
#include <vector>

#include "net/ip_address.hpp"
#include "rules/huge_page_allocator.hpp"
#include "rules/state_codec.hpp"

namespace sybilwatch::rules {

// What the engine remembers of an account's latest connection, for the networks and client
// stacks a finding lists: the /24 (IPv4) or /48 (IPv6) and an interned JA4 id. Not saved.
struct AccountFacts {
    uint32_t ja4 = 0;              // the engine's interned text id; 0 = none
    uint8_t family = 0;            // 4, 6, or 0 when unknown
    std::array<uint8_t, 6> net{};  // the network's leading bytes (3 used for IPv4)

    // Inline and word-wide: it runs for every observation.
    static AccountFacts of(const net::IpAddress& ip, uint32_t ja4) {
        AccountFacts f;
        f.ja4 = ja4;
        if (ip.family == 4 || ip.family == 6) {
            f.family = ip.family;
            // The /24 or /48 as the low bytes of the first word (little-endian).
            const uint64_t w = ip.word(0) & (ip.family == 4 ? 0xffffffull : 0xffffffffffffull);
            std::memcpy(f.net.data(), &w, f.net.size());
        }
        return f;
    }
    net::IpAddress network() const;  // the masked address (family 0 when unknown)
};

class AccountTable {
  public:
    static constexpr uint32_t kNoAccount = UINT32_MAX;
    static constexpr size_t kMaxNameBytes = 256;  // longer names are truncated

    // A live account as peek() found it: touch() goes straight to its entry (the id -> entry
    // map is 4 B x accounts, a cache miss of its own). Good only while current(): an arena
    // rewrite, an expiry, a load or a move makes every earlier Ref stale (epochs are unique
    // per process, so a Ref never passes for another table's or an earlier state's).
    struct Ref {
        uint32_t id = kNoAccount;
        uint32_t off = UINT32_MAX;
        uint64_t epoch = 0;
    };

    explicit AccountTable(uint32_t capacity = 4'000'000);
    AccountTable(AccountTable&&) noexcept;
    AccountTable& operator=(AccountTable&&) noexcept;
    ~AccountTable();

    // The hash the table files `name` under (`name` already truncated to kMaxNameBytes): the
    // stable key hash of a string field (rules/field.hpp), so the engine computes it once per
    // observation for both the lookup and distinct(account).
    static uint64_t hash(std::string_view name);

    // The id of `name` (interned if new, its last-seen time raised to t); kNoAccount when the
    // table is full or the name is empty. The second form takes hash(name) precomputed and
    // stores `facts` for the account.
    uint32_t intern(std::string_view name, int64_t t);
    uint32_t intern(std::string_view name, uint64_t name_hash, int64_t t,
                    const AccountFacts& facts);
    uint32_t find(std::string_view name) const;
    bool current(const Ref& ref) const { return ref.id != kNoAccount && ref.epoch == epoch_; }
    // intern() of the account a current() Ref names, without looking its name up: raises its
    // last-seen time to t and stores `facts`; returns the id.
    uint32_t touch(const Ref& ref, int64_t t, const AccountFacts& facts);
    // Starts loading the index slot intern(name, name_hash, ...) reads first, so the caller
    // can do other work while it arrives.
    void prefetch(uint64_t name_hash) const;
    // Look-ahead for a batch of observations (Engine::observe of a span), in steps that each
    // wait for the previous one's line to arrive: prefetch_entry() starts loading the entry
    // the home slot points to (both its lines when the name runs into a second one); peek()
    // is find() with the hash given (no last-seen update).
    void prefetch_entry(std::string_view name, uint64_t name_hash) const;
    Ref peek(std::string_view name, uint64_t name_hash) const;
    // The name of a live id ("" for a free one); valid until the next expire() or load().
    std::string_view name(uint32_t id) const;
    // Starts loading what name(id) and facts(id) read, in two steps a few ids apart (stage 0:
    // the id's entry offset; 1: the entry, once the offset has arrived), for a walk over the
    // thousands of accounts a finding lists.
    void prefetch_id(uint32_t id, int stage) const;
    int64_t last_seen(uint32_t id) const;
    AccountFacts facts(uint32_t id) const;  // empty for a free id

    // Frees the accounts with last_seen + horizon <= now; returns how many.
    size_t expire(int64_t now, int64_t horizon_ns);

    // Interns every account of `other`; result[other_id] = this table's id (kNoAccount for
    // free ids or when full). The map the states' merge() functions take.
    std::vector<uint32_t> merge(const AccountTable& other);

    size_t size() const { return live_; }
    uint32_t capacity() const { return capacity_; }
    uint32_t id_limit() const { return static_cast<uint32_t>(entry_of_.size()); }  // ids < this
    uint64_t refused() const { return refused_; }
    size_t memory_bytes() const;

    void save(StateWriter& w) const;
    bool load(StateReader& r);  // ids are kept as saved

  private:
    // One account in the arena, followed by its name; 8-byte aligned.
    struct Entry {
        int64_t last_seen;
        uint32_t id;
        uint32_t ja4;
        uint8_t family;
        uint8_t len_m1;  // name length - 1 (names are 1..256 bytes)
        std::array<uint8_t, 6> net;
        std::string_view name() const {
            return {reinterpret_cast<const char*>(this) + sizeof(Entry), size_t{len_m1} + 1};
        }
    };
    static_assert(sizeof(Entry) == 24);
    struct Slot {
        uint32_t off = kFree;  // the entry's arena offset; kFree = empty slot
        uint32_t tag = 0;      // hash bits 32..63
    };
    static constexpr uint32_t kFree = UINT32_MAX;  // offsets are multiples of 8: never this
    static constexpr uint32_t kChunkBits = 21;     // huge-page chunks: growing moves nothing
    static constexpr size_t kMaxChunks = size_t{1} << (32 - kChunkBits);  // 32-bit offsets

    Entry* entry(uint32_t off) const;
    // The slot holding `name`, or the empty slot where it would go.
    size_t probe(std::string_view name, uint64_t h) const;
    // Appends an entry (kFree when the arena's 4 GiB of offsets are used up).
    uint32_t append(std::string_view name, uint32_t id, int64_t t, const AccountFacts& facts);
    // intern(): facts, when given, replace the account's.
    uint32_t lookup(std::string_view name, uint64_t h, int64_t t, const AccountFacts* facts);
    uint32_t add(std::string_view name, uint64_t h, int64_t t, const AccountFacts& facts,
                 uint32_t id);  // a new account at a free id (or the next one if kNoAccount)
    void erase_slot(size_t i);
    void grow_index();
    void compact();  // rewrites the arena without freed entries

    uint32_t capacity_;
    std::vector<HugeBlock> chunks_;
    size_t arena_end_ = 0;           // next free offset
    size_t dead_bytes_ = 0;          // of freed entries
    HugeVector<uint32_t> entry_of_;  // id -> arena offset; kFree = free id
    std::vector<uint32_t> free_;
    HugeVector<Slot> slots_;
    size_t mask_ = 0;
    size_t live_ = 0;
    uint64_t refused_ = 0;
    uint64_t epoch_;  // changes with every rewrite, expiry, load or move (current())
};

}  // namespace sybilwatch::rules
