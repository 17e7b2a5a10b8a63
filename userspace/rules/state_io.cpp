#include "rules/state_io.hpp"

#include <cstring>
#include <memory>
#include <optional>

namespace sybilwatch::rules {

namespace {

constexpr char kMagic[8] = {'S', 'W', 'R', 'U', 'L', 'E', 'S', 'T'};
constexpr size_t kHeader = 8 + 4 + 8 + 8;

uint64_t fnv1a(std::span<const uint8_t> b) {
    uint64_t h = 0xcbf29ce484222325ULL;
    for (uint8_t c : b) {
        h ^= c;
        h *= 0x100000001b3ULL;
    }
    return h;
}

uint8_t kind_of(const RuleStateRef& r) {
    return static_cast<uint8_t>(r.state.index());
}

// A rule's record loaded into a fresh state of the same configuration.
using Loaded = std::variant<std::monostate, AggregateState, LinkState, SynchronyState>;

Loaded load_record(const RuleStateRef& ref, std::span<const uint8_t> rec, uint32_t account_limit) {
    StateReader r(rec);
    Loaded out;
    bool ok = false;
    if (auto* a = std::get_if<AggregateState*>(&ref.state)) {
        auto& s = out.emplace<AggregateState>((*a)->config());
        ok = s.load(r);
    } else if (auto* l = std::get_if<LinkState*>(&ref.state)) {
        auto& s = out.emplace<LinkState>((*l)->config());
        ok = s.load(r, account_limit);
    } else if (auto* y = std::get_if<SynchronyState*>(&ref.state)) {
        auto& s = out.emplace<SynchronyState>((*y)->config());
        ok = s.load(r, account_limit);
    }
    if (!ok || r.remaining() != 0) return std::monostate{};
    return out;
}

struct Parsed {
    std::unique_ptr<AccountTable> accounts;
    std::vector<std::pair<size_t, Loaded>> states;  // index into rules, loaded state
    std::vector<std::string> skipped;
};

std::optional<Parsed> parse(std::span<const uint8_t> bytes, uint32_t capacity,
                            std::span<const RuleStateRef> rules, std::string& error) {
    if (bytes.size() < kHeader || std::memcmp(bytes.data(), kMagic, 8) != 0) {
        error = "not a sybilwatch rule-state snapshot";
        return std::nullopt;
    }
    StateReader h(bytes.subspan(8, kHeader - 8));
    const uint32_t version = h.u32();
    const uint64_t len = h.u64();
    const uint64_t sum = h.u64();
    if (version != kStateVersion) {
        error = "unsupported rule-state version " + std::to_string(version);
        return std::nullopt;
    }
    if (len != bytes.size() - kHeader) {
        error = "rule-state snapshot truncated or padded";
        return std::nullopt;
    }
    const auto payload = bytes.subspan(kHeader);
    if (fnv1a(payload) != sum) {
        error = "rule-state snapshot checksum mismatch";
        return std::nullopt;
    }
    StateReader r(payload);
    Parsed p;
    p.accounts = std::make_unique<AccountTable>(capacity);
    if (!p.accounts->load(r)) {
        error = "corrupt account table";
        return std::nullopt;
    }
    const uint32_t n = r.count(4 + 1 + 4);
    std::vector<bool> seen(rules.size(), false);
    for (uint32_t i = 0; i < n && r.ok(); ++i) {
        const std::string id = r.str(256);
        const uint8_t kind = r.u8();
        const uint32_t rec_len = r.u32();
        const auto rec = r.bytes(rec_len);
        if (!r.ok()) break;
        size_t j = 0;
        while (j < rules.size() && rules[j].rule != id)
            ++j;
        if (j == rules.size() || seen[j]) continue;  // rule gone (or listed twice): ignored
        seen[j] = true;
        if (kind != kind_of(rules[j])) {
            p.skipped.push_back(id);
            continue;
        }
        Loaded s = load_record(rules[j], rec, p.accounts->id_limit());
        if (std::holds_alternative<std::monostate>(s)) {
            p.skipped.push_back(id);
            continue;
        }
        p.states.emplace_back(j, std::move(s));
    }
    if (!r.ok() || r.remaining() != 0) {
        error = "corrupt rule-state payload";
        return std::nullopt;
    }
    return p;
}

}  // namespace

std::vector<uint8_t> save_state(const AccountTable& accounts, std::span<const RuleStateRef> rules) {
    std::vector<uint8_t> payload;
    StateWriter w(payload);
    accounts.save(w);
    w.u32(static_cast<uint32_t>(rules.size()));
    std::vector<uint8_t> rec;
    for (const RuleStateRef& ref : rules) {
        rec.clear();
        StateWriter rw(rec);
        std::visit([&](const auto* s) { s->save(rw); }, ref.state);
        w.str(ref.rule);
        w.u8(kind_of(ref));
        w.u32(static_cast<uint32_t>(rec.size()));
        w.bytes(rec);
    }
    std::vector<uint8_t> out;
    StateWriter hw(out);
    for (char c : kMagic)
        hw.u8(static_cast<uint8_t>(c));
    hw.u32(kStateVersion);
    hw.u64(payload.size());
    hw.u64(fnv1a(payload));
    hw.bytes(payload);
    return out;
}

StateIoResult restore_state(std::span<const uint8_t> bytes, AccountTable& accounts,
                            std::span<const RuleStateRef> rules) {
    StateIoResult res;
    auto p = parse(bytes, accounts.capacity(), rules, res.error);
    if (!p) return res;
    accounts = std::move(*p->accounts);
    for (auto& entry : p->states) {
        const RuleStateRef& ref = rules[entry.first];
        std::visit(
            [&ref](auto& loaded) {
                using T = std::decay_t<decltype(loaded)>;
                if constexpr (!std::is_same_v<T, std::monostate>) {
                    *std::get<T*>(ref.state) = std::move(loaded);
                }
            },
            entry.second);
    }
    res.rules = p->states.size();
    res.skipped = std::move(p->skipped);
    res.ok = true;
    return res;
}

StateIoResult merge_state(std::span<const uint8_t> bytes, AccountTable& accounts,
                          std::span<const RuleStateRef> rules) {
    StateIoResult res;
    auto p = parse(bytes, UINT32_MAX - 1, rules, res.error);
    if (!p) return res;
    const std::vector<uint32_t> map = accounts.merge(*p->accounts);
    for (auto& [j, s] : p->states) {
        if (auto* a = std::get_if<AggregateState>(&s))
            std::get<AggregateState*>(rules[j].state)->merge(*a);
        if (auto* l = std::get_if<LinkState>(&s))
            std::get<LinkState*>(rules[j].state)->merge(*l, map);
        if (auto* y = std::get_if<SynchronyState>(&s)) {
            std::get<SynchronyState*>(rules[j].state)->merge(*y, map);
        }
    }
    res.rules = p->states.size();
    res.skipped = std::move(p->skipped);
    res.ok = true;
    return res;
}

}  // namespace sybilwatch::rules
