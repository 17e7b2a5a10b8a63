#include "rules/account_table.hpp"

#include <algorithm>
#include <functional>

#include "rules/window.hpp"

namespace sybilwatch::rules {

namespace {
constexpr uint32_t kAttempts = 4;  // distinct 64-bit keys tried per name on collision
}

AccountTable::AccountTable(uint32_t capacity)
    : capacity_(std::clamp<uint32_t>(capacity, 1, UINT32_MAX - 1)) {}

uint64_t AccountTable::key_of(std::string_view name, uint32_t attempt) const {
    return mix64(std::hash<std::string_view>{}(name) + attempt * 0x9e3779b97f4a7c15ULL);
}

// Two names whose 64-bit hashes collide get different keys: the second takes the next
// attempt's key. Lookups try the attempts in order and compare names.
bool AccountTable::slot_for(std::string_view name, uint64_t& key) const {
    for (uint32_t i = 0; i < kAttempts; ++i) {
        key = key_of(name, i);
        const uint32_t id = index_.find(key);
        if (id == HashIndex::kNone || names_[id] == name) return true;
    }
    return false;
}

uint32_t AccountTable::find(std::string_view name) const {
    name = name.substr(0, kMaxNameBytes);
    for (uint32_t i = 0; i < kAttempts; ++i) {
        const uint32_t id = index_.find(key_of(name, i));
        if (id == HashIndex::kNone) return kNoAccount;
        if (names_[id] == name) return id;
    }
    return kNoAccount;
}

uint32_t AccountTable::intern(std::string_view name, int64_t t) {
    t = std::clamp(t, -kMaxEventTime, kMaxEventTime);
    name = name.substr(0, kMaxNameBytes);
    if (name.empty()) return kNoAccount;
    // One hash, one probe per attempt: this runs for every observation.
    const uint64_t h = std::hash<std::string_view>{}(name);
    for (uint32_t i = 0; i < kAttempts; ++i) {
        const uint64_t key = mix64(h + i * 0x9e3779b97f4a7c15ULL);
        uint32_t id = index_.find(key);
        if (id != HashIndex::kNone) {
            if (names_[id] != name) continue;  // a 64-bit collision: next key
            last_seen_[id] = std::max(last_seen_[id], t);
            return id;
        }
        if (live_ >= capacity_) break;
        if (!free_.empty()) {
            id = free_.back();
            free_.pop_back();
        } else {
            id = static_cast<uint32_t>(names_.size());
            names_.emplace_back();
            last_seen_.push_back(0);
        }
        names_[id].assign(name);
        last_seen_[id] = t;
        index_.insert(key, id);
        ++live_;
        return id;
    }
    ++refused_;
    return kNoAccount;
}

std::string_view AccountTable::name(uint32_t id) const {
    return id < names_.size() ? std::string_view(names_[id]) : std::string_view();
}

int64_t AccountTable::last_seen(uint32_t id) const {
    return id < last_seen_.size() ? last_seen_[id] : 0;
}

size_t AccountTable::expire(int64_t now, int64_t horizon_ns) {
    // Times are kept within +-2^62 and the horizon within 2^61: the sum cannot overflow.
    const int64_t horizon = std::clamp<int64_t>(horizon_ns, 0, kMaxEventTime / 2);
    now = std::clamp(now, -kMaxEventTime, kMaxEventTime);
    size_t n = 0;
    for (uint32_t id = 0; id < names_.size(); ++id) {
        if (names_[id].empty()) continue;
        if (last_seen_[id] + horizon > now) continue;
        for (uint32_t i = 0; i < kAttempts; ++i) {
            const uint64_t key = key_of(names_[id], i);
            if (index_.find(key) == id) {
                index_.erase(key);
                break;
            }
        }
        std::string().swap(names_[id]);
        free_.push_back(id);
        --live_;
        ++n;
    }
    return n;
}

std::vector<uint32_t> AccountTable::merge(const AccountTable& o) {
    std::vector<uint32_t> map(o.names_.size(), kNoAccount);
    for (uint32_t id = 0; id < o.names_.size(); ++id) {
        if (!o.names_[id].empty()) map[id] = intern(o.names_[id], o.last_seen_[id]);
    }
    return map;
}

size_t AccountTable::memory_bytes() const {
    size_t b = names_.capacity() * sizeof(std::string) + last_seen_.capacity() * 8 +
               free_.capacity() * 4 + index_.memory_bytes();
    for (const std::string& s : names_)
        b += s.capacity() > 15 ? s.capacity() + 1 : 0;
    return b;
}

void AccountTable::save(StateWriter& w) const {
    w.u32(static_cast<uint32_t>(live_));
    for (uint32_t id = 0; id < names_.size(); ++id) {
        if (names_[id].empty()) continue;
        w.u32(id);
        w.i64(last_seen_[id]);
        w.str(names_[id]);
    }
}

bool AccountTable::load(StateReader& r) {
    AccountTable t(capacity_);
    const uint32_t n = r.count(4 + 8 + 4 + 1, capacity_);
    for (uint32_t i = 0; i < n && r.ok(); ++i) {
        const uint32_t id = r.u32();
        const int64_t seen = r.i64();
        const std::string name = r.str(kMaxNameBytes);
        // Ids are dense in practice; one far beyond the count is corruption (and would
        // allocate for nothing).
        if (!r.ok() || name.empty() || id >= capacity_ || id > 2 * size_t{n} + 1024 ||
            !sane_time(seen) || (id < t.names_.size() && !t.names_[id].empty())) {
            return false;
        }
        uint64_t key;
        if (!t.slot_for(name, key) || t.index_.find(key) != HashIndex::kNone) return false;
        if (id >= t.names_.size()) {
            t.names_.resize(id + 1);
            t.last_seen_.resize(id + 1, 0);
        }
        t.names_[id] = name;
        t.last_seen_[id] = seen;
        t.index_.insert(key, id);
        ++t.live_;
    }
    if (!r.ok()) return false;
    for (uint32_t id = static_cast<uint32_t>(t.names_.size()); id-- > 0;) {
        if (t.names_[id].empty()) t.free_.push_back(id);
    }
    *this = std::move(t);
    return true;
}

}  // namespace sybilwatch::rules
