// ClientHello path on untrusted bytes: record extraction (TLS stream and DTLS datagram), parsing,
// JA4 with its variants, JA3. Besides memory safety, checks that the hashed and raw forms agree.
#include <array>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string>

#include "fingerprint/ja3.hpp"
#include "fingerprint/ja4.hpp"
#include "tls/client_hello.hpp"
#include "tls/record.hpp"

using namespace sybilwatch;

namespace {

void check(bool ok) {
    if (!ok) std::abort();
}

void fingerprint_hello(std::span<const uint8_t> msg, bool dtls) {
    tls::ClientHello ch;
    if (!tls::parse_client_hello(msg, dtls, ch)) return;
    (void)ch.sni();
    (void)ch.first_alpn();
    (void)ch.max_offered_version();
    const fingerprint::Ja4 j = fingerprint::ja4(ch, dtls ? 'd' : 't');
    check(j.len == 36);
    static std::string r, o, ro, full;
    fingerprint::ja4_variants(ch, dtls ? 'd' : 't', r, o, ro);
    // Part a is shared by all forms; ja4_o has the same shape as ja4.
    check(r.compare(0, 10, j.view().substr(0, 10)) == 0);
    check(ro.compare(0, 10, j.view().substr(0, 10)) == 0);
    check(o.size() == 36 && o.compare(0, 11, j.view().substr(0, 11)) == 0);
    const fingerprint::Ja3 j3 = fingerprint::ja3(ch, full);
    check(j3.len == 32);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static std::array<uint8_t, 16384> scratch;
    const std::span<const uint8_t> in(data, size);
    std::span<const uint8_t> msg;

    if (tls::extract_handshake(in, tls::handshake_type::ClientHello, scratch, msg) ==
        tls::Extract::Complete) {
        check(msg.size() >= 4 && msg[0] == tls::handshake_type::ClientHello);
        fingerprint_hello(msg, false);
    }
    if (tls::extract_dtls_client_hello(in, scratch, msg) == tls::Extract::Complete) {
        fingerprint_hello(msg, true);
    }
    // The input as a bare handshake message, too: reaches the parser without record framing.
    fingerprint_hello(in, false);
    fingerprint_hello(in, true);
    return 0;
}
