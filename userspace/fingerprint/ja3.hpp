// JA3 TLS client fingerprint (Salesforce, 2017): the decimal text
//   SSLVersion,Ciphers,Extensions,EllipticCurves,EcPointFormats
// with '-' between list entries, wire order, GREASE removed from every list, version = the
// ClientHello's legacy_version; ja3 is the MD5 of that text.
#pragma once

#include <array>
#include <cstddef>
#include <string>
#include <string_view>

#include "fingerprint/hello_lists.hpp"
#include "tls/client_hello.hpp"

namespace sybilwatch::fingerprint {

struct Ja3 {
    std::array<char, 32> hash{};
    size_t len = 0;  // 32, or 0 when MD5 is unavailable (a FIPS-only provider)
    std::string_view view() const { return {hash.data(), len}; }
    bool empty() const { return len == 0; }
};

// The JA3 text (ja3_full) of the hello's lists, into `out` (overwritten, capacity reused).
void ja3_text(const HelloLists& lists, std::string& out);
// The MD5 of a JA3 text.
Ja3 ja3_digest(std::string_view text);
// Both: the hash of the lists' text, formatted in a per-thread buffer.
Ja3 ja3_of(const HelloLists& lists);

// Writes the JA3 text (ja3_full) into `full`, overwriting it and reusing its capacity, and
// returns its MD5.
Ja3 ja3(const tls::ClientHello& ch, std::string& full);

// The hash alone, through a per-thread cache of recent client stacks (the text is built only
// on a miss).
Ja3 ja3_hash(const tls::ClientHello& ch);

}  // namespace sybilwatch::fingerprint
