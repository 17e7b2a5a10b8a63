#include "fingerprint/ja4.hpp"

#include <algorithm>
#include <cstring>
#include <span>
#include <vector>

#include "fingerprint/digest_cache.hpp"
#include "fingerprint/text_hash.hpp"
#include "tls/ja4_fields.hpp"

namespace sybilwatch::fingerprint {

namespace {

bool is_sni_or_alpn(uint16_t t) {
    return t == tls::ext::ServerName || t == tls::ext::Alpn;
}

// Real lists are short (15-50 entries) and a permuting client's arrive in random order, where
// insertion sort mispredicts a branch per step. Ranking each value by counting the values
// below it is branch-free and the compiler vectorises the count: twice as fast on Chrome's
// extension list. Ties are broken by position (packed below the value), so ranks are distinct.
void sort_values(std::span<uint16_t> v) {
    constexpr size_t kRankMax = 64, kBlock = 8;
    const size_t n = v.size();
    if (n > kRankMax) {
        std::sort(v.begin(), v.end());
        return;
    }
    uint32_t keyed[kRankMax];
    const size_t padded = (n + kBlock - 1) / kBlock * kBlock;
    for (size_t i = 0; i < n; ++i)
        keyed[i] = uint32_t{v[i]} << 8 | static_cast<uint32_t>(i);
    for (size_t i = n; i < padded; ++i)
        keyed[i] = UINT32_MAX;  // above every real key: counts nothing
    for (size_t i = 0; i < n; ++i) {
        const uint32_t x = keyed[i];
        uint32_t rank = 0;
        for (size_t j = 0; j < padded; j += kBlock) {
            uint32_t below = 0;
            for (size_t k = 0; k < kBlock; ++k)
                below += keyed[j + k] < x;
            rank += below;
        }
        v[rank] = static_cast<uint16_t>(x >> 8);
    }
}

// What JA4 itself hashes, laid out as HelloLists lays out its lists (so the same part keys
// serve both forms): [n, sorted ciphers], and [n, sorted extensions without SNI and ALPN]
// [n, signature algorithms in wire order]. Each half is built only when asked for.
class SortedLists {
  public:
    void sort_ciphers(const HelloLists& l) {
        const auto ciphers = l.list(HelloLists::Ciphers);
        if (c_.size() < ciphers.size() + 1) c_.resize(ciphers.size() + 1);  // grows, then never
        c_[0] = static_cast<uint16_t>(ciphers.size());
        std::copy(ciphers.begin(), ciphers.end(), c_.begin() + 1);
        sort_values({c_.data() + 1, ciphers.size()});
        c_size_ = ciphers.size() + 1;
    }
    void sort_extensions(const HelloLists& l) {
        const auto exts = l.list(HelloLists::Extensions);
        const auto sigs = l.list(HelloLists::SignatureAlgorithms);
        if (e_.size() < exts.size() + sigs.size() + 2) e_.resize(exts.size() + sigs.size() + 2);
        uint16_t* const first = e_.data() + 1;
        uint16_t* p = std::remove_copy_if(exts.begin(), exts.end(), first, is_sni_or_alpn);
        e_[0] = static_cast<uint16_t>(p - first);
        sort_values({first, static_cast<size_t>(p - first)});
        *p++ = static_cast<uint16_t>(sigs.size());
        p = std::copy(sigs.begin(), sigs.end(), p);
        e_size_ = static_cast<size_t>(p - e_.data());
    }
    std::span<const uint16_t> ciphers_key() const { return {c_.data(), c_size_}; }
    std::span<const uint16_t> extensions_key() const { return {e_.data(), e_size_}; }

