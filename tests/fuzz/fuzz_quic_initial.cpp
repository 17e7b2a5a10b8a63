// Fuzzes quic::InitialDecoder. The first input byte picks the mode (low 2 bits) and the
// reassembly window (next 2 bits):
//   0  the rest is one datagram, fed to both directions;
//   1  a flight: records of [flags(1: bit 7 = server) length(2) bytes];
//   2  the RFC 9001 A.2 client Initial with the rest XORed over it from a fuzzer-chosen offset
//      (mutations of a valid encrypted packet: header fields, Length, token, ciphertext);
//   3  records of [flags(1) length(2) plaintext]: each plaintext is sealed into a valid
//      Initial, so the frame parser and the reassembly see fuzzer-chosen frames through the
//      real decryption path. Flags: bit 7 server, bit 6 coalesce with the previous packet,
//      bit 5 client keys and DCID of a Retry, bit 4 corrupt the tag, bit 3 QUIC v2,
//      bits 0-2 packet number jump (odd: 1-byte packet number).
// Checks the decoder's promises: a Complete message starts with the expected handshake type
// and is exactly as long as it declares.
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "quic/initial_decoder.hpp"
#include "quic/initial_keys.hpp"
#include "quic/packet_protection.hpp"
#include "quic/version.hpp"

using namespace sybilwatch::quic;

