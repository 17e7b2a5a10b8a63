// ServerHello (RFC 8446 4.1.3; the DTLS 1.2 layout is the same) parsed into views of the
// message bytes. A HelloRetryRequest is a ServerHello with a fixed random; it parses the same
// way and is flagged.
#pragma once

#include <cstdint>
#include <span>

#include "tls/lists.hpp"

namespace sybilwatch::tls {

struct ServerHello {
    uint16_t legacy_version = 0;
    std::span<const uint8_t> random;  // 32 bytes
    std::span<const uint8_t> session_id;
    uint16_t cipher_suite = 0;
    uint8_t compression_method = 0;
    std::span<const uint8_t> extensions_block;  // without its length; empty when absent
    uint16_t extension_count = 0;               // all extensions, GREASE included
    bool has_extensions_block = false;
    bool hello_retry_request = false;  // random is SHA-256("HelloRetryRequest")
    bool trailing_data = false;        // bytes after the extensions block, ignored

    // supported_versions (RFC 8446 4.2.1): the version the server selected, when present and
    // well-formed.
    bool has_selected_version = false;
    uint16_t selected_version = 0;
    // ALPN (RFC 7301 3.1): the single protocol the server selected, raw bytes; empty if none.
    bool has_alpn = false;
    std::span<const uint8_t> selected_alpn;

    ExtensionList extensions() const { return ExtensionList(extensions_block); }
    // The version in effect: selected_version when present, else legacy_version.
    uint16_t version() const { return has_selected_version ? selected_version : legacy_version; }
};

// `msg` is the handshake message: type (2), 3-byte length, body. Returns false unless it is a
// well-formed ServerHello.
bool parse_server_hello(std::span<const uint8_t> msg, ServerHello& out);

}  // namespace sybilwatch::tls
