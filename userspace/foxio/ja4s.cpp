#include "foxio/ja4s.hpp"

#include <cstring>

#include "fingerprint/digest_cache.hpp"
#include "tls/grease.hpp"
#include "tls/ja4_fields.hpp"
#include "tls/text_digest.hpp"

namespace sybilwatch::foxio {

namespace {

// "t130200_1301_": the 13 characters before the extension part.
std::array<char, 13> prefix(const tls::ServerHello& sh, char transport, size_t& n_ext) {
    n_ext = 0;
    for (const tls::Extension& e : sh.extensions()) {
        if (!tls::is_grease(e.type)) ++n_ext;
    }
    const auto ver = tls::ja4_version_code(sh.version());
    const auto ne = tls::two_digits(n_ext);
    const auto alpn = tls::ja4_alpn_chars(sh.selected_alpn);
    std::array<char, 13> p{transport, ver[0], ver[1], ne[0], ne[1], alpn[0], alpn[1], '_'};
    tls::put_hex4(p.data() + 8, sh.cipher_suite);
    p[12] = '_';
    return p;
}

// Extension types in wire order, GREASE dropped (servers should not send any, RFC 8701 4).
template <typename Sink>
void put_extensions(Sink& sink, const tls::ServerHello& sh) {
    bool first = true;
    for (const tls::Extension& e : sh.extensions()) {
        if (tls::is_grease(e.type)) continue;
        if (!first) sink.put(',');
        sink.put_hex4(e.type);
        first = false;
    }
}

}  // namespace

Ja4s ja4s(const tls::ServerHello& sh, char transport) {
    Ja4s out;
    size_t n_ext = 0;
    const auto p = prefix(sh, transport, n_ext);
    std::memcpy(out.text.data(), p.data(), p.size());
    char* hash = out.text.data() + p.size();
    if (n_ext == 0) {  // an empty list prints zeros, not the hash of ""
        std::memset(hash, '0', 12);
    } else {
        // A server answers with a handful of extension lists: the hash part is cached.
        using Cache = fingerprint::DigestCache<12>;
        thread_local Cache cache;
        thread_local Cache::Key key;
        key.reset();
        for (const tls::Extension& e : sh.extensions())
            if (!tls::is_grease(e.type)) key.put(e.type);
        const uint64_t h = key.hash();
        if (const auto* v = cache.find(key, h)) {
            std::memcpy(hash, v->data(), 12);
        } else {
            tls::TextDigest d(tls::sha256_md());
            put_extensions(d, sh);
            if (!d.finish_hex({hash, 12})) return Ja4s{};
            cache.store(key, h, hash);
        }
    }
    out.len = out.text.size();
    return out;
}

void ja4s_r(const tls::ServerHello& sh, char transport, std::string& out) {
    size_t n_ext = 0;
    const auto p = prefix(sh, transport, n_ext);
    out.assign(p.data(), p.size());
    tls::StringSink s{out};
    put_extensions(s, sh);
}

}  // namespace sybilwatch::foxio
