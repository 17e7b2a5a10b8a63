#include "fingerprint/hello_fingerprints.hpp"

#include <string_view>

#include "fingerprint/ja3.hpp"
#include "fingerprint/ja4.hpp"
#include "foxio/ja4s.hpp"
#include "tls/client_hello.hpp"
#include "tls/server_hello.hpp"

namespace sybilwatch::fingerprint {

bool client_hello_fingerprints(std::span<const uint8_t> msg, char transport, bool dtls, bool raw,
                               Observation& o) {
    tls::ClientHello ch;
    if (!tls::parse_client_hello(msg, dtls, ch)) return false;
    o.client_hello_seen = true;
    o.sni.assign(ch.sni());
    const auto alpn = ch.first_alpn();
    o.alpn.assign({reinterpret_cast<const char*>(alpn.data()), alpn.size()});
    if (!o.tls_version) o.tls_version = ch.max_offered_version();
    const Ja4Family f =
        ja4_family(ch, transport, raw ? &o.ja4_r : nullptr, raw ? &o.ja4_ro : nullptr);
    o.ja4.assign(f.ja4.view());
    o.ja4_o.assign(f.ja4_o.view());
    o.ja3.assign((raw ? ja3(ch, o.ja3_full) : ja3_hash(ch)).view());
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
