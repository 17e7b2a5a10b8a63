#include "rules/account_table.hpp"

#include <algorithm>
#include <atomic>
#include <cassert>
#include <cstring>
#include <new>

#include "rules/field.hpp"
#include "rules/window.hpp"

namespace sybilwatch::rules {

namespace {

constexpr size_t kChunk = size_t{1} << 21;
static_assert(kChunk == kHugePage);

constexpr size_t entry_size(size_t name_len) {
    return (24 + name_len + 7) & ~size_t{7};
}

}  // namespace

net::IpAddress AccountFacts::network() const {
    net::IpAddress a;
    a.family = family;
    std::memcpy(a.bytes.data(), net.data(), family == 4 ? 3 : family == 6 ? 6 : 0);
    return a;
}

namespace {
// Process-wide, so a table moved into another (a restore) never shares an epoch with it.
std::atomic<uint64_t> g_epochs{0};
uint64_t next_epoch() {
    return g_epochs.fetch_add(1, std::memory_order_relaxed) + 1;
}
}  // namespace

AccountTable::AccountTable(uint32_t capacity)
    : capacity_(std::clamp<uint32_t>(capacity, 1, UINT32_MAX - 1)),
      slots_(16),
      mask_(15),
      epoch_(next_epoch()) {}

AccountTable::AccountTable(AccountTable&&) noexcept = default;
AccountTable& AccountTable::operator=(AccountTable&&) noexcept = default;
AccountTable::~AccountTable() = default;

uint64_t AccountTable::hash(std::string_view name) {
    return string_key_hash(name);
}

AccountTable::Entry* AccountTable::entry(uint32_t off) const {
    return std::launder(
        reinterpret_cast<Entry*>(chunks_[off >> kChunkBits].data() + (off & (kChunk - 1))));
}

namespace {
// Home slot from the 32 stored hash bits alone, so growing and deleting need no name.
inline size_t home(uint32_t tag, size_t mask) {
    return static_cast<size_t>((uint64_t{tag} * 0x9E3779B97F4A7C15ull) >> 32) & mask;
}
}  // namespace

void AccountTable::prefetch(uint64_t h) const {
    __builtin_prefetch(&slots_[home(static_cast<uint32_t>(h >> 32), mask_)]);
}

void AccountTable::prefetch_entry(std::string_view name, uint64_t h) const {
    const uint32_t tag = static_cast<uint32_t>(h >> 32);
    const Slot s = slots_[home(tag, mask_)];
    if (s.off == kFree || s.tag != tag) return;
    // Entries are 8-byte aligned, so a 20-30 byte name mostly ends in the next line: peek()
    // compares all of it.
    const auto* e = reinterpret_cast<const char*>(entry(s.off));
    __builtin_prefetch(e);
    __builtin_prefetch(e + sizeof(Entry) + std::min(name.size(), kMaxNameBytes) - 1);
}

AccountTable::Ref AccountTable::peek(std::string_view name, uint64_t h) const {
    if (name.empty() || name.size() > kMaxNameBytes) return {};
    const Slot s = slots_[probe(name, h)];
    if (s.off == kFree) return {};
    return {entry(s.off)->id, s.off, epoch_};
}

size_t AccountTable::probe(std::string_view name, uint64_t h) const {
    const uint32_t tag = static_cast<uint32_t>(h >> 32);
    for (size_t i = home(tag, mask_);; i = (i + 1) & mask_) {
        const Slot s = slots_[i];
        if (s.off == kFree) return i;
        if (s.tag == tag && entry(s.off)->name() == name) return i;
    }
}

uint32_t AccountTable::append(std::string_view name, uint32_t id, int64_t t,
                              const AccountFacts& facts) {
    const size_t size = entry_size(name.size());
    size_t pos = arena_end_ & (kChunk - 1);
    if (chunks_.empty() || pos == 0 || pos + size > kChunk) {
        // A new chunk; the old one's tail stays unused (counted as dead for compaction).
        const size_t next = chunks_.size();
        if (next >= kMaxChunks) return kFree;
        if (pos != 0) dead_bytes_ += kChunk - pos;
        chunks_.emplace_back();
        pos = 0;
        arena_end_ = next << kChunkBits;
    }
    const auto off = static_cast<uint32_t>(arena_end_);
    std::byte* p = chunks_.back().data() + pos;
    new (p) Entry{t, id, facts.ja4, facts.family, static_cast<uint8_t>(name.size() - 1), facts.net};
    std::memcpy(p + sizeof(Entry), name.data(), name.size());
    arena_end_ += size;
    return off;
}

void AccountTable::grow_index() {
    HugeVector<Slot> old = std::move(slots_);
    slots_.assign(old.size() * 2, Slot{});
    mask_ = slots_.size() - 1;
    for (const Slot& s : old) {
        if (s.off == kFree) continue;
        size_t i = home(s.tag, mask_);
        while (slots_[i].off != kFree)
            i = (i + 1) & mask_;
        slots_[i] = s;
    }
}

uint32_t AccountTable::add(std::string_view name, uint64_t h, int64_t t, const AccountFacts& facts,
                           uint32_t id) {
    if (id == kNoAccount) {
        if (!free_.empty()) {
            id = free_.back();
        } else {
            id = static_cast<uint32_t>(entry_of_.size());
        }
    }
    uint32_t off = append(name, id, t, facts);
    if (off == kFree) {
        compact();
        off = append(name, id, t, facts);
        if (off == kFree) return kNoAccount;
    }
    if (!free_.empty() && free_.back() == id) {
        free_.pop_back();
    } else if (id >= entry_of_.size()) {
        entry_of_.resize(size_t{id} + 1, kFree);
    }
    entry_of_[id] = off;
    if ((live_ + 1) * 4 > slots_.size() * 3) grow_index();
    size_t i = probe(name, h);
    slots_[i] = Slot{off, static_cast<uint32_t>(h >> 32)};
    ++live_;
    return id;
}

uint32_t AccountTable::intern(std::string_view name, int64_t t) {
    name = name.substr(0, kMaxNameBytes);
    return lookup(name, hash(name), t, nullptr);
}

uint32_t AccountTable::intern(std::string_view name, uint64_t h, int64_t t,
                              const AccountFacts& facts) {
    return lookup(name, h, t, &facts);
}

uint32_t AccountTable::lookup(std::string_view name, uint64_t h, int64_t t,
                              const AccountFacts* facts) {
    t = std::clamp(t, -kMaxEventTime, kMaxEventTime);
    name = name.substr(0, kMaxNameBytes);
    if (name.empty()) return kNoAccount;
    const size_t i = probe(name, h);
    if (slots_[i].off != kFree) {
        Entry* e = entry(slots_[i].off);
        e->last_seen = std::max(e->last_seen, t);
        if (facts) {
            e->ja4 = facts->ja4;
            e->family = facts->family;
            e->net = facts->net;
        }
        return e->id;
    }
    if (live_ >= capacity_) {
        ++refused_;
        return kNoAccount;
    }
    const uint32_t id = add(name, h, t, facts ? *facts : AccountFacts{}, kNoAccount);
    if (id == kNoAccount) ++refused_;
    return id;
}

uint32_t AccountTable::touch(const Ref& ref, int64_t t, const AccountFacts& facts) {
    assert(current(ref));
    Entry* e = entry(ref.off);
    e->last_seen = std::max(e->last_seen, std::clamp(t, -kMaxEventTime, kMaxEventTime));
    e->ja4 = facts.ja4;
    e->family = facts.family;
    e->net = facts.net;
    return ref.id;
}

uint32_t AccountTable::find(std::string_view name) const {
    name = name.substr(0, kMaxNameBytes);
    if (name.empty()) return kNoAccount;
    const Slot s = slots_[probe(name, hash(name))];
    return s.off == kFree ? kNoAccount : entry(s.off)->id;
}

std::string_view AccountTable::name(uint32_t id) const {
    if (id >= entry_of_.size() || entry_of_[id] == kFree) return {};
    return entry(entry_of_[id])->name();
}

void AccountTable::prefetch_id(uint32_t id, int stage) const {
    if (id >= entry_of_.size()) return;
    if (stage == 0) {
        __builtin_prefetch(&entry_of_[id]);
    } else if (entry_of_[id] != kFree) {
        __builtin_prefetch(entry(entry_of_[id]));
    }
}

int64_t AccountTable::last_seen(uint32_t id) const {
    if (id >= entry_of_.size() || entry_of_[id] == kFree) return 0;
    return entry(entry_of_[id])->last_seen;
}

AccountFacts AccountTable::facts(uint32_t id) const {
    AccountFacts f;
    if (id >= entry_of_.size() || entry_of_[id] == kFree) return f;
    const Entry* e = entry(entry_of_[id]);
    f.ja4 = e->ja4;
    f.family = e->family;
    f.net = e->net;
    return f;
}

void AccountTable::erase_slot(size_t i) {
    // Backward-shift deletion: no tombstones, so probes stay short.
    for (size_t j = (i + 1) & mask_;; j = (j + 1) & mask_) {
        if (slots_[j].off == kFree) break;
        const size_t h = home(slots_[j].tag, mask_);
        // Move j back into the hole at i unless its home lies cyclically in (i, j].
        const bool stays = (i <= j) ? (i < h && h <= j) : (i < h || h <= j);
        if (!stays) {
            slots_[i] = slots_[j];
            i = j;
        }
    }
    slots_[i] = Slot{};
}

size_t AccountTable::expire(int64_t now, int64_t horizon_ns) {
    // Times are kept within +-2^62 and the horizon within 2^61: the sum cannot overflow.
    const int64_t horizon = std::clamp<int64_t>(horizon_ns, 0, kMaxEventTime / 2);
    now = std::clamp(now, -kMaxEventTime, kMaxEventTime);
    size_t n = 0;
    for (uint32_t id = 0; id < entry_of_.size(); ++id) {
        if (entry_of_[id] == kFree) continue;
        const Entry* e = entry(entry_of_[id]);
        if (e->last_seen + horizon > now) continue;
        const std::string_view nm = e->name();
        erase_slot(probe(nm, hash(nm)));
        dead_bytes_ += entry_size(nm.size());
        entry_of_[id] = kFree;
        free_.push_back(id);
        --live_;
        ++n;
    }
    if (n > 0) epoch_ = next_epoch();  // a freed id may be handed to another name
    // Freed entries are holes in the arena: rewrite it once they are most of it.
    if (dead_bytes_ >= kChunk && dead_bytes_ * 2 > size_t{chunks_.size()} * kChunk) compact();
    return n;
}

void AccountTable::compact() {
    epoch_ = next_epoch();
    std::vector<HugeBlock> old = std::move(chunks_);
    chunks_.clear();
    arena_end_ = 0;
    dead_bytes_ = 0;
    // The slots still hold old offsets: map each through its entry's id once the ids point
    // at the new copies.
    auto old_entry = [&old](uint32_t off) {
        return std::launder(
            reinterpret_cast<const Entry*>(old[off >> kChunkBits].data() + (off & (kChunk - 1))));
    };
    for (uint32_t id = 0; id < entry_of_.size(); ++id) {
        if (entry_of_[id] == kFree) continue;
        const Entry* e = old_entry(entry_of_[id]);
        AccountFacts f;
        f.ja4 = e->ja4;
        f.family = e->family;
        f.net = e->net;
        // Never kFree: the live entries fitted in the old arena, so they fit in a fresh one.
        entry_of_[id] = append(e->name(), id, e->last_seen, f);
    }
    for (Slot& s : slots_) {
        if (s.off != kFree) s.off = entry_of_[old_entry(s.off)->id];
    }
}

std::vector<uint32_t> AccountTable::merge(const AccountTable& o) {
    std::vector<uint32_t> map(o.entry_of_.size(), kNoAccount);
    for (uint32_t id = 0; id < o.entry_of_.size(); ++id) {
        if (o.entry_of_[id] == kFree) continue;
        const Entry* e = o.entry(o.entry_of_[id]);
        const std::string_view nm = e->name();
        map[id] = lookup(nm, hash(nm), e->last_seen, nullptr);
    }
    return map;
}

size_t AccountTable::memory_bytes() const {
    return chunks_.size() * kChunk + chunks_.capacity() * sizeof(chunks_[0]) +
           entry_of_.capacity() * 4 + free_.capacity() * 4 + slots_.capacity() * sizeof(Slot);
}

void AccountTable::save(StateWriter& w) const {
    w.u32(static_cast<uint32_t>(live_));
    for (uint32_t id = 0; id < entry_of_.size(); ++id) {
        if (entry_of_[id] == kFree) continue;
        const Entry* e = entry(entry_of_[id]);
        w.u32(id);
        w.i64(e->last_seen);
        w.str(e->name());
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
            !sane_time(seen) || (id < t.entry_of_.size() && t.entry_of_[id] != kFree)) {
            return false;
        }
        const uint64_t h = hash(name);
        if (t.slots_[t.probe(name, h)].off != kFree) return false;  // a name twice
        if (t.add(name, h, seen, AccountFacts{}, id) != id) return false;
    }
    if (!r.ok()) return false;
    for (uint32_t id = static_cast<uint32_t>(t.entry_of_.size()); id-- > 0;) {
        if (t.entry_of_[id] == kFree) t.free_.push_back(id);
    }
    *this = std::move(t);  // t's epoch, new
    return true;
}

}  // namespace sybilwatch::rules
