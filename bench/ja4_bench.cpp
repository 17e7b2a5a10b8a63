// ClientHello parsing + JA4 cost per connection. Target: under 1 µs for a ~2 KiB ClientHello.
//
// Input: Chrome's ClientHello from tls-handshake.pcapng (tests/data/tls/chrome_tls13.client.hex,
// 512 bytes). No reference capture holds a post-quantum (X25519MLKEM768) hello of ~1.8-2 KiB,
// so the "2KiB" cases grow that real hello's padding extension (0x0015) until the handshake
// message is 2048 bytes: the parser must walk the same extension layout, only longer.
#include <benchmark/benchmark.h>
#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <fstream>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "fingerprint/hello_fingerprints.hpp"
#include "fingerprint/ja3.hpp"
#include "fingerprint/ja4.hpp"
#include "fingerprint/text_hash.hpp"
#include "tls/client_hello.hpp"
#include "tls/reader.hpp"
#include "tls/record.hpp"

namespace {

using namespace sybilwatch;
using Bytes = std::vector<uint8_t>;

Bytes read_hex(const std::string& file) {
    std::ifstream in(std::string(SW_SOURCE_DIR) + "/tests/data/tls/" + file);
    if (!in) throw std::runtime_error("cannot open " + file);
    std::string line, digits;
    while (std::getline(in, line)) {
        if (!line.empty() && line[0] != '#') digits += line;
    }
    Bytes out;
    for (size_t i = 0; i + 1 < digits.size(); i += 2) {
        out.push_back(static_cast<uint8_t>(std::stoul(digits.substr(i, 2), nullptr, 16)));
    }
    return out;
}

void put16(Bytes& b, size_t v) {
    b.push_back(static_cast<uint8_t>(v >> 8));
    b.push_back(static_cast<uint8_t>(v));
}

// The real Chrome ClientHello message (type, length, body).
Bytes chrome_message() {
    const Bytes stream = read_hex("chrome_tls13.client.hex");
    std::array<uint8_t, 4096> scratch{};
    std::span<const uint8_t> msg;
    if (tls::extract_handshake(stream, tls::handshake_type::ClientHello, scratch, msg) !=
        tls::Extract::Complete) {
        throw std::runtime_error("no ClientHello");
    }
    return Bytes(msg.begin(), msg.end());
}

// The same message with its padding extension grown so the message is `total` bytes.
Bytes padded_to(const Bytes& msg, size_t total) {
    tls::ClientHello ch;
    if (!tls::parse_client_hello(msg, false, ch)) throw std::runtime_error("bad hello");
    const size_t grow = total - msg.size();
    const size_t ext_off = static_cast<size_t>(ch.extensions_block.data() - msg.data());
    Bytes exts;
    for (const tls::Extension& e : ch.extensions()) {
        put16(exts, e.type);
        const size_t n = e.body.size() + (e.type == tls::ext::Padding ? grow : 0);
        put16(exts, n);
        exts.insert(exts.end(), e.body.begin(), e.body.end());
        if (e.type == tls::ext::Padding) exts.insert(exts.end(), grow, 0);
    }
    Bytes out(msg.begin(), msg.begin() + static_cast<long>(ext_off) - 2);
    put16(out, exts.size());
    out.insert(out.end(), exts.begin(), exts.end());
    const size_t body = out.size() - 4;
    out[1] = static_cast<uint8_t>(body >> 16);
    out[2] = static_cast<uint8_t>(body >> 8);
    out[3] = static_cast<uint8_t>(body);
    if (out.size() != total) throw std::runtime_error("padding failed");
    return out;
}

// The same message with its extensions in another order, as Chromium sends them.
Bytes permuted(const Bytes& msg, std::mt19937& rng) {
    tls::ClientHello ch;
    if (!tls::parse_client_hello(msg, false, ch)) throw std::runtime_error("bad hello");
    std::vector<Bytes> exts;
    for (const tls::Extension& e : ch.extensions()) {
        Bytes x;
        put16(x, e.type);
        put16(x, e.body.size());
        x.insert(x.end(), e.body.begin(), e.body.end());
        exts.push_back(std::move(x));
    }
    std::shuffle(exts.begin(), exts.end(), rng);
    const size_t ext_off = static_cast<size_t>(ch.extensions_block.data() - msg.data());
    Bytes out(msg.begin(), msg.begin() + static_cast<long>(ext_off));
    for (const Bytes& x : exts)
        out.insert(out.end(), x.begin(), x.end());
    return out;
}

const Bytes& hello_2k() {
    static const Bytes m = padded_to(chrome_message(), 2048);
    return m;
}

const Bytes& hello_real() {
    static const Bytes m = chrome_message();
    return m;
}

// The brief's measure: parse a ~2 KiB ClientHello and compute JA4.
void BM_ParseClientHelloJa4(benchmark::State& state) {
    const Bytes& msg = hello_2k();
    for (auto _ : state) {
        tls::ClientHello ch;
        if (!tls::parse_client_hello(msg, false, ch)) state.SkipWithError("parse failed");
        fingerprint::Ja4 j = fingerprint::ja4(ch, 't');
        benchmark::DoNotOptimize(j);
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * msg.size()));
    state.SetLabel(std::to_string(msg.size()) + " B");
}
BENCHMARK(BM_ParseClientHelloJa4);