  private:
    std::vector<uint16_t> c_, e_;
    size_t c_size_ = 0, e_size_ = 0;
};

// The lists of a part key: [n, ciphers] for part b; [n, extensions] [n, signature algorithms]
// for part c.
std::span<const uint16_t> cipher_values(std::span<const uint16_t> key) {
    return key.subspan(1, key[0]);
}
struct ExtensionsPart {
    std::span<const uint16_t> exts, sigs;
    explicit ExtensionsPart(std::span<const uint16_t> key)
        : exts(key.subspan(1, key[0])), sigs(key.subspan(2 + key[0], key[1 + key[0]])) {}
};

// "xxxx,yyyy,...": the text of every JA4 list.
char* put_hex_list(char* p, std::span<const uint16_t> values) {
    for (size_t i = 0; i < values.size(); ++i) {
        if (i > 0) *p++ = ',';
        p = tls::put_hex4(p, values[i]);
    }
    return p;
}
size_t hex_list_size(std::span<const uint16_t> values) {
    return 5 * values.size();
}

// Part c's text: extensions, then "_" and the signature algorithms when there are any (the
// spec: "if there are no signature algorithms ... the string ends without an underscore").
char* put_extensions_part(char* p, const ExtensionsPart& c) {
    p = put_hex_list(p, c.exts);
    if (!c.sigs.empty()) {
        *p++ = '_';
        p = put_hex_list(p, c.sigs);
    }
    return p;
}

using Part = std::array<char, 12>;
using PartCache = ListCache<Part>;

// The per-thread text buffer a part is formatted into before hashing; only grows.
char* text_buffer(size_t n) {
    thread_local std::vector<char> buf;
    if (buf.size() < n) buf.resize(n);
    return buf.data();
}

// 12 hex characters of SHA-256 over what `format` writes (at most `bound` bytes), looked up
// first by the part's key. The key determines the text, so a hit is the hash itself.
template <typename Format>
bool hashed_part(PartCache& cache, std::span<const uint16_t> key, size_t bound, Format&& format,
                 char* out) {
    const uint64_t h = PartCache::hash(key);
    if (const Part* v = cache.find(key, h)) {
        std::memcpy(out, v->data(), v->size());
        return true;
    }
    char* const text = text_buffer(bound);
    const char* const end = format(text);
    Part v;
    if (!sha256_hex({text, static_cast<size_t>(end - text)}, v)) return false;
    cache.store_repeated(key, h, v);
    std::memcpy(out, v.data(), v.size());
    return true;
}

// Part b; zeros for an empty list (the spec's "000000000000", not the hash of "").
bool part_b(std::span<const uint16_t> key, char* out) {
    const auto ciphers = cipher_values(key);
    if (ciphers.empty()) {
        std::memset(out, '0', 12);
        return true;
    }
    thread_local PartCache cache;
    return hashed_part(
        cache, key, hex_list_size(ciphers), [&](char* p) { return put_hex_list(p, ciphers); }, out);
}

// Part c; zeros when there are no signature algorithms and no extension but SNI and ALPN.
// JA4 drops those two, so that is its empty list; ja4_o keeps them yet prints zeros too, as
// the reference implementation does (https3-301-get.pcap: ja4_ro ends "_0000", ja4_o zeros).
bool part_c(std::span<const uint16_t> key, char* out) {
    const ExtensionsPart c(key);
    if (c.sigs.empty() && std::all_of(c.exts.begin(), c.exts.end(), is_sni_or_alpn)) {
        std::memset(out, '0', 12);
        return true;
    }
    thread_local PartCache cache;
    return hashed_part(
        cache, key, hex_list_size(c.exts) + 1 + hex_list_size(c.sigs),
        [&](char* p) { return put_extensions_part(p, c); }, out);
}

// JA4's part b: SHA-256 of the sorted cipher list. That is a function of the list in any
// order, so it is also cached by the order sent, which a client keeps from one hello to the
// next (Chromium permutes its extensions only): a hit there skips the sort.
bool sorted_part_b(const HelloLists& l, SortedLists& s, char* out) {
    thread_local PartCache by_wire_order;
    const auto wire = l.counted(HelloLists::Ciphers);
    const uint64_t h = PartCache::hash(wire);
    if (const Part* v = by_wire_order.find(wire, h)) {
        std::memcpy(out, v->data(), v->size());
        return true;
    }
    s.sort_ciphers(l);
    if (!part_b(s.ciphers_key(), out)) return false;
    Part v;
    std::memcpy(v.data(), out, v.size());
    by_wire_order.store_repeated(wire, h, v);
    return true;
}

// a_ciphers_extensions[_signatures], unhashed.
void raw_text(const std::array<char, 10>& a, std::span<const uint16_t> b_key,
              std::span<const uint16_t> c_key, std::string& out) {
    const auto ciphers = cipher_values(b_key);
    const ExtensionsPart c(c_key);
    out.resize(a.size() + 2 + hex_list_size(ciphers) + hex_list_size(c.exts) + 1 +
               hex_list_size(c.sigs));
    char* p = std::copy(a.begin(), a.end(), out.data());
    *p++ = '_';
    p = put_hex_list(p, ciphers);
    *p++ = '_';
    p = put_extensions_part(p, c);
    out.resize(static_cast<size_t>(p - out.data()));
}

SortedLists& sorted_lists() {
    thread_local SortedLists s;
    return s;
}

HelloLists& thread_lists(const tls::ClientHello& ch, char transport) {
    thread_local HelloLists l;
    l.assign(ch, transport);
    return l;
}

}  // namespace

Ja4 ja4_of(const HelloLists& l, bool sorted) {
    Ja4 out;
    std::memcpy(out.text.data(), l.ja4_a().data(), l.ja4_a().size());
    out.text[10] = '_';
    out.text[23] = '_';
    char* const b = out.text.data() + 11;
    char* const c = out.text.data() + 24;
    bool ok;
    if (sorted) {
        SortedLists& s = sorted_lists();
        s.sort_extensions(l);
        ok = sorted_part_b(l, s, b) && part_c(s.extensions_key(), c);
    } else {
        ok = part_b(l.counted(HelloLists::Ciphers), b) && part_c(l.extensions_and_signatures(), c);
    }
    if (ok) out.len = out.text.size();
    return out;
}

void ja4_raw_of(const HelloLists& l, bool sorted, std::string& out) {
    if (sorted) {
        SortedLists& s = sorted_lists();
        s.sort_ciphers(l);
        s.sort_extensions(l);
        raw_text(l.ja4_a(), s.ciphers_key(), s.extensions_key(), out);
    } else {
        raw_text(l.ja4_a(), l.counted(HelloLists::Ciphers), l.extensions_and_signatures(), out);
    }
}

Ja4 ja4(const tls::ClientHello& ch, char transport) {
    return ja4_of(thread_lists(ch, transport), true);
}

Ja4Family ja4_family(const tls::ClientHello& ch, char transport, std::string* r, std::string* ro) {
    const HelloLists& l = thread_lists(ch, transport);
    Ja4Family out{ja4_of(l, true), ja4_of(l, false)};
    if (r) ja4_raw_of(l, true, *r);
    if (ro) ja4_raw_of(l, false, *ro);
    return out;
}

void ja4_variants(const tls::ClientHello& ch, char transport, std::string& r, std::string& o,
                  std::string& ro) {
    const Ja4Family f = ja4_family(ch, transport, &r, &ro);
    o.assign(f.ja4_o.view());
}

}  // namespace sybilwatch::fingerprint
