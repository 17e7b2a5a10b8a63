#include "quic/packet_protection.hpp"

#include <openssl/evp.h>

#include <climits>
#include <memory>

namespace sybilwatch::quic {

namespace {

struct CipherDeleter {
    void operator()(EVP_CIPHER* c) const { EVP_CIPHER_free(c); }
};
struct CipherCtxDeleter {
    void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};
using Cipher = std::unique_ptr<EVP_CIPHER, CipherDeleter>;
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxDeleter>;

// Explicitly fetched once per process: implicit fetches by name cost a lookup per init.
const EVP_CIPHER* aes128_gcm() {
    static const Cipher c(EVP_CIPHER_fetch(nullptr, "AES-128-GCM", nullptr));
    return c.get();
}
const EVP_CIPHER* aes128_ecb() {
    static const Cipher c(EVP_CIPHER_fetch(nullptr, "AES-128-ECB", nullptr));
    return c.get();
}

// One context per cipher and direction, bound to its cipher once; per packet only the key and
// IV change (EVP_CipherInit_ex2 with a null cipher keeps the provider context).
struct Contexts {
    CipherCtx gcm_open;
    CipherCtx gcm_seal;
    CipherCtx ecb;
    bool ok = false;

    Contexts()
        : gcm_open(EVP_CIPHER_CTX_new()),
          gcm_seal(EVP_CIPHER_CTX_new()),
          ecb(EVP_CIPHER_CTX_new()) {
        const EVP_CIPHER* gcm = aes128_gcm();
        const EVP_CIPHER* e = aes128_ecb();
        ok = gcm && e && gcm_open && gcm_seal && ecb &&
             EVP_DecryptInit_ex2(gcm_open.get(), gcm, nullptr, nullptr, nullptr) == 1 &&
             EVP_EncryptInit_ex2(gcm_seal.get(), gcm, nullptr, nullptr, nullptr) == 1 &&
             EVP_EncryptInit_ex2(ecb.get(), e, nullptr, nullptr, nullptr) == 1 &&
             EVP_CIPHER_CTX_set_padding(ecb.get(), 0) == 1;
    }
};

Contexts& contexts() {
    thread_local Contexts c;
    return c;
}

std::array<uint8_t, 12> nonce(const PacketKeys& keys, uint64_t pn) {
    std::array<uint8_t, 12> n = keys.iv;
    for (size_t i = 0; i < 8; ++i)
        n[11 - i] ^= static_cast<uint8_t>(pn >> (8 * i));
    return n;
}

bool fits_int(size_t n) {
    return n <= static_cast<size_t>(INT_MAX);
}

}  // namespace

bool header_protection_mask(const std::array<uint8_t, 16>& hp,
                            std::span<const uint8_t, kHpSampleLength> sample,
                            std::array<uint8_t, 5>& mask) {
    Contexts& c = contexts();
    if (!c.ok) return false;
    uint8_t block[kHpSampleLength];
    int len = 0;
    if (EVP_EncryptInit_ex2(c.ecb.get(), nullptr, hp.data(), nullptr, nullptr) != 1 ||
        EVP_EncryptUpdate(c.ecb.get(), block, &len, sample.data(), kHpSampleLength) != 1 ||
        len != static_cast<int>(kHpSampleLength)) {
        return false;
    }
    for (size_t i = 0; i < mask.size(); ++i)
        mask[i] = block[i];
    return true;
}

bool aead_open(const PacketKeys& keys, uint64_t packet_number, std::span<const uint8_t> aad,
               std::span<const uint8_t> sealed, std::span<uint8_t> out) {
    Contexts& c = contexts();
    if (!c.ok || sealed.size() < kAeadTagLength) return false;
    const size_t ct_len = sealed.size() - kAeadTagLength;
    if (out.size() < ct_len || !fits_int(sealed.size()) || !fits_int(aad.size())) return false;
    EVP_CIPHER_CTX* ctx = c.gcm_open.get();
    const auto n = nonce(keys, packet_number);
    int len = 0;
    // The tag is passed by value: OpenSSL takes a non-const pointer.
    uint8_t tag[kAeadTagLength];
    for (size_t i = 0; i < kAeadTagLength; ++i)
        tag[i] = sealed[ct_len + i];
    if (EVP_DecryptInit_ex2(ctx, nullptr, keys.key.data(), n.data(), nullptr) != 1 ||
        EVP_DecryptUpdate(ctx, nullptr, &len, aad.data(), static_cast<int>(aad.size())) != 1) {
        return false;
    }
    if (ct_len > 0 &&
        EVP_DecryptUpdate(ctx, out.data(), &len, sealed.data(), static_cast<int>(ct_len)) != 1) {
        return false;
    }
    if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, kAeadTagLength, tag) != 1) return false;
    return EVP_DecryptFinal_ex(ctx, out.data() + ct_len, &len) == 1;
}

bool aead_seal(const PacketKeys& keys, uint64_t packet_number, std::span<const uint8_t> aad,
               std::span<const uint8_t> plaintext, std::span<uint8_t> out) {
    Contexts& c = contexts();
    if (!c.ok || out.size() < plaintext.size() + kAeadTagLength || !fits_int(plaintext.size()) ||
        !fits_int(aad.size())) {
        return false;
    }
    EVP_CIPHER_CTX* ctx = c.gcm_seal.get();
    const auto n = nonce(keys, packet_number);
    int len = 0;
    if (EVP_EncryptInit_ex2(ctx, nullptr, keys.key.data(), n.data(), nullptr) != 1 ||
        EVP_EncryptUpdate(ctx, nullptr, &len, aad.data(), static_cast<int>(aad.size())) != 1) {
        return false;
    }
    if (!plaintext.empty() && EVP_EncryptUpdate(ctx, out.data(), &len, plaintext.data(),
                                                static_cast<int>(plaintext.size())) != 1) {
        return false;
    }
    if (EVP_EncryptFinal_ex(ctx, out.data() + plaintext.size(), &len) != 1) return false;
    return EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, kAeadTagLength,
                               out.data() + plaintext.size()) == 1;
}

}  // namespace sybilwatch::quic
