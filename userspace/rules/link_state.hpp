// LinkState: the runtime of one `kind: link` rule. Accounts are nodes; an observation that
// carries a key (one link_on entry: a field or tuple of fields, hashed by the engine) joins
// its account to every other account seen with the same key within the window. Clusters are
// the connected components, kept incrementally with union-find.
//
// Expiry: an account-key incidence lives while now < last_seen + window (Window, exact).
// Union-find cannot delete edges, so components are recomputed from the live incidences by
// rebuild(), which advance() runs every rebuild_interval (default window/24): between two
// rebuilds a cluster may still hold links that expired since the last one, for at most one
// interval. A rebuild is O(incidences) (about 40 ms per million on this machine's core).
//
// Popular keys: a key used by more than max_accounts_per_key accounts (a browser build behind
// a carrier NAT) never links. A key becomes popular only after it has already linked that
// many accounts, so at that moment its cluster is marked suspect (no events are raised for
// it) and a rebuild is due; the rebuild (at the next advance(), at most every
// popular_rebuild_gap) recomputes the components without the key. A key stays popular while
// more than max accounts still use it, counted at each rebuild.
//
// Cluster ids are stable: a cluster keeps its id as it grows; when two merge, the survivor is
// the one already reported, else the larger, else the older, and the other closes with
// merged_into set; after a rebuild each new component takes the old id it shares the most
// accounts with. The engine turns ClusterEvents into Findings (finding_id from rule + id).
//
// Memory: 4 B per account id (the index of its node), and per tracked account a 64 B node and
// 16 B per live (account, key) incidence; per key 24 B plus 4 B per part of its text (the
// parts between '|', e.g. one per link_on field, each text stored once however many keys
// share it) and its index slot; 64 B per multi-account cluster.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "rules/hash_index.hpp"
#include "rules/huge_page_allocator.hpp"
#include "rules/state_codec.hpp"
#include "rules/window.hpp"

namespace sybilwatch::rules {

struct Volume {
    uint64_t requests = 0, client_bytes = 0, server_bytes = 0;
    uint64_t bytes() const { return client_bytes + server_bytes; }
    Volume& operator+=(const Volume& o) {
        requests += o.requests;
        client_bytes += o.client_bytes;
        server_bytes += o.server_bytes;
        return *this;
    }
};

struct LinkConfig {
    int64_t window_ns = 24 * 3600'000'000'000;
    uint32_t max_accounts_per_key = 200;
    uint32_t min_accounts = 10;       // a cluster is reported at this size...
    uint64_t min_requests = 0;        // ...and this volume over its accounts
    uint64_t min_bytes = 0;           // client + server bytes
    int64_t rebuild_interval_ns = 0;  // 0 = window / 24
    int64_t popular_rebuild_gap_ns = 60'000'000'000;
    double update_volume_factor = 2.0;  // an Update when requests grew this much since the last
};

// One key of one observation: which link_on entry, the hash of its value(s), and its text.
struct LinkKey {
    uint8_t spec = 0;
    uint64_t hash = 0;
    std::string_view text;
};

enum class ClusterChange : uint8_t { Created, Updated, Closed };

struct ClusterEvent {
    ClusterChange change = ClusterChange::Created;
    uint64_t cluster_id = 0;
    uint64_t merged_into = 0;  // Closed because it merged into this cluster (0: expired/split)
    uint32_t accounts = 0;
    Volume volume;
    int64_t first_seen = 0, last_seen = 0;
};

class LinkState {
  public:
    static constexpr uint32_t kNone = UINT32_MAX;

    struct ClusterInfo {
        uint64_t id = 0;
        uint32_t accounts = 0;
        Volume volume;
        int64_t first_seen = 0, last_seen = 0;
        bool reported = false;
    };
    struct KeyUse {
        uint8_t spec = 0;
        std::string text;
        uint32_t accounts = 0;  // accounts of the cluster that used the key
    };

    explicit LinkState(const LinkConfig& cfg);

    // One observation of `account` (an AccountTable id) at event time t with its keys and
    // volume. Absent keys are simply not passed; an account with no key is not tracked.
    void observe(int64_t t, uint32_t account, std::span<const LinkKey> keys, const Volume& v);
    // Starts loading what observe() reads first for this account and these keys (the engine
    // calls it early, so the misses overlap).
    // (kNone: the keys only.)
    void prefetch(uint32_t account, std::span<const LinkKey> keys) const {
        if (account < node_of_.size()) __builtin_prefetch(&node_of_[account]);
        for (const LinkKey& k : keys)
            key_index_.prefetch(k.hash ^ (uint64_t{k.spec} * 0x9e3779b97f4a7c15ULL));
    }
    // Batch look-ahead (the engine, before it feeds a batch): the account's node slot, then,
    // once that has arrived, its node.
    void prefetch_account(uint32_t account) const {
        if (account < node_of_.size()) __builtin_prefetch(&node_of_[account]);
    }
    void prefetch_node(uint32_t account) const {
        const uint32_t n = node(account);
        if (n != kNone) __builtin_prefetch(&nodes_[n]);
    }
    // Whether the state tracks this key (LinkKey spec and hash): observe() needs a key's text
    // only when it does not, so callers format it only then.
    bool has_key(uint8_t spec, uint64_t hash) const;
    // Runs a due rebuild (periodic, or pending after a key turned popular).
    void advance(int64_t now);
    void rebuild(int64_t now);
    // Events raised since the last call, in order.
    std::vector<ClusterEvent> take_events();

    // Queries. cluster_of() gives 0 for an untracked or unlinked account.
    uint64_t cluster_of(uint32_t account) const;
    bool cluster(uint64_t id, ClusterInfo& out) const;
    std::vector<uint32_t> accounts(uint64_t id, size_t cap = SIZE_MAX) const;
    std::vector<KeyUse> keys(uint64_t id, size_t cap = SIZE_MAX) const;  // busiest first