namespace {

// RFC 9001 A.2, the protected client Initial (1200 bytes), as seed material for mode 2.
const char kRfcClientInitial[] =
    "c000000001088394c8f03e5157080000449e7b9aec34d1b1c98dd7689fb8ec11"
    "d242b123dc9bd8bab936b47d92ec356c0bab7df5976d27cd449f63300099f399"
    "1c260ec4c60d17b31f8429157bb35a1282a643a8d2262cad67500cadb8e7378c"
    "8eb7539ec4d4905fed1bee1fc8aafba17c750e2c7ace01e6005f80fcb7df6212"
    "30c83711b39343fa028cea7f7fb5ff89eac2308249a02252155e2347b63d58c5"
    "457afd84d05dfffdb20392844ae812154682e9cf012f9021a6f0be17ddd0c208"
    "4dce25ff9b06cde535d0f920a2db1bf362c23e596d11a4f5a6cf3948838a3aec"
    "4e15daf8500a6ef69ec4e3feb6b1d98e610ac8b7ec3faf6ad760b7bad1db4ba3"
    "485e8a94dc250ae3fdb41ed15fb6a8e5eba0fc3dd60bc8e30c5c4287e53805db"
    "059ae0648db2f64264ed5e39be2e20d82df566da8dd5998ccabdae053060ae6c"
    "7b4378e846d29f37ed7b4ea9ec5d82e7961b7f25a9323851f681d582363aa5f8"
    "9937f5a67258bf63ad6f1a0b1d96dbd4faddfcefc5266ba6611722395c906556"
    "be52afe3f565636ad1b17d508b73d8743eeb524be22b3dcbc2c7468d54119c74"
    "68449a13d8e3b95811a198f3491de3e7fe942b330407abf82a4ed7c1b311663a"
    "c69890f4157015853d91e923037c227a33cdd5ec281ca3f79c44546b9d90ca00"
    "f064c99e3dd97911d39fe9c5d0b23a229a234cb36186c4819e8b9c5927726632"
    "291d6a418211cc2962e20fe47feb3edf330f2c603a9d48c0fcb5699dbfe58964"
    "25c5bac4aee82e57a85aaf4e2513e4f05796b07ba2ee47d80506f8d2c25e50fd"
    "14de71e6c418559302f939b0e1abd576f279c4b2e0feb85c1f28ff18f58891ff"
    "ef132eef2fa09346aee33c28eb130ff28f5b766953334113211996d20011a198"
    "e3fc433f9f2541010ae17c1bf202580f6047472fb36857fe843b19f5984009dd"
    "c324044e847a4f4a0ab34f719595de37252d6235365e9b84392b061085349d73"
    "203a4a13e96f5432ec0fd4a1ee65accdd5e3904df54c1da510b0ff20dcc0c77f"
    "cb2c0e0eb605cb0504db87632cf3d8b4dae6e705769d1de354270123cb11450e"
    "fc60ac47683d7b8d0f811365565fd98c4c8eb936bcab8d069fc33bd801b03ade"
    "a2e1fbc5aa463d08ca19896d2bf59a071b851e6c239052172f296bfb5e724047"
    "90a2181014f3b94a4e97d117b438130368cc39dbb2d198065ae3986547926cd2"
    "162f40a29f0c3c8745c0f50fba3852e566d44575c29d39a03f0cda721984b6f4"
    "40591f355e12d439ff150aab7613499dbd49adabc8676eef023b15b65bfc5ca0"
    "6948109f23f350db82123535eb8a7433bdabcb909271a6ecbcb58b936a88cd4e"
    "8f2e6ff5800175f113253d8fa9ca8885c2f552e657dc603f252e1a8e308f76f0"
    "be79e2fb8f5d5fbbe2e30ecadd220723c8c0aea8078cdfcb3868263ff8f09400"
    "54da48781893a7e49ad5aff4af300cd804a6b6279ab3ff3afb64491c85194aab"
    "760d58a606654f9f4400e8b38591356fbf6425aca26dc85244259ff2b19c41b9"
    "f96f3ca9ec1dde434da7d2d392b905ddf3d1f9af93d1af5950bd493f5aa731b4"
    "056df31bd267b6b90a079831aaf579be0a39013137aac6d404f518cfd4684064"
    "7e78bfe706ca4cf5e9c5453e9f7cfd2b8b4c8d169a44e55c88d4a9a7f9474241"
    "e221af44860018ab0856972e194cd934";

std::vector<uint8_t> unhex(const char* h) {
    std::vector<uint8_t> out;
    auto nib = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
    for (; h[0] && h[1]; h += 2)
        out.push_back(static_cast<uint8_t>(nib(h[0]) << 4 | nib(h[1])));
    return out;
}

const uint8_t kDcid[] = {0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08};
const uint8_t kRetryDcid[] = {0x0b, 0x0b, 0x0b, 0x0b, 0x0b};
const uint8_t kServerCid[] = {0x0a, 0x0b, 0x0c, 0x0d};

struct Keys {
    // [v1, v2][client, server, client after Retry]
    PacketKeys k[2][3];
    Keys() {
        for (int v = 0; v < 2; ++v) {
            const VersionParams& p = *find_version(v == 0 ? kVersion1 : kVersion2);
            derive_initial_keys(p, kDcid, Perspective::Client, k[v][0]);
            derive_initial_keys(p, kDcid, Perspective::Server, k[v][1]);
            derive_initial_keys(p, kRetryDcid, Perspective::Client, k[v][2]);
        }
    }
};

// Seals `plain` into an Initial (2-byte Length) appended to `out`.
void seal_initial(const Keys& keys, uint8_t flags, uint64_t pn, std::span<const uint8_t> plain,
                  std::vector<uint8_t>& out) {
    const bool server = flags & 0x80, retry = flags & 0x20, corrupt = flags & 0x10,
               v2 = flags & 0x08;
    const size_t pn_len = (flags & 1) ? 1 : 2;
    const PacketKeys& k = keys.k[v2][server ? 1 : retry ? 2 : 0];
    std::vector<uint8_t> payload(plain.begin(), plain.end());
    if (payload.size() < 32) payload.resize(32, 0);  // room for the header-protection sample
    if (payload.size() > 0x3fff - 2 - kAeadTagLength) payload.resize(0x3fff - 2 - kAeadTagLength);
    const size_t start = out.size();
    out.push_back(static_cast<uint8_t>((v2 ? 0xd0 : 0xc0) | (pn_len - 1)));
    const uint32_t version = v2 ? kVersion2 : kVersion1;
    for (int i = 3; i >= 0; --i)
        out.push_back(static_cast<uint8_t>(version >> (8 * i)));
    const std::span<const uint8_t> dcid = server  ? std::span<const uint8_t>()
                                          : retry ? std::span<const uint8_t>(kRetryDcid)
                                                  : std::span<const uint8_t>(kDcid);
    const std::span<const uint8_t> scid =
        server ? std::span<const uint8_t>(kServerCid) : std::span<const uint8_t>();
    out.push_back(static_cast<uint8_t>(dcid.size()));
    out.insert(out.end(), dcid.begin(), dcid.end());
    out.push_back(static_cast<uint8_t>(scid.size()));
    out.insert(out.end(), scid.begin(), scid.end());
    out.push_back(0);  // token length
    const size_t length = pn_len + payload.size() + kAeadTagLength;
    out.push_back(static_cast<uint8_t>(0x40 | length >> 8));
    out.push_back(static_cast<uint8_t>(length));
    const size_t pn_offset = out.size();
    for (size_t i = pn_len; i-- > 0;)
        out.push_back(static_cast<uint8_t>(pn >> (8 * i)));
    std::vector<uint8_t> sealed(payload.size() + kAeadTagLength);
    const std::span<const uint8_t> header(out.data() + start, out.size() - start);
    if (!aead_seal(k, pn, header, payload, sealed)) __builtin_trap();
    if (corrupt) sealed.back() ^= 1;
    out.insert(out.end(), sealed.begin(), sealed.end());
    std::array<uint8_t, 5> mask;
    if (!header_protection_mask(
            k.hp, std::span<const uint8_t>(out).subspan(pn_offset + 4).first<kHpSampleLength>(),
            mask)) {
        __builtin_trap();
    }
    out[start] ^= mask[0] & 0x0f;
    for (size_t i = 0; i < pn_len; ++i)
        out[pn_offset + i] ^= mask[1 + i];
}

void check(const InitialDecoder& dec) {
    auto ok = [](std::span<const uint8_t> m, uint8_t type) {
        return m.size() >= 4 && m[0] == type &&
               m.size() == 4 + (size_t{m[1]} << 16 | size_t{m[2]} << 8 | m[3]);
    };
    if (dec.client_status() == Status::Complete && !ok(dec.client_hello(), 1)) __builtin_trap();
    if (dec.server_status() == Status::Complete && !ok(dec.server_hello(), 2)) __builtin_trap();
    if (dec.client_status() != Status::Complete && !dec.client_hello().empty()) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 1) return 0;
    static const Keys keys;
    static const std::vector<uint8_t> rfc_initial = unhex(kRfcClientInitial);
    const uint8_t mode = data[0] & 3;
    static constexpr size_t kWindows[] = {kDefaultClientWindow, 64, 300, 4096};
    InitialDecoder dec(
        DecoderLimits{kWindows[(data[0] >> 2) & 3], kWindows[(data[0] >> 4) & 3], 4});
    std::span<const uint8_t> in(data + 1, size - 1);

