// SHA256_* and MD5_* are deprecated in OpenSSL 3 in favour of EVP, whose per-init cost is what
// this file avoids; they remain part of the 3.x API. The define must precede every OpenSSL
// header of this file.
#define OPENSSL_SUPPRESS_DEPRECATED 1

#include "fingerprint/text_hash.hpp"

#include <openssl/md5.h>
#include <openssl/sha.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "fingerprint/digest_cache.hpp"
#include "tls/ja4_fields.hpp"
#include "tls/text_digest.hpp"

namespace sybilwatch::fingerprint {

namespace {

constexpr size_t kBlock = 64;  // MD5's block

void put_hex(const unsigned char* md, size_t md_len, std::span<char> out) {
    for (size_t i = 0; i < out.size() && i / 2 < md_len; ++i) {
        const uint8_t b = md[i / 2];
        out[i] = tls::kHexDigits[i % 2 == 0 ? b >> 4 : b & 0xf];
    }
}

}  // namespace

bool sha256_hex(std::string_view text, std::span<char> out) {
    // The provider's word on availability, as on the EVP route (fetched once per process).
    if (tls::sha256_md() == nullptr) return false;
    SHA256_CTX c;
    unsigned char md[SHA256_DIGEST_LENGTH];
    if (SHA256_Init(&c) != 1 || SHA256_Update(&c, text.data(), text.size()) != 1 ||
        SHA256_Final(md, &c) != 1)
        return false;
    put_hex(md, sizeof md, out);
    return true;
}

bool md5_hex(std::string_view text, std::span<char> out) {
    if (tls::md5_md() == nullptr) return false;
    MD5_CTX c;
    if (MD5_Init(&c) != 1) return false;
    size_t done = 0;
    if (text.size() >= kBlock) {
        // A JA3 text's first 64 bytes (version, then the cipher list) are the same for every
        // hello of a client stack, one that permutes its extensions included: the state after
        // that block is cached, keyed on the block itself, so such a hello hashes one block
        // fewer (of its three or four).
        using Cache = ListCache<MD5_CTX, kBlock / 2, 64>;
        thread_local Cache first_block;
        std::array<uint16_t, kBlock / 2> key;
        std::memcpy(key.data(), text.data(), kBlock);
        const uint64_t h = Cache::hash(key);
        if (const MD5_CTX* state = first_block.find(key, h)) {
            c = *state;
        } else {
            if (MD5_Update(&c, text.data(), kBlock) != 1) return false;
            first_block.store_repeated(key, h, c);
        }
        done = kBlock;
    }
    unsigned char md[MD5_DIGEST_LENGTH];
    if (MD5_Update(&c, text.data() + done, text.size() - done) != 1 || MD5_Final(md, &c) != 1)
        return false;
    put_hex(md, sizeof md, out);
    return true;
}

}  // namespace sybilwatch::fingerprint
