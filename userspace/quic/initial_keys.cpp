#include "quic/initial_keys.hpp"

#include <openssl/core_names.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include <memory>
#include <string_view>

namespace sybilwatch::quic {

namespace {

struct KdfDeleter {
    void operator()(EVP_KDF* k) const { EVP_KDF_free(k); }
};
struct KdfCtxDeleter {
    void operator()(EVP_KDF_CTX* c) const { EVP_KDF_CTX_free(c); }
};
using KdfCtx = std::unique_ptr<EVP_KDF_CTX, KdfCtxDeleter>;

// Fetched once: an implicit fetch on every derivation would take the provider lock each time.
EVP_KDF* hkdf() {
    static const std::unique_ptr<EVP_KDF, KdfDeleter> kdf(EVP_KDF_fetch(nullptr, "HKDF", nullptr));
    return kdf.get();
}

// One HKDF context per thread, its digest set once: setting the digest by name fetches it
// again, which used to cost more than the HMACs themselves. Each derivation then only passes
// mode, key and salt or info (each replaces its previous value).
EVP_KDF_CTX* thread_ctx() {
    static char sha256[] = "SHA256";
    thread_local const KdfCtx ctx = [] {
        EVP_KDF* kdf = hkdf();
        KdfCtx c(kdf != nullptr ? EVP_KDF_CTX_new(kdf) : nullptr);
        const OSSL_PARAM params[] = {
            OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, sha256, 0),
            OSSL_PARAM_construct_end(),
        };
        if (c && EVP_KDF_CTX_set_params(c.get(), params) != 1) c.reset();
        return c;
    }();
    return ctx.get();
}

bool hkdf_extract(EVP_KDF_CTX* ctx, std::span<const uint8_t> salt, std::span<const uint8_t> ikm,
                  std::span<uint8_t> prk) {
    int mode = EVP_KDF_HKDF_MODE_EXTRACT_ONLY;
    // A zero-length DCID is legal on the wire; OpenSSL wants a non-null pointer regardless.
    static const uint8_t kEmpty = 0;
    const OSSL_PARAM params[] = {
        OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY,
                                          const_cast<uint8_t*>(ikm.empty() ? &kEmpty : ikm.data()),
                                          ikm.size()),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, const_cast<uint8_t*>(salt.data()),
                                          salt.size()),
        OSSL_PARAM_construct_end(),
    };
    return EVP_KDF_derive(ctx, prk.data(), prk.size(), params) == 1;
}

// HKDF-Expand-Label (RFC 8446 §7.1) with an empty context, as QUIC always uses.
bool hkdf_expand_label(EVP_KDF_CTX* ctx, std::span<const uint8_t> secret, std::string_view label,
                       std::span<uint8_t> out) {
    static constexpr std::string_view kPrefix = "tls13 ";
    uint8_t info[2 + 1 + 255 + 1];
    const size_t full = kPrefix.size() + label.size();
    if (full > 255 || out.size() > 0xffff) return false;
    size_t n = 0;
    info[n++] = static_cast<uint8_t>(out.size() >> 8);
    info[n++] = static_cast<uint8_t>(out.size());
    info[n++] = static_cast<uint8_t>(full);
    for (char c : kPrefix)
        info[n++] = static_cast<uint8_t>(c);
    for (char c : label)
        info[n++] = static_cast<uint8_t>(c);
    info[n++] = 0;  // context length

    int mode = EVP_KDF_HKDF_MODE_EXPAND_ONLY;
    const OSSL_PARAM params[] = {
        OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, const_cast<uint8_t*>(secret.data()),
                                          secret.size()),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info, n),
        OSSL_PARAM_construct_end(),
    };
    return EVP_KDF_derive(ctx, out.data(), out.size(), params) == 1;
}

bool derive_secret(EVP_KDF_CTX* ctx, const VersionParams& version, std::span<const uint8_t> dcid,
                   Perspective who, InitialSecret& out) {
    InitialSecret initial;
    return hkdf_extract(ctx, version.initial_salt, dcid, initial) &&
           hkdf_expand_label(ctx, initial, who == Perspective::Client ? "client in" : "server in",
                             out);
}

bool derive_keys(EVP_KDF_CTX* ctx, const VersionParams& version, const InitialSecret& secret,
                 PacketKeys& out) {
    return hkdf_expand_label(ctx, secret, version.key_label, out.key) &&
           hkdf_expand_label(ctx, secret, version.iv_label, out.iv) &&
           hkdf_expand_label(ctx, secret, version.hp_label, out.hp);
}

}  // namespace

bool derive_initial_secrets(const VersionParams& version, std::span<const uint8_t> dcid,
                            InitialSecret& client, InitialSecret& server) {
    EVP_KDF_CTX* ctx = thread_ctx();
    return ctx && derive_secret(ctx, version, dcid, Perspective::Client, client) &&
           derive_secret(ctx, version, dcid, Perspective::Server, server);
}

bool derive_packet_keys(const VersionParams& version, const InitialSecret& secret,
                        PacketKeys& out) {
    EVP_KDF_CTX* ctx = thread_ctx();
    return ctx && derive_keys(ctx, version, secret, out);
}

bool derive_initial_keys(const VersionParams& version, std::span<const uint8_t> dcid,
                         Perspective who, PacketKeys& out) {
    EVP_KDF_CTX* ctx = thread_ctx();
    InitialSecret secret;
    return ctx && derive_secret(ctx, version, dcid, who, secret) &&
           derive_keys(ctx, version, secret, out);
}

}  // namespace sybilwatch::quic