// The same with a cipher list no cache has seen (its last cipher changed, 4096 variants in
// turn, more than the caches hold): parse, lists, sort and both SHA-256 every time, as for the
// first hello of a new client stack. The cases above hit the fingerprint caches after the
// first iteration, as a repeating stack does.
void BM_ParseClientHelloJa4_NewStack(benchmark::State& state) {
    std::vector<Bytes> hellos;
    for (uint16_t i = 0; i < 4096; ++i) {
        Bytes m = hello_2k();
        tls::ClientHello ch;
        if (!tls::parse_client_hello(m, false, ch)) throw std::runtime_error("bad hello");
        const size_t last =
            static_cast<size_t>(ch.cipher_suites.data() - m.data()) + ch.cipher_suites.size() - 2;
        m[last] = static_cast<uint8_t>(0x10 + (i >> 8));
        m[last + 1] = static_cast<uint8_t>(i);
        hellos.push_back(std::move(m));
    }
    size_t i = 0;
    for (auto _ : state) {
        tls::ClientHello ch;
        if (!tls::parse_client_hello(hellos[i++ % hellos.size()], false, ch))
            state.SkipWithError("parse failed");
        fingerprint::Ja4 j = fingerprint::ja4(ch, 't');
        benchmark::DoNotOptimize(j);
    }
}
BENCHMARK(BM_ParseClientHelloJa4_NewStack);

void BM_ParseClientHelloJa4_Real512(benchmark::State& state) {
    const Bytes& msg = hello_real();
    for (auto _ : state) {
        tls::ClientHello ch;
        if (!tls::parse_client_hello(msg, false, ch)) state.SkipWithError("parse failed");
        fingerprint::Ja4 j = fingerprint::ja4(ch, 't');
        benchmark::DoNotOptimize(j);
    }
    state.SetLabel(std::to_string(msg.size()) + " B");
}
BENCHMARK(BM_ParseClientHelloJa4_Real512);

// From the TCP stream: record layer + parse + JA4 (message in one record: zero-copy).
void BM_ExtractParseJa4(benchmark::State& state) {
    const Bytes& msg = hello_2k();
    Bytes stream{22, 3, 1};
    put16(stream, msg.size());
    stream.insert(stream.end(), msg.begin(), msg.end());
    std::array<uint8_t, 4096> scratch{};
    for (auto _ : state) {
        std::span<const uint8_t> m;
        tls::extract_handshake(stream, tls::handshake_type::ClientHello, scratch, m);
        tls::ClientHello ch;
        tls::parse_client_hello(m, false, ch);
        fingerprint::Ja4 j = fingerprint::ja4(ch, 't');
        benchmark::DoNotOptimize(j);
    }
}
BENCHMARK(BM_ExtractParseJa4);

