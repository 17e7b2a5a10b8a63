#include "fingerprint/ja4.hpp"

#include <algorithm>
#include <cstring>
#include <span>
#include <vector>

#include "fingerprint/digest_cache.hpp"
#include "tls/grease.hpp"
#include "tls/ja4_fields.hpp"
#include "tls/text_digest.hpp"

namespace sybilwatch::fingerprint {

namespace {

using tls::ClientHello;

constexpr size_t kInline = 256;

// The non-GREASE values of one list. Real hellos carry far fewer than kInline entries; a
// longer (hostile) list spills into a per-thread vector that keeps its capacity.
class Values {
  public:
    Values(size_t capacity, std::vector<uint16_t>& spill) : cap_(capacity) {
        if (capacity <= kInline) {
            data_ = inline_;
        } else {
            if (spill.size() < capacity) spill.resize(capacity);
            data_ = spill.data();
        }
    }
    Values(const Values&) = delete;
    Values& operator=(const Values&) = delete;

    // The capacity comes from the parser's counts; the check only guards against a
    // hand-assembled ClientHello whose counts disagree with its bytes.
    void push(uint16_t v) {
        if (n_ < cap_) data_[n_++] = v;
    }
    std::span<uint16_t> span() { return {data_, n_}; }
    std::span<const uint16_t> span() const { return {data_, n_}; }
    size_t size() const { return n_; }
    void resize_down(size_t n) { n_ = std::min(n, n_); }

  private:
    uint16_t inline_[kInline];
    uint16_t* data_;
    size_t cap_;
    size_t n_ = 0;
};

std::vector<uint16_t>& spill(int which) {
    thread_local std::vector<uint16_t> buffers[3];
    return buffers[which];
}

bool is_sni_or_alpn(uint16_t t) {
    return t == tls::ext::ServerName || t == tls::ext::Alpn;
}

// Real lists are short (15-30 entries): insertion sort beats std::sort's setup there.
void sort_values(std::span<uint16_t> v) {
    if (v.size() > 64) {
        std::sort(v.begin(), v.end());
        return;
    }
    for (size_t i = 1; i < v.size(); ++i) {
        const uint16_t x = v[i];
        size_t j = i;
        for (; j > 0 && v[j - 1] > x; --j)
            v[j] = v[j - 1];
        v[j] = x;
    }
}

// Everything JA4 reads from the ClientHello, GREASE removed, in wire order.
struct Parts {
    std::array<char, 10> a{};
    Values ciphers;
    Values exts;  // SNI and ALPN included
    Values sigs;

    Parts(const ClientHello& ch, char transport)
        : Parts(ch, transport, ch.signature_algorithms_list()) {}

    Parts(const ClientHello& ch, char transport, tls::U16List sig_list)
        : ciphers(ch.cipher_suites.size() / 2, spill(0)),
          exts(ch.extension_count, spill(1)),
          sigs(sig_list.size(), spill(2)) {
        for (uint16_t c : ch.ciphers()) {
            if (!tls::is_grease(c)) ciphers.push(c);
        }
        for (const tls::Extension& e : ch.extensions()) {
            if (!tls::is_grease(e.type)) exts.push(e.type);
        }
        for (uint16_t s : sig_list) {
            if (!tls::is_grease(s)) sigs.push(s);
        }
        const auto ver = tls::ja4_version_code(ch.max_offered_version());
        const auto nc = tls::two_digits(ciphers.size());
        const auto ne = tls::two_digits(exts.size());
        const auto alpn = tls::ja4_alpn_chars(ch.first_alpn());
        a = {transport, ver[0], ver[1], ch.has(ClientHello::HasServerName) ? 'd' : 'i',
             nc[0],     nc[1],  ne[0],  ne[1],
             alpn[0],   alpn[1]};
    }

    // True when the sorted extension part (SNI/ALPN dropped, plus signature algorithms) is
    // empty: JA4 then prints zeros for part c.
    bool sorted_c_empty() const {
        return sigs.size() == 0 &&
               std::all_of(exts.span().begin(), exts.span().end(), is_sni_or_alpn);
    }

