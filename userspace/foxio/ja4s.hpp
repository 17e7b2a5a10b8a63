// JA4S TLS server fingerprint (FoxIO technical_details/JA4S.md). FoxIO License 1.1: this module
// is kept apart from the BSD-licensed JA4 code and can be switched off at run time.
//
//   t130200_1301_234ea6891581
//   transport, version, extension count, ALPN first+last _ chosen cipher (4 hex)
//   _ sha256 of the extension types in wire order, 12 hex
#pragma once

#include <array>
#include <cstddef>
#include <string>
#include <string_view>

#include "tls/server_hello.hpp"

namespace sybilwatch::foxio {

struct Ja4s {
    std::array<char, 25> text{};
    size_t len = 0;  // 25, or 0 when the hash could not be computed
    std::string_view view() const { return {text.data(), len}; }
    bool empty() const { return len == 0; }
};

// `transport` is 't' (TCP), 'q' (QUIC) or 'd' (DTLS). No heap allocation.
Ja4s ja4s(const tls::ServerHello& sh, char transport);

// ja4s_r: the same with the raw extension list; overwrites `out`, reusing its capacity.
void ja4s_r(const tls::ServerHello& sh, char transport, std::string& out);

}  // namespace sybilwatch::foxio
