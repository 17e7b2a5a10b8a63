// ServerHello path on untrusted bytes: record extraction, parsing, JA4S and JA4S_r.
#include <array>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string>

#include "foxio/ja4s.hpp"
#include "tls/record.hpp"
#include "tls/server_hello.hpp"

using namespace sybilwatch;

namespace {

void fingerprint(std::span<const uint8_t> msg) {
    tls::ServerHello sh;
    if (!tls::parse_server_hello(msg, sh)) return;
    const foxio::Ja4s j = foxio::ja4s(sh, 't');
    static std::string r;
    foxio::ja4s_r(sh, 't', r);
    // The hashed and raw forms share the 13-character prefix.
    if (j.len != 25 || r.compare(0, 13, j.view().substr(0, 13)) != 0) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static std::array<uint8_t, 16384> scratch;
    const std::span<const uint8_t> in(data, size);
    std::span<const uint8_t> msg;
    if (tls::extract_handshake(in, tls::handshake_type::ServerHello, scratch, msg) ==
        tls::Extract::Complete) {
        fingerprint(msg);
    }
    if (tls::extract_dtls_handshake(in, tls::handshake_type::ServerHello, scratch, msg) ==
        tls::Extract::Complete) {
        fingerprint(msg);
    }
    fingerprint(in);
    return 0;
}
