#include "rules/link_state.hpp"

#include <algorithm>
#include <functional>
#include <tuple>

#include "net/slot_reuse.hpp"

namespace sybilwatch::rules {

namespace {

constexpr size_t kMaxKeyText = 256;
constexpr uint32_t kPartAttempts = 4;  // index keys tried per part text on a hash collision

uint64_t spec_mixed(uint8_t spec, uint64_t hash) {
    return hash ^ (uint64_t{spec} * 0x9e3779b97f4a7c15ULL);
}

}  // namespace

LinkState::LinkState(const LinkConfig& cfg) : cfg_(cfg), window_(Window::exact(cfg.window_ns)) {
    if (cfg_.rebuild_interval_ns <= 0)
        cfg_.rebuild_interval_ns = std::max<int64_t>(window_.length_ns / 24, 1);
    cfg_.min_accounts = std::max<uint32_t>(cfg_.min_accounts, 2);
    cfg_.max_accounts_per_key = std::max<uint32_t>(cfg_.max_accounts_per_key, 1);
}

uint32_t LinkState::find(uint32_t n) {
    // Path halving: every other node on the path points to its grandparent.
    while (nodes_[n].parent != n) {
        nodes_[n].parent = nodes_[nodes_[n].parent].parent;
        n = nodes_[n].parent;
    }
    return n;
}

uint32_t LinkState::find_const(uint32_t n) const {
    while (nodes_[n].parent != n)
        n = nodes_[n].parent;
    return n;
}

uint32_t LinkState::track(uint32_t a, int64_t t) {
    if (a >= node_of_.size())
        node_of_.resize(std::max<size_t>(a + 1, node_of_.size() + node_of_.size() / 2), kNone);
    if (node_of_[a] != kNone) return node_of_[a];
    const uint32_t n = net::take_slot(free_nodes_, nodes_);
    Node& x = nodes_[n];
    x = Node{};
    x.account = a;
    x.parent = n;
    x.next = n;
    x.first_seen = x.last_seen = t;
    node_of_[a] = n;
    ++tracked_;
    return n;
}

void LinkState::untrack(uint32_t n) {
    node_of_[nodes_[n].account] = kNone;
    nodes_[n] = Node{};
    free_nodes_.push_back(n);
    --tracked_;
}

bool LinkState::has_key(uint8_t spec, uint64_t hash) const {
    return key_index_.find(spec_mixed(spec, hash)) != HashIndex::kNone;
}

uint32_t LinkState::intern_part(std::string_view text) {
    const uint64_t h = std::hash<std::string_view>{}(text);
    uint8_t attempt = kUnindexed;
    uint64_t key = 0;
    for (uint32_t i = 0; i < kPartAttempts; ++i) {
        key = mix64(h + i * 0x9e3779b97f4a7c15ULL);
        const uint32_t p = part_index_.find(key);
        if (p == HashIndex::kNone) {
            attempt = static_cast<uint8_t>(i);
            break;
        }
        if (part_text(p) == text) {
            ++parts_[p].refs;
            return p;
        }
    }
    const uint32_t p = net::take_slot(free_parts_, parts_);
    // Four texts colliding on every attempt is beyond unlikely; such a part is kept unshared.
    parts_[p] = Part{static_cast<uint32_t>(part_text_.size()), static_cast<uint16_t>(text.size()),
                     attempt, 1};
    part_text_.append(text);
    if (attempt != kUnindexed) part_index_.insert(key, p);
    return p;
}

uint32_t LinkState::add_key(uint64_t h, uint8_t spec, std::string_view text) {
    const uint32_t i = net::take_slot(free_keys_, keys_);
    Key& key = keys_[i];
    key = Key{};
    key.hash = h;
    key.spec = spec;
    key.used = true;
    // The text is kept as its '|'-separated parts (join(split(x)) == x whatever x holds); a
    // text of more parts than fit the count is kept whole.
    text = text.substr(0, kMaxKeyText);
    key.parts = static_cast<uint32_t>(key_parts_.size());
    if (std::count(text.begin(), text.end(), '|') >= 255) {
        key_parts_.push_back(intern_part(text));
        key.nparts = 1;
    } else {
        for (size_t from = 0;;) {
            const size_t bar = text.find('|', from);
            key_parts_.push_back(intern_part(text.substr(from, bar - from)));
            ++key.nparts;
            if (bar == std::string_view::npos) break;
            from = bar + 1;
        }
    }
    key_index_.insert(h, i);
    return i;
}

uint32_t LinkState::key_for(const LinkKey& k) {
    const uint64_t h = spec_mixed(k.spec, k.hash);
    const uint32_t i = key_index_.find(h);
    return i != HashIndex::kNone ? i : add_key(h, k.spec, k.text);
}

void LinkState::free_key(uint32_t k) {
    Key& key = keys_[k];
    key_index_.erase(key.hash);
    for (uint32_t j = key.parts; j < key.parts + key.nparts; ++j) {
        Part& p = parts_[key_parts_[j]];
        if (--p.refs != 0) continue;
        if (p.attempt != kUnindexed) {
            const uint64_t h = std::hash<std::string_view>{}(part_text(key_parts_[j]));
            part_index_.erase(mix64(h + p.attempt * 0x9e3779b97f4a7c15ULL));
        }
        dead_part_bytes_ += p.len;
        p = Part{};
        free_parts_.push_back(key_parts_[j]);
    }
    dead_key_parts_ += key.nparts;
    key = Key{};
    free_keys_.push_back(k);
}

std::string LinkState::key_text(const Key& k) const {
    std::string s;
    for (uint32_t j = 0; j < k.nparts; ++j) {
        if (j) s += '|';
        s += part_text(key_parts_[k.parts + j]);
    }
    return s;
}

void LinkState::compact_text() {
    // Freed parts and keys leave holes; rewritten once they are half of what is stored.
    if (dead_part_bytes_ * 2 > part_text_.size()) {
        std::string text;
        text.reserve(part_text_.size() - dead_part_bytes_);
        for (Part& p : parts_) {
            if (p.refs == 0) continue;
            const auto off = static_cast<uint32_t>(text.size());
            text.append(part_text_, p.off, p.len);
            p.off = off;
        }
        part_text_ = std::move(text);
        dead_part_bytes_ = 0;
    }
    if (dead_key_parts_ * 2 > key_parts_.size()) {
        std::vector<uint32_t> kp;
        kp.reserve(key_parts_.size() - dead_key_parts_);
        for (Key& k : keys_) {
            if (!k.used) continue;
            const auto at = static_cast<uint32_t>(kp.size());
            kp.insert(kp.end(), key_parts_.begin() + k.parts,
                      key_parts_.begin() + k.parts + k.nparts);
            k.parts = at;
        }
        key_parts_ = std::move(kp);
        dead_key_parts_ = 0;
    }
}

bool LinkState::add_incidence(uint32_t n, uint32_t key, int64_t t) {
    for (uint32_t i = nodes_[n].inc; i != kNone; i = incs_[i].next) {
        if (incs_[i].key == key) {
            incs_[i].last_seen = std::max(incs_[i].last_seen, t);
            return false;
        }
    }
    uint32_t i;
    if (free_inc_ != kNone) {
        i = free_inc_;
        free_inc_ = incs_[i].next;
    } else {
        i = static_cast<uint32_t>(incs_.size());
        incs_.emplace_back();
    }
    incs_[i] = Incidence{key, nodes_[n].inc, t};
    nodes_[n].inc = i;
    ++keys_[key].accounts;
    return true;
}

uint32_t LinkState::new_cluster(uint32_t root) {
    const uint32_t c = net::take_slot(free_clusters_, clusters_);
    Cluster& x = clusters_[c];
    x = Cluster{};
    x.root = root;
    nodes_[root].cluster = c;
    return c;
}

void LinkState::free_cluster(uint32_t c) {
    if (clusters_[c].id != 0) cluster_index_.erase(clusters_[c].id);
    clusters_[c] = Cluster{};
    free_clusters_.push_back(c);
}

bool LinkState::meets(const Cluster& c) const {
    return c.accounts >= cfg_.min_accounts && c.vol.requests >= cfg_.min_requests &&
           c.vol.bytes() >= cfg_.min_bytes;
}

ClusterEvent LinkState::event(ClusterChange ch, const Cluster& c, uint64_t merged_into) const {
    return ClusterEvent{ch, c.id, merged_into, c.accounts, c.vol, c.first_seen, c.last_seen};
}

void LinkState::check(uint32_t ci) {
    Cluster& c = clusters_[ci];
    if (c.suspect) return;
    if (!c.reported) {
        if (!meets(c)) return;
        c.reported = true;
        events_.push_back(event(ClusterChange::Created, c));
    } else if (c.accounts != c.reported_accounts ||
               static_cast<double>(c.vol.requests) >=
                   cfg_.update_volume_factor *
                       static_cast<double>(std::max<uint64_t>(c.reported_requests, 1))) {
        events_.push_back(event(ClusterChange::Updated, c));
    } else {
        return;
    }
    c.reported_accounts = c.accounts;
    c.reported_requests = c.vol.requests;
}

void LinkState::unite(uint32_t a, uint32_t b) {
    uint32_t ra = find(a), rb = find(b);
    if (ra == rb) return;
    auto stats = [&](uint32_t r) {
        const Node& x = nodes_[r];
        if (x.cluster != kNone) return clusters_[x.cluster];
        Cluster s;
        s.accounts = 1;
        s.vol = x.vol;
        s.first_seen = x.first_seen;
        s.last_seen = x.last_seen;
        return s;
    };
    Cluster sa = stats(ra), sb = stats(rb);
    // The survivor (whose id stays): reported first, then larger, then older id.
    auto rank = [](const Cluster& s) {
        return std::make_tuple(s.reported, s.accounts, s.id == 0 ? 0 : UINT64_MAX - s.id);
    };
    if (rank(sb) > rank(sa)) {
        std::swap(ra, rb);
        std::swap(sa, sb);
    }
    // Union by the survivor: ra becomes the root (sizes are small next to the rebuild cost,
    // and keeping the survivor's root keeps its Cluster record in place).
    nodes_[rb].parent = ra;
    std::swap(nodes_[ra].next, nodes_[rb].next);  // splices the two circular member lists
    uint32_t ci = nodes_[ra].cluster;
    if (ci == kNone) {
        ci = new_cluster(ra);
        clusters_[ci].id = next_id_++;
        clusters_[ci].accounts = 1;
        clusters_[ci].vol = nodes_[ra].vol;
        clusters_[ci].first_seen = nodes_[ra].first_seen;
        clusters_[ci].last_seen = nodes_[ra].last_seen;
        cluster_index_.insert(clusters_[ci].id, ci);
    }
    Cluster& c = clusters_[ci];
    c.accounts += sb.accounts;
    c.vol += sb.vol;
    c.first_seen = std::min(c.first_seen, sb.first_seen);
    c.last_seen = std::max(c.last_seen, sb.last_seen);
    c.suspect = c.suspect || sb.suspect;
    if (nodes_[rb].cluster != kNone) {
        const uint32_t lost = nodes_[rb].cluster;
        nodes_[rb].cluster = kNone;
        if (clusters_[lost].reported) {
            events_.push_back(event(ClusterChange::Closed, clusters_[lost], c.id));
        }
        free_cluster(lost);
    }
    check(ci);
}

void LinkState::observe(int64_t t, uint32_t a, std::span<const LinkKey> keys, const Volume& v) {
    t = std::clamp(t, -kMaxEventTime, kMaxEventTime);
    if (a == kNone) return;
    now_ = std::max(now_, t);
    if (last_rebuild_ == INT64_MIN) last_rebuild_ = t;
    if (keys.empty() && node(a) == kNone) return;
    const uint32_t n = track(a, t);
    Node& x = nodes_[n];
    x.vol += v;
    x.first_seen = std::min(x.first_seen, t);
    x.last_seen = std::max(x.last_seen, t);
    {
        const uint32_t r = find(n);
        if (nodes_[r].cluster != kNone) {
            Cluster& c = clusters_[nodes_[r].cluster];
            c.vol += v;
            c.first_seen = std::min(c.first_seen, t);
            c.last_seen = std::max(c.last_seen, t);
            check(nodes_[r].cluster);
        }
    }
    for (const LinkKey& lk : keys) {
        const uint32_t k = key_for(lk);
        if (!add_incidence(n, k, t)) continue;
        Key& key = keys_[k];
        if (key.popular) continue;
        if (key.accounts > cfg_.max_accounts_per_key) {
            // Too late to not have linked: quarantine the cluster it built, rebuild soon.
            key.popular = true;
            if (key.rep != kNone && key.rep < nodes_.size() && nodes_[key.rep].account != kNone) {
                const uint32_t r = find(key.rep);
                if (nodes_[r].cluster != kNone) clusters_[nodes_[r].cluster].suspect = true;
                rebuild_pending_ = true;
            }
            continue;
        }
        if (key.rep == kNone || key.rep >= nodes_.size() || nodes_[key.rep].account == kNone) {
            key.rep = n;
        } else {
            unite(n, key.rep);
        }
    }
}

void LinkState::advance(int64_t now) {
    now_ = std::max(now_, now);
    if (last_rebuild_ == INT64_MIN) return;
    if ((rebuild_pending_ && now_ - last_rebuild_ >= cfg_.popular_rebuild_gap_ns) ||
        now_ - last_rebuild_ >= cfg_.rebuild_interval_ns) {
        rebuild(now_);
    }
}

void LinkState::rebuild(int64_t now) {
    now_ = std::max(now_, now);
    std::vector<uint64_t> old_id(nodes_.size(), 0);
    std::unordered_map<uint64_t, OldCluster> old;
    for (const Cluster& c : clusters_) {
        if (c.root == kNone) continue;
        old[c.id] = OldCluster{c.accounts, c.reported_accounts, c.reported_requests, c.reported};
        uint32_t m = c.root;
        do {
            old_id[m] = c.id;
            m = nodes_[m].next;
        } while (m != c.root);
    }
    recompute(now_, old_id, old, true);
}

void LinkState::recompute(int64_t now, std::vector<uint64_t>& old_id,
                          std::unordered_map<uint64_t, OldCluster>& old, bool emit) {
    ++rebuilds_;
    last_rebuild_ = now;
    rebuild_pending_ = false;
    // Every pass goes through the accounts in id order (not node order), so components,
    // member lists and fresh cluster ids do not depend on which nodes were free.
    // 1. Drop expired incidences and accounts left without any.
    for (uint32_t a = 0; a < node_of_.size(); ++a) {
        const uint32_t n = node_of_[a];
        if (n == kNone) continue;
        Node& x = nodes_[n];
        uint32_t* link = &x.inc;
        while (*link != kNone) {
            const uint32_t i = *link;
            if (window_.live(incs_[i].last_seen, now)) {
                link = &incs_[i].next;
                continue;
            }
            --keys_[incs_[i].key].accounts;
            *link = incs_[i].next;
            incs_[i].next = free_inc_;
            incs_[i].key = kNone;
            free_inc_ = i;
        }
        if (x.inc == kNone) {
            untrack(n);
        } else {
            x.parent = n;
            x.next = n;
            x.cluster = kNone;
        }
    }
    // 2. Keys: drop unused ones, recount popularity.
    for (uint32_t k = 0; k < keys_.size(); ++k) {
        Key& key = keys_[k];
        if (!key.used) continue;
        if (key.accounts == 0) {
            free_key(k);
            continue;
        }
        key.popular = key.accounts > cfg_.max_accounts_per_key;
        key.rep = kNone;
    }
    compact_text();
    // 3. Components of the live, non-popular incidences (union by size into a scratch array).
    clusters_.clear();
    free_clusters_.clear();
    cluster_index_.clear();
    std::vector<uint32_t> size(nodes_.size(), 1);
    for (uint32_t a = 0; a < node_of_.size(); ++a) {
        const uint32_t n = node_of_[a];
        if (n == kNone) continue;
        for (uint32_t i = nodes_[n].inc; i != kNone; i = incs_[i].next) {
            Key& key = keys_[incs_[i].key];
            if (key.popular) continue;
            if (key.rep == kNone) {
                key.rep = n;
                continue;
            }
            uint32_t ra = find(n), rb = find(key.rep);
            if (ra == rb) continue;
            if (size[ra] < size[rb]) std::swap(ra, rb);
            nodes_[rb].parent = ra;
            size[ra] += size[rb];
        }
    }
    // 4. Member lists and cluster records for components of two or more accounts.
    for (uint32_t a = 0; a < node_of_.size(); ++a) {
        const uint32_t n = node_of_[a];
        if (n == kNone) continue;
        const uint32_t r = find(n);
        if (r == n) continue;
        std::swap(nodes_[n].next, nodes_[r].next);
        if (nodes_[r].cluster == kNone) {
            const uint32_t c = new_cluster(r);
            clusters_[c].accounts = 1;
            clusters_[c].vol = nodes_[r].vol;
            clusters_[c].first_seen = nodes_[r].first_seen;
            clusters_[c].last_seen = nodes_[r].last_seen;
        }
        Cluster& c = clusters_[nodes_[r].cluster];
        ++c.accounts;
        c.vol += nodes_[n].vol;
        c.first_seen = std::min(c.first_seen, nodes_[n].first_seen);
        c.last_seen = std::max(c.last_seen, nodes_[n].last_seen);
    }
    // 5. Stable ids: each old id goes to the new component holding most of its accounts
    //    (largest overlaps first); components left over get fresh ids.
    struct Overlap {
        uint32_t count;
        uint32_t cluster;
        uint64_t id;
    };
    std::vector<Overlap> overlaps;
    std::unordered_map<uint64_t, uint32_t> tally;
    for (uint32_t ci = 0; ci < clusters_.size(); ++ci) {
        tally.clear();
        const uint32_t root = clusters_[ci].root;
        uint32_t m = root;
        do {
            if (m < old_id.size() && old_id[m] != 0) ++tally[old_id[m]];
            m = nodes_[m].next;
        } while (m != root);
        for (auto [id, n] : tally)
            overlaps.push_back({n, ci, id});
    }
    std::sort(overlaps.begin(), overlaps.end(), [](const Overlap& x, const Overlap& y) {
        return x.count != y.count ? x.count > y.count : x.id < y.id;
    });
    std::unordered_map<uint64_t, uint32_t> heir;  // old id -> new cluster with most of it
    for (const Overlap& o : overlaps) {
        heir.try_emplace(o.id, o.cluster);
        if (clusters_[o.cluster].id != 0 || cluster_index_.find(o.id) != HashIndex::kNone) continue;
        clusters_[o.cluster].id = o.id;
        cluster_index_.insert(o.id, o.cluster);
    }
    for (uint32_t ci = 0; ci < clusters_.size(); ++ci) {
        Cluster& c = clusters_[ci];
        if (c.id == 0) {
            c.id = next_id_++;
            cluster_index_.insert(c.id, ci);
        }
        if (auto it = old.find(c.id); it != old.end()) {
            c.reported = it->second.reported;
            c.reported_accounts = it->second.reported_accounts;
            c.reported_requests = it->second.reported_requests;
        }
        next_id_ = std::max(next_id_, c.id + 1);
    }
    // 6. Events: closed old clusters, then per new cluster its threshold state.
    if (emit) {
        for (const auto& [id, oc] : old) {
            if (!oc.reported || cluster_index_.find(id) != HashIndex::kNone) continue;
            uint64_t into = 0;
            if (auto h = heir.find(id); h != heir.end() && clusters_[h->second].reported) {
                into = clusters_[h->second].id;
            }
            ClusterEvent e;
            e.change = ClusterChange::Closed;
            e.cluster_id = id;
            e.merged_into = into;
            events_.push_back(e);
        }
    }
    for (uint32_t ci = 0; ci < clusters_.size(); ++ci) {
        Cluster& c = clusters_[ci];
        if (c.reported && !meets(c)) {
            if (emit) events_.push_back(event(ClusterChange::Closed, c));
            c.reported = false;
            continue;
        }
        if (emit) {
            check(ci);
        } else if (meets(c)) {
            c.reported = true;  // restored: already reported before the save
        }
    }
}

std::vector<ClusterEvent> LinkState::take_events() {
    std::vector<ClusterEvent> out;
    out.swap(events_);
    return out;
}

uint64_t LinkState::cluster_of(uint32_t a) const {
    const uint32_t n = node(a);
    if (n == kNone) return 0;
    const uint32_t r = find_const(n);
    return nodes_[r].cluster == kNone ? 0 : clusters_[nodes_[r].cluster].id;
}

bool LinkState::cluster(uint64_t id, ClusterInfo& out) const {
    const uint32_t ci = cluster_index_.find(id);
    if (ci == HashIndex::kNone) return false;
    const Cluster& c = clusters_[ci];
    out = ClusterInfo{c.id, c.accounts, c.vol, c.first_seen, c.last_seen, c.reported};
    return true;
}

std::vector<uint32_t> LinkState::accounts(uint64_t id, size_t cap) const {
    std::vector<uint32_t> out;
    const uint32_t ci = cluster_index_.find(id);
    if (ci == HashIndex::kNone) return out;
    const uint32_t root = clusters_[ci].root;
    uint32_t m = root;
    do {
        if (out.size() >= cap) break;
        out.push_back(nodes_[m].account);
        m = nodes_[m].next;
    } while (m != root);
    return out;
}

std::vector<LinkState::KeyUse> LinkState::keys(uint64_t id, size_t cap) const {
    std::vector<KeyUse> out;
    const uint32_t ci = cluster_index_.find(id);
    if (ci == HashIndex::kNone) return out;
    std::unordered_map<uint32_t, uint32_t> count;
    const uint32_t root = clusters_[ci].root;
    uint32_t m = root;
    do {
        for (uint32_t i = nodes_[m].inc; i != kNone; i = incs_[i].next) {
            if (window_.live(incs_[i].last_seen, now_)) ++count[incs_[i].key];
        }
        m = nodes_[m].next;
    } while (m != root);
    for (auto [k, n] : count)
        out.push_back(KeyUse{keys_[k].spec, key_text(keys_[k]), n});
    std::sort(out.begin(), out.end(), [](const KeyUse& a, const KeyUse& b) {
        return a.accounts != b.accounts ? a.accounts > b.accounts : a.text < b.text;
    });
    if (out.size() > cap) out.resize(cap);
    return out;
}

size_t LinkState::popular_keys() const {
    size_t n = 0;
    for (const Key& k : keys_)
        n += k.used && k.popular;
    return n;
}

size_t LinkState::memory_bytes() const {
    return node_of_.capacity() * 4 + nodes_.capacity() * sizeof(Node) + free_nodes_.capacity() * 4 +
           incs_.capacity() * sizeof(Incidence) + keys_.capacity() * sizeof(Key) +
           free_keys_.capacity() * 4 + key_index_.memory_bytes() + key_parts_.capacity() * 4 +
           parts_.capacity() * sizeof(Part) + free_parts_.capacity() * 4 + part_text_.capacity() +
           part_index_.memory_bytes() + clusters_.capacity() * sizeof(Cluster) +
           free_clusters_.capacity() * 4 + cluster_index_.memory_bytes();
}

void LinkState::merge(const LinkState& o, std::span<const uint32_t> map) {
    now_ = std::max(now_, o.now_);
    if (last_rebuild_ == INT64_MIN) last_rebuild_ = o.last_rebuild_;
    for (uint32_t a = 0; a < o.node_of_.size(); ++a) {
        const uint32_t on = o.node_of_[a];
        if (on == kNone || a >= map.size() || map[a] == kNone) continue;
        const Node& y = o.nodes_[on];
        const uint32_t n = track(map[a], y.first_seen);
        Node& x = nodes_[n];
        x.vol += y.vol;
        x.first_seen = std::min(x.first_seen, y.first_seen);
        x.last_seen = std::max(x.last_seen, y.last_seen);
        for (uint32_t i = y.inc; i != kNone; i = o.incs_[i].next) {
            const Key& ok = o.keys_[o.incs_[i].key];
            // Re-key by the stored (spec-mixed) hash: the same on both sides.
            uint32_t k = key_index_.find(ok.hash);
            if (k == HashIndex::kNone) k = add_key(ok.hash, ok.spec, o.key_text(ok));
            add_incidence(n, k, o.incs_[i].last_seen);
        }
    }
    rebuild(now_);
}

void LinkState::save(StateWriter& w) const {
    w.i64(window_.length_ns);
    w.u32(cfg_.max_accounts_per_key);
    w.i64(now_);
    w.i64(last_rebuild_);
    w.u64(next_id_);
    w.u64(rebuilds_);
    // Keys, renumbered densely.
    std::vector<uint32_t> renum(keys_.size(), kNone);
    uint32_t nk = 0;
    for (uint32_t k = 0; k < keys_.size(); ++k) {
        if (keys_[k].used) renum[k] = nk++;
    }
    w.u32(nk);
    for (const Key& k : keys_) {
        if (!k.used) continue;
        w.u64(k.hash);
        w.u8(k.spec);
        w.str(key_text(k));
    }
    // Reported clusters' bookkeeping, so a restore raises no duplicate Created.
    uint32_t nc = 0;
    for (const Cluster& c : clusters_)
        nc += c.root != kNone;
    w.u32(nc);
    for (const Cluster& c : clusters_) {
        if (c.root == kNone) continue;
        w.u64(c.id);
        w.u32(c.reported_accounts);
        w.u64(c.reported_requests);
        w.u8(c.reported ? 1 : 0);
    }
    w.u32(static_cast<uint32_t>(tracked_));
    for (uint32_t a = 0; a < node_of_.size(); ++a) {
        const uint32_t n = node_of_[a];
        if (n == kNone) continue;
        const Node& x = nodes_[n];
        w.u32(a);
        w.u64(cluster_of(a));
        w.u64(x.vol.requests);
        w.u64(x.vol.client_bytes);
        w.u64(x.vol.server_bytes);
        w.i64(x.first_seen);
        w.i64(x.last_seen);
        uint32_t count = 0;
        for (uint32_t i = x.inc; i != kNone; i = incs_[i].next)
            ++count;
        w.u32(count);
        for (uint32_t i = x.inc; i != kNone; i = incs_[i].next) {
            w.u32(renum[incs_[i].key]);
            w.i64(incs_[i].last_seen);
        }
    }
}

bool LinkState::load(StateReader& r, uint32_t account_limit) {
    LinkState s(cfg_);
    const int64_t window = r.i64();
    const uint32_t max_per_key = r.u32();
    if (!r.ok() || window != window_.length_ns || max_per_key != cfg_.max_accounts_per_key)
        return false;
    s.now_ = r.i64();
    s.last_rebuild_ = r.i64();
    s.next_id_ = r.u64();
    s.rebuilds_ = r.u64();
    if ((s.now_ != INT64_MIN && !sane_time(s.now_)) ||
        (s.last_rebuild_ != INT64_MIN && !sane_time(s.last_rebuild_)) || s.next_id_ == 0 ||
        s.next_id_ > (uint64_t{1} << 62)) {
        return false;
    }
    const uint32_t nk = r.count(8 + 1 + 4);
    for (uint32_t k = 0; k < nk && r.ok(); ++k) {
        const uint64_t h = r.u64();
        const uint8_t spec = r.u8();
        const std::string text = r.str(kMaxKeyText);
        if (!r.ok() || s.key_index_.find(h) != HashIndex::kNone) return false;
        s.add_key(h, spec, text);  // numbered k: nothing is free yet
    }
    std::unordered_map<uint64_t, OldCluster> old;
    const uint32_t nc = r.count(8 + 4 + 8 + 1);
    for (uint32_t i = 0; i < nc && r.ok(); ++i) {
        const uint64_t id = r.u64();
        OldCluster oc;
        oc.reported_accounts = r.u32();
        oc.reported_requests = r.u64();
        const uint8_t rep = r.u8();
        if (id == 0 || id >= s.next_id_ || rep > 1) return false;
        oc.reported = rep == 1;
        old[id] = oc;
    }
    const uint32_t na = r.count(4 + 8 + 24 + 16 + 4, account_limit);
    std::vector<uint64_t> old_id;  // by node
    for (uint32_t i = 0; i < na && r.ok(); ++i) {
        const uint32_t a = r.u32();
        const uint64_t cid = r.u64();
        Volume v{r.u64(), r.u64(), r.u64()};
        const int64_t first = r.i64(), last = r.i64();
        const uint32_t n = r.count(12, s.keys_.size());
        if (!r.ok() || a >= account_limit || !sane_time(first) || !sane_time(last) ||
            s.node(a) != kNone || (cid != 0 && !old.count(cid))) {
            return false;
        }
        const uint32_t node = s.track(a, first);
        s.nodes_[node].vol = v;
        s.nodes_[node].last_seen = last;
        if (old_id.size() <= node) old_id.resize(node + 1, 0);
        old_id[node] = cid;
        for (uint32_t j = 0; j < n && r.ok(); ++j) {
            const uint32_t k = r.u32();
            const int64_t t = r.i64();
            if (!r.ok() || k >= s.keys_.size() || !sane_time(t)) return false;
            if (!s.add_incidence(node, k, t)) return false;  // duplicate incidence
        }
    }
    if (!r.ok() || (na != 0 && s.now_ == INT64_MIN)) return false;
    if (na != 0) {
        // Components are not saved: they follow from the incidences, and the saved cluster
        // ids map back onto them exactly as after a rebuild.
        const uint64_t rebuilds = s.rebuilds_;
        const int64_t last = s.last_rebuild_;
        s.recompute(s.now_, old_id, old, false);
        s.rebuilds_ = rebuilds;
        s.last_rebuild_ = last;
    }
    *this = std::move(s);
    return true;
}

}  // namespace sybilwatch::rules