    // Adds another state's incidences and volumes (same rule, other host). account_map maps
    // the other state's account ids to this one's (kNone: unknown, skipped). Rebuilds.
    void merge(const LinkState& other, std::span<const uint32_t> account_map);

    int64_t now() const { return now_; }
    size_t tracked_accounts() const { return tracked_; }
    size_t keys_tracked() const { return key_index_.size(); }
    size_t popular_keys() const;
    size_t clusters() const { return cluster_index_.size(); }
    uint64_t rebuilds() const { return rebuilds_; }
    const LinkConfig& config() const { return cfg_; }
    size_t memory_bytes() const;

    void save(StateWriter& w) const;
    // Replaces the contents; account ids must be < account_limit. False on corrupt input.
    bool load(StateReader& r, uint32_t account_limit);

  private:
    // A tracked account. Nodes, not account ids, are what the union-find, member lists and
    // keys' representatives refer to: only accounts with a live key cost a node.
    struct Node {
        uint32_t account = kNone;  // kNone = a free node
        uint32_t parent = kNone;
        uint32_t next = kNone;     // circular list of the cluster's members
        uint32_t inc = kNone;      // first incidence
        uint32_t cluster = kNone;  // at a root: its ClusterRec, kNone for a singleton
        Volume vol;
        int64_t first_seen = 0, last_seen = 0;
    };
    struct Incidence {
        uint32_t key = kNone;
        uint32_t next = kNone;
        int64_t last_seen = 0;
    };
    struct Key {
        uint64_t hash = 0;
        uint32_t parts = 0;     // its text: part ids key_parts_[parts, parts + nparts)
        uint32_t accounts = 0;  // accounts with a live incidence (as of the last rebuild + new)
        uint32_t rep = kNone;   // a node it linked, to union the next one with
        uint8_t nparts = 0;
        uint8_t spec = 0;
        bool popular = false;
        bool used = false;
    };
    // A piece of key text between '|' separators ("t13d...", "203.0.113.0/24", "25"),
    // stored once in part_text_ and shared by every key that contains it.
    struct Part {
        uint32_t off = 0;
        uint16_t len = 0;
        uint8_t attempt = 0;  // which hash of the text indexes it (kUnindexed: none)
        uint32_t refs = 0;    // 0 = free
    };
    static constexpr uint8_t kUnindexed = 255;
    struct Cluster {
        uint64_t id = 0;
        uint32_t root = kNone;
        uint32_t accounts = 0;
        Volume vol;
        int64_t first_seen = 0, last_seen = 0;
        uint32_t reported_accounts = 0;  // at the last event
        uint64_t reported_requests = 0;
        bool reported = false;
        bool suspect = false;  // a popular key may have merged it: quiet until rebuilt
    };
    struct OldCluster {
        uint32_t accounts = 0, reported_accounts = 0;
        uint64_t reported_requests = 0;
        bool reported = false;
    };

    uint32_t node(uint32_t account) const {
        return account < node_of_.size() ? node_of_[account] : kNone;
    }
    uint32_t find(uint32_t n);
    uint32_t find_const(uint32_t n) const;
    uint32_t track(uint32_t account, int64_t t);  // its node (new if untracked)
    void untrack(uint32_t n);
    uint32_t key_for(const LinkKey& k);
    uint32_t add_key(uint64_t stored_hash, uint8_t spec, std::string_view text);
    void free_key(uint32_t k);
    std::string key_text(const Key& k) const;
    uint32_t intern_part(std::string_view text);
    std::string_view part_text(uint32_t p) const {
        return std::string_view(part_text_).substr(parts_[p].off, parts_[p].len);
    }
    void compact_text();  // drops freed parts' bytes and freed keys' part lists
    bool add_incidence(uint32_t n, uint32_t key, int64_t t);  // true when new
    void unite(uint32_t a, uint32_t b);
    uint32_t new_cluster(uint32_t root);
    void free_cluster(uint32_t c);
    bool meets(const Cluster& c) const;
    void check(uint32_t c);  // raises Created/Updated as thresholds and growth require
    ClusterEvent event(ClusterChange ch, const Cluster& c, uint64_t merged_into = 0) const;
    // old_id: by node, the cluster id before the recompute.
    void recompute(int64_t now, std::vector<uint64_t>& old_id,
                   std::unordered_map<uint64_t, OldCluster>& old, bool emit);

    LinkConfig cfg_;
    Window window_;
    HugeVector<uint32_t> node_of_;  // account id -> node (kNone: not tracked)
    HugeVector<Node> nodes_;
    std::vector<uint32_t> free_nodes_;
    HugeVector<Incidence> incs_;
    uint32_t free_inc_ = kNone;
    HugeVector<Key> keys_;
    std::vector<uint32_t> free_keys_;
    HashIndex key_index_;
    std::vector<uint32_t> key_parts_;
    size_t dead_key_parts_ = 0;
    std::vector<Part> parts_;
    std::vector<uint32_t> free_parts_;
    std::string part_text_;
    size_t dead_part_bytes_ = 0;
    HashIndex part_index_;  // hash of a part's text (per attempt) -> part
    std::vector<Cluster> clusters_;
    std::vector<uint32_t> free_clusters_;
    HashIndex cluster_index_;  // id -> clusters_ index
    std::vector<ClusterEvent> events_;
    size_t tracked_ = 0;
    uint64_t next_id_ = 1;
    uint64_t rebuilds_ = 0;
    int64_t now_ = INT64_MIN;
    int64_t last_rebuild_ = INT64_MIN;
    bool rebuild_pending_ = false;
};

}  // namespace sybilwatch::rules
