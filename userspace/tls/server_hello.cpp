#include "tls/server_hello.hpp"

#include <algorithm>

#include "tls/client_hello.hpp"
#include "tls/reader.hpp"
#include "tls/record.hpp"

namespace sybilwatch::tls {

namespace {

// RFC 8446 4.1.3: SHA-256 of "HelloRetryRequest".
constexpr uint8_t kHelloRetryRandom[32] = {
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c};

}  // namespace

bool parse_server_hello(std::span<const uint8_t> msg, ServerHello& out) {
    out = ServerHello{};
    Reader m(msg);
    if (m.u8() != handshake_type::ServerHello) return false;
    auto body = m.bytes(m.u24());
    if (!m.ok()) return false;

    Reader r(body);
    out.legacy_version = r.u16();
    out.random = r.bytes(32);
    out.session_id = r.vec8();
    out.cipher_suite = r.u16();
    out.compression_method = r.u8();
    if (!r.ok() || out.session_id.size() > 32) return false;
    out.hello_retry_request = std::equal(out.random.begin(), out.random.end(), kHelloRetryRandom);
    if (r.empty()) return true;

    out.has_extensions_block = true;
    out.extensions_block = r.vec16();
    if (!r.ok()) return false;
    out.trailing_data = !r.empty();

    Reader e(out.extensions_block);
    while (!e.empty()) {
        const uint16_t type = e.u16();
        auto data = e.vec16();
        if (!e.ok()) return false;
        ++out.extension_count;
        if (type == ext::SupportedVersions && !out.has_selected_version && data.size() == 2) {
            out.has_selected_version = true;
            out.selected_version = load_u16(data.data());
        } else if (type == ext::Alpn && !out.has_alpn) {
            out.has_alpn = true;
            out.selected_alpn = first_alpn_protocol(data);
        }
    }
    return true;
}

}  // namespace sybilwatch::tls
