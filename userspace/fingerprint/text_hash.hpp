// One-shot digests of a fingerprint's text, written as lower-case hex: SHA-256 for the JA4
// family, MD5 for JA3. The text is formatted in full first (it is short), then hashed in one
// call through OpenSSL's low-level functions: libcrypto 3.0 frees and re-allocates its provider
// context on every EVP_DigestInit, which made the EVP route 25-40% slower on these 100-200
// byte texts (docs/benchmarks.md). MD5 also keeps the state after a text's first block for
// the next text that starts with the same 64 bytes.
#pragma once

#include <span>
#include <string_view>

namespace sybilwatch::fingerprint {

// Write the first out.size() hex characters of the digest (at most the whole digest). False,
// writing nothing, when the algorithm is unavailable (MD5 under a FIPS-only provider): the
// fingerprint is then absent, never guessed.
bool sha256_hex(std::string_view text, std::span<char> out);
bool md5_hex(std::string_view text, std::span<char> out);

}  // namespace sybilwatch::fingerprint