    auto records = [&](auto&& on_record) {
        while (in.size() >= 3) {
            const uint8_t flags = in[0];
            size_t len = size_t{in[1]} << 8 | in[2];
            in = in.subspan(3);
            if (len > in.size()) len = in.size();
            on_record(flags, in.first(len));
            in = in.subspan(len);
        }
    };

    switch (mode) {
        case 0:
            dec.feed_client(in);
            dec.feed_server(in);
            break;
        case 1:
            records([&](uint8_t flags, std::span<const uint8_t> dg) {
                if (flags & 0x80) {
                    dec.feed_server(dg);
                } else {
                    dec.feed_client(dg);
                }
            });
            break;
        case 2: {
            if (in.size() < 2) return 0;
            std::vector<uint8_t> pkt = rfc_initial;
            const size_t at = (size_t{in[0]} << 8 | in[1]) % pkt.size();
            in = in.subspan(2);
            for (size_t i = 0; i < in.size(); ++i) {
                if (at + i < pkt.size()) {
                    pkt[at + i] ^= in[i];
                } else {
                    pkt.push_back(in[i]);  // past the end: appended, as a coalesced tail
                }
            }
            dec.feed_client(pkt);
            dec.feed_client(rfc_initial);
            break;
        }
        case 3: {
            std::vector<uint8_t> datagram;
            bool datagram_server = false;
            uint64_t pn[2] = {0, 0};
            auto flush = [&] {
                if (datagram.empty()) return;
                if (datagram_server) {
                    dec.feed_server(datagram);
                } else {
                    dec.feed_client(datagram);
                }
                datagram.clear();
            };
            records([&](uint8_t flags, std::span<const uint8_t> plain) {
                const bool server = flags & 0x80;
                if (!(flags & 0x40) || server != datagram_server) flush();
                datagram_server = server;
                seal_initial(keys, flags, pn[server], plain, datagram);
                pn[server] += 1 + 60 * (flags & 0x07);
            });
            flush();
            break;
        }
    }
    check(dec);
    return 0;
}
