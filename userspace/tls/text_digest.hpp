// Hashes text as it is formatted, through a small buffer, so fingerprints of any list length
// need neither a heap string nor a large stack buffer. The EVP_MD is fetched once per process
// and the EVP_MD_CTX allocated once per thread, so this code allocates nothing per hash.
// (libcrypto 3.0 itself still frees and re-allocates its small provider context on every
// EVP_DigestInit_ex2; OpenSSL 3.1 and later reuse it, openssl/openssl#18105.)
//
// Header-only on purpose: sw_tls itself does not link libcrypto; only the modules that include
// this (fingerprint, foxio) do.
#pragma once

#include <openssl/evp.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

#include "tls/ja4_fields.hpp"

namespace sybilwatch::tls {

namespace detail {
struct MdFree {
    void operator()(EVP_MD* md) const { EVP_MD_free(md); }
};
struct MdCtxFree {
    void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
inline EVP_MD_CTX* thread_md_ctx() {
    thread_local std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
    return ctx.get();
}
inline bool& thread_md_ctx_busy() {
    thread_local bool busy = false;
    return busy;
}
}  // namespace detail

// nullptr when the provider lacks the algorithm (MD5 under FIPS): callers then report the
// fingerprint as absent.
inline const EVP_MD* sha256_md() {
    static const std::unique_ptr<EVP_MD, detail::MdFree> md(
        EVP_MD_fetch(nullptr, "SHA256", nullptr));
    return md.get();
}
inline const EVP_MD* md5_md() {
    static const std::unique_ptr<EVP_MD, detail::MdFree> md(EVP_MD_fetch(nullptr, "MD5", nullptr));
    return md.get();
}

// One per thread at a time (they share the thread's EVP_MD_CTX); a second concurrent one
// fails safe: finish_hex() returns false.
class TextDigest {
  public:
    explicit TextDigest(const EVP_MD* md) : ctx_(detail::thread_md_ctx()) {
        if (detail::thread_md_ctx_busy()) return;
        owner_ = detail::thread_md_ctx_busy() = true;
        ok_ = md != nullptr && ctx_ != nullptr && EVP_DigestInit_ex2(ctx_, md, nullptr) == 1;
    }
    ~TextDigest() {
        if (owner_) detail::thread_md_ctx_busy() = false;
    }
    TextDigest(const TextDigest&) = delete;
    TextDigest& operator=(const TextDigest&) = delete;

    void put(char c) {
        if (n_ == sizeof buf_) flush();
        buf_[n_++] = c;
        ++total_;
    }
    void put(std::string_view s) {
        for (char c : s)
            put(c);
    }
    void put_hex4(uint16_t v) {
        if (sizeof buf_ - n_ < 4) flush();
        tls::put_hex4(buf_ + n_, v);
        n_ += 4;
        total_ += 4;
    }
    // "xxxx,yyyy,...": the hot part of every JA4 hash. Writes as many values as the buffer
    // has room for in one unchecked run, then flushes.
    void put_hex_list(std::span<const uint16_t> values) {
        size_t i = 0;
        while (i < values.size()) {
            const size_t room = (sizeof buf_ - n_) / 5;
            if (room == 0) {
                flush();
                continue;
            }
            const size_t end = std::min(values.size(), i + room);
            char* const start = buf_ + n_;
            char* p = start;
            for (; i < end; ++i) {
                if (i > 0) *p++ = ',';
                p = tls::put_hex4(p, values[i]);
            }
            n_ += static_cast<size_t>(p - start);
            total_ += static_cast<size_t>(p - start);
        }
    }
    size_t size() const { return total_; }

    // Writes the first out.size() lower-case hex characters of the digest (at most the whole
    // digest). Returns false, writing nothing, if the digest could not be computed.
    bool finish_hex(std::span<char> out) {
        flush();
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned int md_len = 0;
        if (!ok_ || EVP_DigestFinal_ex(ctx_, md, &md_len) != 1) return false;
        for (size_t i = 0; i < out.size() && i / 2 < md_len; ++i) {
            const uint8_t b = md[i / 2];
            out[i] = kHexDigits[i % 2 == 0 ? b >> 4 : b & 0xf];
        }
        return true;
    }

  private:
    void flush() {
        if (n_ > 0 && ok_) ok_ = EVP_DigestUpdate(ctx_, buf_, n_) == 1;
        n_ = 0;
    }

    EVP_MD_CTX* ctx_;
    bool owner_ = false;
    bool ok_ = false;
    size_t n_ = 0;
    size_t total_ = 0;
    char buf_[256];
};

}  // namespace sybilwatch::tls
