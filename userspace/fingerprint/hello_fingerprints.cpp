#include "fingerprint/hello_fingerprints.hpp"

#include <string_view>

#include "fingerprint/digest_cache.hpp"
#include "fingerprint/hello_lists.hpp"
#include "fingerprint/ja3.hpp"
#include "fingerprint/ja4.hpp"
#include "foxio/ja4s.hpp"
#include "tls/client_hello.hpp"
#include "tls/server_hello.hpp"

namespace sybilwatch::fingerprint {

namespace {

struct ClientPrints {
    Ja4 ja4, ja4_o;
    Ja3 ja3;
};

// The hashed fingerprints of a hello's lists. Most connections repeat a client stack seen
// before, lists and order alike: one lookup of the whole lists then answers all three. A
// client that permutes its extensions (Chromium) misses here every time and pays for ja4_o's
// part c and JA3 (its JA4 and ja4_o's part b still come from the part caches in ja4.cpp); the
// cache keeps only keys seen twice, so those misses never evict the stacks that repeat.
// `ja3_full`, when the caller formatted it already, saves formatting it again.
ClientPrints client_prints(const HelloLists& lists, const std::string* ja3_full) {
    using Cache = ListCache<ClientPrints, 256>;
    thread_local Cache cache;
    const auto key = lists.key();
    const uint64_t h = Cache::hash(key);
    if (const ClientPrints* p = cache.find(key, h)) return *p;
    ClientPrints p{ja4_of(lists, true), ja4_of(lists, false),
                   ja3_full ? ja3_digest(*ja3_full) : ja3_of(lists)};
    // Only complete results: an absent value (no MD5 under FIPS) is recomputed, never cached.
    if (!p.ja4.empty() && !p.ja4_o.empty() && !p.ja3.empty()) cache.store_repeated(key, h, p);
    return p;
}

}  // namespace

bool client_hello_fingerprints(std::span<const uint8_t> msg, char transport, bool dtls, bool raw,
                               Observation& o) {
    tls::ClientHello ch;
    if (!tls::parse_client_hello(msg, dtls, ch)) return false;
    o.client_hello_seen = true;
    o.sni.assign(ch.sni());
    const auto alpn = ch.first_alpn();
    o.alpn.assign({reinterpret_cast<const char*>(alpn.data()), alpn.size()});
    if (!o.tls_version) o.tls_version = ch.max_offered_version();
    thread_local HelloLists lists;  // keeps its storage from hello to hello
    lists.assign(ch, transport);
    if (raw) {
        ja4_raw_of(lists, true, o.ja4_r);
        ja4_raw_of(lists, false, o.ja4_ro);
        ja3_text(lists, o.ja3_full);
    }
    const ClientPrints p = client_prints(lists, raw ? &o.ja3_full : nullptr);
    o.ja4.assign(p.ja4.view());
    o.ja4_o.assign(p.ja4_o.view());
    o.ja3.assign(p.ja3.view());
    return true;
}

bool server_hello_fingerprints(std::span<const uint8_t> msg, char transport, bool foxio, bool raw,
                               Observation& o) {
    tls::ServerHello sh;
    if (!tls::parse_server_hello(msg, sh)) return false;
    o.server_hello_seen = true;
    o.tls_version = sh.version();
    if (foxio) {
        o.ja4s.assign(foxio::ja4s(sh, transport).view());
        if (raw) foxio::ja4s_r(sh, transport, o.ja4s_r);
    }
    return true;
}

}  // namespace sybilwatch::fingerprint
