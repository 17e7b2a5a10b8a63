// ClientHello (RFC 8446 4.1.2; DTLS adds a cookie, RFC 6347 4.2.1) parsed into views of the
// message bytes: nothing is copied, so a ClientHello is only valid while those bytes are.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "tls/lists.hpp"

namespace sybilwatch::tls {

namespace ext {
inline constexpr uint16_t ServerName = 0x0000, SupportedGroups = 0x000a, EcPointFormats = 0x000b,
                          SignatureAlgorithms = 0x000d, Alpn = 0x0010, Padding = 0x0015,
                          SupportedVersions = 0x002b, KeyShare = 0x0033;
}

struct ClientHello {
    // Presence bits: an extension can be present with an empty body.
    enum Flag : uint16_t {
        HasExtensionsBlock = 1 << 0,  // the optional extensions field exists (even if empty)
        HasServerName = 1 << 1,
        HasAlpn = 1 << 2,
        HasSupportedVersions = 1 << 3,
        HasSignatureAlgorithms = 1 << 4,
        HasSupportedGroups = 1 << 5,
        HasEcPointFormats = 1 << 6,
        DuplicateExtension = 1 << 7,  // an extension type appears twice (RFC 8446 forbids it)
        TrailingData = 1 << 8,        // bytes after the extensions block, ignored
    };

    bool is_dtls = false;
    uint16_t legacy_version = 0;
    std::span<const uint8_t> random;  // 32 bytes
    std::span<const uint8_t> session_id;
    std::span<const uint8_t> cookie;               // DTLS only
    std::span<const uint8_t> cipher_suites;        // the list, without its length
    std::span<const uint8_t> compression_methods;  // the list, without its length
    std::span<const uint8_t> extensions_block;     // without its length
    uint16_t extension_count = 0;                  // all extensions, GREASE included
    uint16_t flags = 0;

    // Bodies (extension_data) of the extensions fingerprints read; the first occurrence wins.
    std::span<const uint8_t> server_name;
    std::span<const uint8_t> alpn;
    std::span<const uint8_t> supported_versions;
    std::span<const uint8_t> signature_algorithms;
    std::span<const uint8_t> supported_groups;
    std::span<const uint8_t> ec_point_formats;

    bool has(Flag f) const { return (flags & f) != 0; }
    U16List ciphers() const { return U16List(cipher_suites); }
    ExtensionList extensions() const { return ExtensionList(extensions_block); }

    // The lists inside those extensions; empty when absent or malformed.
    U16List supported_versions_list() const;                 // uint8-length list of uint16
    U16List signature_algorithms_list() const;               // uint16-length list of uint16
    U16List supported_groups_list() const;                   // uint16-length list of uint16
    std::span<const uint8_t> ec_point_formats_list() const;  // uint8-length list of uint8
    // The highest version offered: the largest non-GREASE supported_versions entry when that
    // extension lists any, else legacy_version (never the record layer's version). Numeric, as
    // JA4 and its reference implementations define it, even for DTLS codes (which count down).
    uint16_t max_offered_version() const;
    // First host_name entry of server_name (RFC 6066 3); empty when there is none.
    std::string_view sni() const;
    // First protocol of the ALPN list (RFC 7301 3.1), raw bytes; empty when there is none.
    std::span<const uint8_t> first_alpn() const;
};

// `msg` is the handshake message: type (1), 3-byte length, body. Returns false unless it is a
// well-formed ClientHello; `out` is then in an unspecified state. Bytes after the body, if any,
// are ignored.
bool parse_client_hello(std::span<const uint8_t> msg, bool is_dtls, ClientHello& out);

// Shared by the hello parsers: the first entry of an ALPN ProtocolNameList body.
std::span<const uint8_t> first_alpn_protocol(std::span<const uint8_t> alpn_body);

}  // namespace sybilwatch::tls
