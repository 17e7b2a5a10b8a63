// The lists every client fingerprint is made of, read out of a ClientHello in one pass: cipher
// suites, extension types, signature algorithms, supported groups and EC point formats, GREASE
// removed, in wire order, with JA4's part a and the legacy version in front. JA4 and ja4_o
// (ciphers, extensions, signature algorithms) and JA3 (version, ciphers, extensions, groups,
// point formats) are functions of these alone, so the whole array is also the exact cache key
// of all three, and its sections are the keys of their hashed parts.
//
// Layout (16-bit words): part a as 5 pairs of characters, legacy_version, then each list as
// its count followed by its values: [n, ciphers] [n, extensions] [n, signature algorithms]
// [n, groups] [n, point formats]. A list's count word makes sections of different lengths
// distinct keys.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "tls/client_hello.hpp"

namespace sybilwatch::fingerprint {

class HelloLists {
  public:
    enum List : uint8_t { Ciphers, Extensions, SignatureAlgorithms, Groups, PointFormats };

    // Replaces the contents with `ch`'s lists. The storage only grows (to the longest hello
    // seen), so a long-lived HelloLists allocates nothing per hello in steady state.
    void assign(const tls::ClientHello& ch, char transport);

    // JA4 part a: transport, version, SNI d/i, cipher and extension counts, ALPN characters.
    const std::array<char, 10>& ja4_a() const { return a_; }
    uint16_t legacy_version() const { return words_[kVersion]; }

    std::span<const uint16_t> list(List l) const {
        return {words_.data() + start_[l] + 1, words_[start_[l]]};
    }
    // The list with its count word in front: the cache key of a part hashed from it alone.
    std::span<const uint16_t> counted(List l) const {
        return {words_.data() + start_[l], size_t{words_[start_[l]]} + 1};
    }
    // Extensions and signature algorithms, each with its count: the key of JA4's part c.
    std::span<const uint16_t> extensions_and_signatures() const {
        return {words_.data() + start_[Extensions], start_[Groups] - start_[Extensions]};
    }
    // Everything: the key of the fingerprints of the whole hello.
    std::span<const uint16_t> key() const { return {words_.data(), size_}; }

  private:
    static constexpr size_t kVersion = 5, kHeader = 6;

    // Appends a count word and the non-GREASE values of `values`; the list is `l`.
    template <typename Range>
    void put_list(List l, const Range& values);

    std::vector<uint16_t> words_;
    size_t size_ = 0;
    std::array<size_t, 5> start_{};  // index of each list's count word
    std::array<char, 10> a_{};
};

}  // namespace sybilwatch::fingerprint
