#include "fingerprint/ja3.hpp"

#include <charconv>

#include "fingerprint/digest_cache.hpp"
#include "fingerprint/text_hash.hpp"

namespace sybilwatch::fingerprint {

namespace {

// Writes into memory sized for the worst case (every value 5 digits and a separator), so
// formatting a list is plain stores rather than a string append per number.
struct Out {
    char* p;
    void put(char c) { *p++ = c; }
    void num(unsigned v) { p = std::to_chars(p, p + 8, v).ptr; }
    void list(std::span<const uint16_t> values) {
        for (size_t i = 0; i < values.size(); ++i) {
            if (i > 0) put('-');
            num(values[i]);
        }
    }
};

HelloLists& thread_lists(const tls::ClientHello& ch) {
    thread_local HelloLists l;
    l.assign(ch, 't');  // JA3 reads no part of JA4's part a
    return l;
}

}  // namespace

void ja3_text(const HelloLists& l, std::string& out) {
    using L = HelloLists;
    const auto ciphers = l.list(L::Ciphers), exts = l.list(L::Extensions),
               groups = l.list(L::Groups), formats = l.list(L::PointFormats);
    out.resize(6 * (ciphers.size() + exts.size() + groups.size() + formats.size()) + 16);
    Out o{out.data()};
    o.num(l.legacy_version());
    o.put(',');
    o.list(ciphers);
    o.put(',');
    o.list(exts);
    o.put(',');
    o.list(groups);
    o.put(',');
    o.list(formats);
    out.resize(static_cast<size_t>(o.p - out.data()));
}

Ja3 ja3_digest(std::string_view text) {
    Ja3 out;
    if (md5_hex(text, out.hash)) out.len = out.hash.size();
    return out;
}

Ja3 ja3_of(const HelloLists& l) {
    thread_local std::string text;  // keeps its capacity
    ja3_text(l, text);
    return ja3_digest(text);
}

Ja3 ja3(const tls::ClientHello& ch, std::string& full) {
    ja3_text(thread_lists(ch), full);
    return ja3_digest(full);
}

Ja3 ja3_hash(const tls::ClientHello& ch) {
    using Cache = ListCache<std::array<char, 32>, 256>;
    thread_local Cache cache;
    const HelloLists& l = thread_lists(ch);
    // Every list JA3 is made of, and more: a key that determines the text determines the hash.
    const auto key = l.key();
    const uint64_t h = Cache::hash(key);
    Ja3 out;
    if (const auto* v = cache.find(key, h)) {
        out.hash = *v;
        out.len = 32;
        return out;
    }
    out = ja3_of(l);
    if (!out.empty()) cache.store_repeated(key, h, out.hash);
    return out;
}

}  // namespace sybilwatch::fingerprint
