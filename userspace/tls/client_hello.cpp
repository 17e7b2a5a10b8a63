#include "tls/client_hello.hpp"

#include "tls/grease.hpp"
#include "tls/reader.hpp"
#include "tls/record.hpp"

namespace sybilwatch::tls {

namespace {

// Records the body of an extension fingerprints need; the first occurrence wins so a
// duplicate cannot override what the server would have acted on.
void keep(ClientHello& ch, ClientHello::Flag flag, std::span<const uint8_t>& slot,
          std::span<const uint8_t> body) {
    if (ch.has(flag)) {
        ch.flags |= ClientHello::DuplicateExtension;
        return;
    }
    ch.flags |= flag;
    slot = body;
}

}  // namespace

bool parse_client_hello(std::span<const uint8_t> msg, bool is_dtls, ClientHello& out) {
    out = ClientHello{};
    out.is_dtls = is_dtls;
    Reader m(msg);
    if (m.u8() != handshake_type::ClientHello) return false;
    auto body = m.bytes(m.u24());
    if (!m.ok()) return false;

    Reader r(body);
    out.legacy_version = r.u16();
    out.random = r.bytes(32);
    out.session_id = r.vec8();
    if (is_dtls) out.cookie = r.vec8();
    out.cipher_suites = r.vec16();
    out.compression_methods = r.vec8();
    if (!r.ok() || out.session_id.size() > 32 || out.cipher_suites.size() % 2 != 0) return false;
    if (r.empty()) return true;  // extensions are optional (pre-TLS 1.2 clients)

    out.flags |= ClientHello::HasExtensionsBlock;
    out.extensions_block = r.vec16();
    if (!r.ok()) return false;
    if (!r.empty()) out.flags |= ClientHello::TrailingData;

    Reader e(out.extensions_block);
    while (!e.empty()) {
        const uint16_t type = e.u16();
        auto data = e.vec16();
        if (!e.ok()) return false;
        ++out.extension_count;
        switch (type) {
            case ext::ServerName:
                keep(out, ClientHello::HasServerName, out.server_name, data);
                break;
            case ext::Alpn:
                keep(out, ClientHello::HasAlpn, out.alpn, data);
                break;
            case ext::SupportedVersions:
                keep(out, ClientHello::HasSupportedVersions, out.supported_versions, data);
                break;
            case ext::SignatureAlgorithms:
                keep(out, ClientHello::HasSignatureAlgorithms, out.signature_algorithms, data);
                break;
            case ext::SupportedGroups:
                keep(out, ClientHello::HasSupportedGroups, out.supported_groups, data);
                break;
            case ext::EcPointFormats:
                keep(out, ClientHello::HasEcPointFormats, out.ec_point_formats, data);
                break;
            default:
                break;
        }
    }
    return true;
}

U16List ClientHello::supported_versions_list() const {
    Reader r(supported_versions);
    auto list = r.vec8();
    return r.ok() ? U16List(list) : U16List();
}

U16List ClientHello::signature_algorithms_list() const {
    Reader r(signature_algorithms);
    auto list = r.vec16();
    return r.ok() ? U16List(list) : U16List();
}

U16List ClientHello::supported_groups_list() const {
    Reader r(supported_groups);
    auto list = r.vec16();
    return r.ok() ? U16List(list) : U16List();
}

std::span<const uint8_t> ClientHello::ec_point_formats_list() const {
    Reader r(ec_point_formats);
    auto list = r.vec8();
    return r.ok() ? list : std::span<const uint8_t>();
}

uint16_t ClientHello::max_offered_version() const {
    bool any = false;
    uint16_t best = 0;
    for (uint16_t v : supported_versions_list()) {
        if (is_grease(v)) continue;
        if (!any || v > best) best = v;
        any = true;
    }
    return any ? best : legacy_version;
}

std::string_view ClientHello::sni() const {
    Reader r(server_name);
    Reader list(r.vec16());
    if (!r.ok()) return {};
    while (!list.empty()) {
        const uint8_t name_type = list.u8();
        auto name = list.vec16();
        if (!list.ok()) return {};
        if (name_type == 0 /* host_name */) {
            return {reinterpret_cast<const char*>(name.data()), name.size()};
        }
    }
    return {};
}

std::span<const uint8_t> first_alpn_protocol(std::span<const uint8_t> alpn_body) {
    Reader r(alpn_body);
    Reader list(r.vec16());
    auto first = list.vec8();
    return r.ok() && list.ok() ? first : std::span<const uint8_t>();
}

std::span<const uint8_t> ClientHello::first_alpn() const {
    return first_alpn_protocol(alpn);
}

}  // namespace sybilwatch::tls