void BM_ParseClientHello(benchmark::State& state) {
    const Bytes& msg = hello_2k();
    for (auto _ : state) {
        tls::ClientHello ch;
        benchmark::DoNotOptimize(tls::parse_client_hello(msg, false, ch));
        benchmark::DoNotOptimize(ch);
    }
}
BENCHMARK(BM_ParseClientHello);

void BM_Ja4Variants(benchmark::State& state) {
    tls::ClientHello ch;
    tls::parse_client_hello(hello_2k(), false, ch);
    std::string r, o, ro;
    for (auto _ : state) {
        fingerprint::ja4_variants(ch, 't', r, o, ro);
        benchmark::DoNotOptimize(r.data());
    }
}
BENCHMARK(BM_Ja4Variants);

void BM_Ja3(benchmark::State& state) {
    tls::ClientHello ch;
    tls::parse_client_hello(hello_2k(), false, ch);
    std::string full;
    for (auto _ : state) {
        fingerprint::Ja3 j = fingerprint::ja3(ch, full);
        benchmark::DoNotOptimize(j);
    }
}
BENCHMARK(BM_Ja3);

// Yardstick: the two bare EVP SHA-256 computations every JA4 needs (75 and 130 bytes, the
// sizes of Chrome's cipher and extension strings). On a shared VM whose speed drifts, compare
// BM_ParseClientHelloJa4 with this rather than with a fixed number.
void BM_Sha256TwiceFloor(benchmark::State& state) {
    EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    unsigned char text[130] = {}, out[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    for (auto _ : state) {
        for (size_t n : {75, 130}) {
            EVP_DigestInit_ex2(ctx, md, nullptr);
            EVP_DigestUpdate(ctx, text, n);
            EVP_DigestFinal_ex(ctx, out, &len);
        }
        benchmark::DoNotOptimize(out);
    }
    EVP_MD_CTX_free(ctx);
    EVP_MD_free(md);
}
BENCHMARK(BM_Sha256TwiceFloor);

// The engine's per-connection call without raw strings, for a Chromium client: every hello's
// extensions in a new order (256 orders in turn), so JA3 and ja4_o's part c are computed
// each time and JA4 and ja4_o's part b come from the part caches.
void BM_ClientHelloFingerprints_Permuted(benchmark::State& state) {
    std::mt19937 rng(1);
    std::vector<Bytes> hellos;
    for (int i = 0; i < 256; ++i)
        hellos.push_back(permuted(hello_real(), rng));
    fingerprint::Observation o;
    size_t i = 0;
    for (auto _ : state) {
        const bool ok = fingerprint::client_hello_fingerprints(hellos[i++ % hellos.size()], 't',
                                                               false, false, o);
        benchmark::DoNotOptimize(ok);
        benchmark::DoNotOptimize(o.ja3);
    }
}
BENCHMARK(BM_ClientHelloFingerprints_Permuted);

// The same for a stack that repeats its hello (every other client): one lookup of the lists.
void BM_ClientHelloFingerprints_Repeated(benchmark::State& state) {
    fingerprint::Observation o;
    for (auto _ : state) {
        const bool ok = fingerprint::client_hello_fingerprints(hello_real(), 't', false, false, o);
        benchmark::DoNotOptimize(ok);
        benchmark::DoNotOptimize(o.ja3);
    }
}
BENCHMARK(BM_ClientHelloFingerprints_Repeated);

// BM_Sha256TwiceFloor's two texts through the one-shot low-level path the fingerprints use.
void BM_Sha256TwiceOneShot(benchmark::State& state) {
    const std::string text(130, '0');
    std::array<char, 12> out{};
    for (auto _ : state) {
        for (size_t n : {75, 130}) {
            fingerprint::sha256_hex(std::string_view(text).substr(0, n), out);
            benchmark::DoNotOptimize(out);
        }
    }
}
BENCHMARK(BM_Sha256TwiceOneShot);

}  // namespace