    // Sorts the ciphers and drops SNI/ALPN from the extensions, then sorts them: the
    // representation JA4 and ja4_r hash or print.
    void sort_for_ja4() {
        sort_values(ciphers.span());
        auto e = exts.span();
        auto end = std::remove_if(e.begin(), e.end(), is_sni_or_alpn);
        exts.resize_down(static_cast<size_t>(end - e.begin()));
        sort_values(exts.span());
    }
};

// Part c's text: extensions, then "_" and the signature algorithms when there are any (the
// spec: "if there are no signature algorithms ... the string ends without an underscore").
template <typename Sink>
void put_extensions_part(Sink& sink, const Parts& p) {
    sink.put_hex_list(p.exts.span());
    if (p.sigs.size() > 0) {
        sink.put('_');
        sink.put_hex_list(p.sigs.span());
    }
}

// 12 hex characters of SHA-256 over what `write` produces, or zeros when `zero` is set (an
// empty list: the spec's "000000000000", not the hash of the empty string).
template <typename Write>
bool hash12(bool zero, char* out, Write&& write) {
    if (zero) {
        std::memset(out, '0', 12);
        return true;
    }
    tls::TextDigest d(tls::sha256_md());
    write(d);
    return d.finish_hex({out, 12});
}

// a_b_c with b and c hashed; `c_zero` decides when c is zeros.
bool format_hashed(const Parts& p, bool c_zero, std::array<char, 36>& out) {
    std::memcpy(out.data(), p.a.data(), p.a.size());
    out[10] = '_';
    out[23] = '_';
    return hash12(p.ciphers.size() == 0, out.data() + 11,
                  [&](auto& d) { d.put_hex_list(p.ciphers.span()); }) &&
           hash12(c_zero, out.data() + 24, [&](auto& d) { put_extensions_part(d, p); });
}

void format_raw(const Parts& p, std::string& out) {
    out.assign(p.a.data(), p.a.size());
    tls::StringSink s{out};
    s.put('_');
    s.put_hex_list(p.ciphers.span());
    s.put('_');
    put_extensions_part(s, p);
}

}  // namespace

Ja4 ja4(const ClientHello& ch, char transport) {
    Parts p(ch, transport);
    p.sort_for_ja4();
    Ja4 out;
    if (format_hashed(p, p.exts.size() == 0 && p.sigs.size() == 0, out.text)) out.len = 36;
    return out;
}

namespace {

using Ja4Cache = DigestCache<36>;

// The cache key of a hashed JA4 form: part a and the three lists as they will be hashed.
void key_of(const Parts& p, Ja4Cache::Key& k) {
    k.reset();
    for (size_t i = 0; i < p.a.size(); i += 2)
        k.put(static_cast<uint16_t>(uint8_t(p.a[i]) << 8 | uint8_t(p.a[i + 1])));
    k.put(p.ciphers.span());
    k.put(p.exts.span());
    k.put(p.sigs.span());
}

// format_hashed through a cache: most hellos repeat their client stack's lists.
bool hashed_cached(Ja4Cache& cache, const Parts& p, bool c_zero, Ja4& out) {
    thread_local Ja4Cache::Key key;
    key_of(p, key);
    const uint64_t h = key.hash();
    if (const auto* v = cache.find(key, h)) {
        out.text = *v;
        out.len = 36;
        return true;
    }
    if (!format_hashed(p, c_zero, out.text)) return false;
    out.len = 36;
    cache.store(key, h, out.text.data());
    return true;
}

}  // namespace

Ja4Family ja4_family(const ClientHello& ch, char transport, std::string* r, std::string* ro) {
    thread_local Ja4Cache original_order, sorted;
    Parts p(ch, transport);
    Ja4Family out;
    // Original order first. Part c of ja4_o is zeros exactly when JA4's is, even though its
    // list keeps SNI and ALPN: that is what the reference implementation prints for a hello
    // whose only extensions are SNI/ALPN (https3-301-get.pcap: ja4_ro ends "_0000", ja4_o in
    // zeros).
    if (ro) format_raw(p, *ro);
    hashed_cached(original_order, p, p.sorted_c_empty(), out.ja4_o);
    p.sort_for_ja4();
    hashed_cached(sorted, p, p.exts.size() == 0 && p.sigs.size() == 0, out.ja4);
    if (r) format_raw(p, *r);
    return out;
}

void ja4_variants(const ClientHello& ch, char transport, std::string& r, std::string& o,
                  std::string& ro) {
    const Ja4Family f = ja4_family(ch, transport, &r, &ro);
    o.assign(f.ja4_o.view());
}

}  // namespace sybilwatch::fingerprint
