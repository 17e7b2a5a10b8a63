#include "fingerprint/ja3.hpp"

#include <charconv>

#include "fingerprint/digest_cache.hpp"
#include "tls/grease.hpp"
#include "tls/text_digest.hpp"

namespace sybilwatch::fingerprint {

namespace {

// Writes into memory sized for the worst case (every value 5 digits and a separator), so
// formatting a list is plain stores rather than a string append per number.
struct Out {
    char* p;
    void put(char c) { *p++ = c; }
    void num(unsigned v) { p = std::to_chars(p, p + 8, v).ptr; }
};

// Appends the non-GREASE values of `values` joined by '-'.
template <typename Range>
void put_list(Out& s, const Range& values) {
    bool first = true;
    for (auto v : values) {
        if (tls::is_grease(static_cast<uint16_t>(v))) continue;
        if (!first) s.put('-');
        s.num(v);
        first = false;
    }
}

struct ExtensionTypes {
    tls::ExtensionList list;
    struct iterator {
        tls::ExtensionList::iterator it;
        uint16_t operator*() const { return it->type; }
        iterator& operator++() {
            ++it;
            return *this;
        }
        bool operator==(const iterator& o) const { return it == o.it; }
    };
    iterator begin() const { return {list.begin()}; }
    iterator end() const { return {list.end()}; }
};

}  // namespace

Ja3 ja3(const tls::ClientHello& ch, std::string& full) {
    // Upper bound: each list entry takes at least one byte of the hello and prints at most six.
    const size_t bound = 6 * (ch.cipher_suites.size() + ch.extensions_block.size() +
                              ch.supported_groups.size() + ch.ec_point_formats.size()) +
                         16;
    full.resize(bound);
    Out o{full.data()};
    o.num(ch.legacy_version);
    o.put(',');
    put_list(o, ch.ciphers());
    o.put(',');
    put_list(o, ExtensionTypes{ch.extensions()});
    o.put(',');
    put_list(o, ch.supported_groups_list());
    o.put(',');
    // Point formats are single bytes: never GREASE (a GREASE value is two equal bytes 0x?a?a).
    put_list(o, ch.ec_point_formats_list());
    full.resize(static_cast<size_t>(o.p - full.data()));

    Ja3 out;
    tls::TextDigest d(tls::md5_md());
    d.put(full);
    if (d.finish_hex(out.hash)) out.len = out.hash.size();
    return out;
}

Ja3 ja3_hash(const tls::ClientHello& ch) {
    using Cache = DigestCache<32>;
    thread_local Cache cache;
    thread_local Cache::Key key;
    thread_local std::string text;
    // The key: every list JA3's text is made of, GREASE removed, in wire order.
    key.reset();
    key.put(ch.legacy_version);
    auto put = [&](const auto& list) {
        uint16_t n = 0;
        for (auto v : list)
            if (!tls::is_grease(static_cast<uint16_t>(v))) ++n;
        key.put(n);
        for (auto v : list)
            if (!tls::is_grease(static_cast<uint16_t>(v))) key.put(static_cast<uint16_t>(v));
    };
    put(ch.ciphers());
    put(ExtensionTypes{ch.extensions()});
    put(ch.supported_groups_list());
    put(ch.ec_point_formats_list());
    const uint64_t h = key.hash();
    Ja3 out;
    if (const auto* v = cache.find(key, h)) {
        out.hash = *v;
        out.len = 32;
        return out;
    }
    out = ja3(ch, text);
    if (!out.empty()) cache.store(key, h, out.hash.data());
    return out;
}

}  // namespace sybilwatch::fingerprint
