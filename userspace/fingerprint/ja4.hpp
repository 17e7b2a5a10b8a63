// JA4 TLS client fingerprint (FoxIO technical_details/JA4.md, BSD-3-Clause) and its raw /
// original-order variants, computed from a parsed ClientHello.
//
//   t13d1516h2_8daaf6152771_e5627efa2ab1
//   a: transport, version, SNI d/i, cipher count, extension count, ALPN first+last
//   b: sha256 of the sorted cipher list, 12 hex    c: sha256 of the sorted extension list
//      (SNI and ALPN left out) + "_" + signature algorithms in wire order, 12 hex
#pragma once

#include <array>
#include <cstddef>
#include <string>
#include <string_view>

#include "fingerprint/hello_lists.hpp"
#include "tls/client_hello.hpp"

namespace sybilwatch::fingerprint {

// JA4's first character: the transport the ClientHello came over.
namespace ja4_transport {
inline constexpr char Tcp = 't', Quic = 'q', Dtls = 'd';
}

struct Ja4 {
    std::array<char, 36> text{};
    size_t len = 0;  // 36, or 0 when the hash could not be computed (absent, never guessed)
    std::string_view view() const { return {text.data(), len}; }
    bool empty() const { return len == 0; }
};

// From the hello's lists (HelloLists): JA4 itself when `sorted`, else ja4_o (original order,
// SNI and ALPN kept in the extension list). Parts b and c go through per-thread caches keyed on
// the lists they hash, so a client stack's parts are hashed once however its extensions are
// ordered. Allocates nothing once the per-thread buffers have grown to the longest hello.
Ja4 ja4_of(const HelloLists& lists, bool sorted);
// The text ja4_of hashes, unhashed: ja4_r when `sorted`, else ja4_ro. Overwrites `out`,
// reusing its capacity.
void ja4_raw_of(const HelloLists& lists, bool sorted, std::string& out);

// The hashed, sorted JA4 of a parsed hello.
Ja4 ja4(const tls::ClientHello& ch, char transport);

struct Ja4Family {
    Ja4 ja4;
    Ja4 ja4_o;
};

// JA4 and ja4_o from one pass over the hello's lists, and the raw strings ja4_r / ja4_ro only
// when asked for (non-null).
Ja4Family ja4_family(const tls::ClientHello& ch, char transport, std::string* r, std::string* ro);

// ja4_r (sorted, raw lists), ja4_o (original order, hashed; SNI and ALPN kept in the extension
// list) and ja4_ro (original order, raw). Each string is overwritten; its capacity is reused.
// A string is left empty if its hash could not be computed.
void ja4_variants(const tls::ClientHello& ch, char transport, std::string& r, std::string& o,
                  std::string& ro);

}  // namespace sybilwatch::fingerprint
