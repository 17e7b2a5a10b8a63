#include "quic/initial_decoder.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>

#include "unit/quic/quic_test_util.hpp"
#include "unit/quic/rfc_vectors.hpp"

namespace sybilwatch::quic {
namespace {

using test::Bytes;
using test::from_hex;
using test::to_hex;

Bytes tail(const Bytes& b, size_t from) {
    return Bytes(b.begin() + static_cast<ptrdiff_t>(from), b.end());
}

// The ClientHello of RFC 9001 A.2: the CRYPTO frame minus its 4-byte header (06 00 40f1).
Bytes rfc_client_hello() {
    return tail(from_hex(test::kRfcClientCryptoFrame), 4);
}
// The ServerHello of A.3: after the ACK (5 bytes) and the CRYPTO header (06 00 405a).
Bytes rfc_server_hello() {
    return tail(from_hex(test::kRfcServerPayload), 9);
}

Bytes view(std::span<const uint8_t> s) {
    return Bytes(s.begin(), s.end());
}

size_t declared_length(std::span<const uint8_t> m) {
    return 4 + (size_t{m[1]} << 16 | size_t{m[2]} << 8 | m[3]);
}

// ---------------------------------------------------------------------------------------------
// RFC example packets

struct RfcCase {
    uint32_t version;
    const char* client_file;
    const char* server_file;
};

class RfcDecodeTest : public ::testing::TestWithParam<RfcCase> {};

TEST_P(RfcDecodeTest, ClientAndServerHello) {
    const auto& c = GetParam();
    InitialDecoder dec;
    EXPECT_EQ(dec.version(), 0u);
    EXPECT_TRUE(dec.original_dcid().empty());
    EXPECT_EQ(dec.feed_client(test::load_blob(c.client_file)), Status::Complete);
    EXPECT_EQ(dec.last_error(), Error::None);
    EXPECT_EQ(view(dec.client_hello()), rfc_client_hello());
    EXPECT_EQ(dec.version(), c.version);
    EXPECT_EQ(to_hex(dec.original_dcid()), test::kRfcDcid);
    EXPECT_EQ(dec.client_stats().initial_packets, 1u);
    EXPECT_EQ(dec.client_stats().frames.crypto, 1u);

    EXPECT_EQ(dec.server_status(), Status::NeedMore);
    EXPECT_EQ(dec.feed_server(test::load_blob(c.server_file)), Status::Complete);
    EXPECT_EQ(view(dec.server_hello()), rfc_server_hello());
    EXPECT_EQ(dec.server_stats().frames.ack, 1u);
}

TEST_P(RfcDecodeTest, ServerBeforeClientHasNoKeys) {
    const auto& c = GetParam();
    InitialDecoder dec;
    const Bytes server = test::load_blob(c.server_file);
    EXPECT_EQ(dec.feed_server(server), Status::Failed);
    EXPECT_EQ(dec.last_error(), Error::NoKeys);
    EXPECT_EQ(dec.feed_client(test::load_blob(c.client_file)), Status::Complete);
    EXPECT_EQ(dec.feed_server(server), Status::Complete);
    EXPECT_EQ(view(dec.server_hello()), rfc_server_hello());
}

INSTANTIATE_TEST_SUITE_P(Rfc, RfcDecodeTest,
                         ::testing::Values(RfcCase{kVersion1, "rfc9001_a2_client_initial.hex",
                                                   "rfc9001_a3_server_initial.hex"},
                                           RfcCase{kVersion2, "rfc9369_a2_client_initial.hex",
                                                   "rfc9369_a3_server_initial.hex"}));

// ---------------------------------------------------------------------------------------------
// Reference captures (FoxIO conformance set), checked against tshark's own decryption

struct CaptureCase {
    const char* datagrams;     // tests/data/quic/*.hex
    const char* client_hello;  // the ClientHello tshark reassembled from the same capture
    const char* pcap;          // for the SNI in VECTORS.tsv
    const char* dcid;
};

class CaptureTest : public ::testing::TestWithParam<CaptureCase> {};

TEST_P(CaptureTest, ClientHelloMatchesTshark) {
    const auto& c = GetParam();
    const auto datagrams = test::load_datagrams(c.datagrams);
    InitialDecoder dec;
    Status st = Status::NotQuic;
    for (const auto& d : datagrams) {
        if (d.from != 'C') continue;
        st = dec.feed_client(d.bytes);
    }
    ASSERT_EQ(st, Status::Complete) << to_string(dec.last_error());
    const auto hello = dec.client_hello();
    ASSERT_GE(hello.size(), 4u);
    EXPECT_EQ(hello[0], 0x01);
    EXPECT_EQ(hello.size(), declared_length(hello));
    EXPECT_EQ(to_hex(hello), to_hex(test::load_blob(c.client_hello)));
    const std::string sni = test::expected_sni(c.pcap);
    ASSERT_FALSE(sni.empty());
    EXPECT_TRUE(test::contains(hello, sni)) << sni;
    EXPECT_EQ(dec.version(), kVersion1);
    EXPECT_EQ(to_hex(dec.original_dcid()), c.dcid);
}

TEST_P(CaptureTest, DuplicatesAfterCompletionChangeNothing) {
    const auto& c = GetParam();
    const auto datagrams = test::load_datagrams(c.datagrams);
    InitialDecoder dec;
    const Bytes& first = datagrams[0].bytes;
    ASSERT_EQ(dec.feed_client(first), Status::Complete);
    const Bytes before = view(dec.client_hello());
    for (int i = 0; i < 3; ++i)
        EXPECT_EQ(dec.feed_client(first), Status::Complete);
    EXPECT_EQ(view(dec.client_hello()), before);
    EXPECT_EQ(dec.client_stats().initial_packets, 1u);  // completed: later input not even opened
}

INSTANTIATE_TEST_SUITE_P(
    Foxio, CaptureTest,
    ::testing::Values(CaptureCase{"several-tls-frames.hex", "several-tls-frames.client_hello.hex",
                                  "quic-with-several-tls-frames.pcapng", "fa29602f3c763cc7"},
                      CaptureCase{"tls-handshake.hex", "tls-handshake.client_hello.hex",
                                  "quic-tls-handshake.pcapng", "2fadc20ded383f8c"},
                      CaptureCase{"chrome-cloudflare.hex", "chrome-cloudflare.client_hello.hex",
                                  "chrome-cloudflare-quic-with-secrets.pcapng",
                                  "203f9e9f68698274"}));

TEST(ChromeCloudflare, ServerHelloForJa4s) {
    const auto d = test::load_datagrams("chrome-cloudflare.hex");
    InitialDecoder dec;
    std::vector<Status> server;
    for (const auto& g : d) {
        if (g.from == 'C') {
            dec.feed_client(g.bytes);
        } else {
            server.push_back(dec.feed_server(g.bytes));
        }
    }
    // Frame 48: Initial with an ACK only; frame 49: the ServerHello; 50, 51: Handshake only.
    ASSERT_EQ(server.size(), 4u);
    EXPECT_EQ(server[0], Status::NeedMore);
    EXPECT_EQ(server[1], Status::Complete);
    EXPECT_EQ(server[2], Status::Complete);
    const auto sh = dec.server_hello();
    EXPECT_EQ(to_hex(sh), to_hex(test::load_blob("chrome-cloudflare.server_hello.hex")));
    ASSERT_GE(sh.size(), 4u + 2 + 32 + 1);
    EXPECT_EQ(sh[0], 0x02);
    EXPECT_EQ(sh.size(), declared_length(sh));
    // JA4S q130200_1301_...: the chosen cipher suite follows version, random and session id.
    const size_t cs = 4 + 2 + 32 + 1 + sh[4 + 2 + 32];
    ASSERT_GE(sh.size(), cs + 2);
    EXPECT_EQ(sh[cs], 0x13);
    EXPECT_EQ(sh[cs + 1], 0x01);
    EXPECT_EQ(dec.server_stats().initial_packets, 2u);
    // Frames 52 and 53 (Handshake) came after the ClientHello was complete: not even parsed.
    EXPECT_EQ(dec.client_stats().initial_packets, 1u);
    EXPECT_EQ(dec.client_stats().skipped_packets, 0u);
}

TEST(ChromeCloudflare, EveryOrderOfTheFlight) {
    // Whatever order the seven datagrams arrive in, both hellos come out once the client
    // Initial has been seen (server Initials before it fail with NoKeys and are re-fed).
    const auto d = test::load_datagrams("chrome-cloudflare.hex");
    std::vector<size_t> order(d.size());
    std::iota(order.begin(), order.end(), 0);
    const Bytes ch = test::load_blob("chrome-cloudflare.client_hello.hex");
    const Bytes sh = test::load_blob("chrome-cloudflare.server_hello.hex");
    int perms = 0;
    do {
        if (perms++ % 7 != 0) continue;  // 720 of the 5040 orders, every first datagram
        InitialDecoder dec;
        for (int pass = 0; pass < 2; ++pass) {
            for (size_t i : order) {
                const Status st =
                    d[i].from == 'C' ? dec.feed_client(d[i].bytes) : dec.feed_server(d[i].bytes);
                EXPECT_NE(st, Status::NotQuic);
            }
        }
        ASSERT_EQ(view(dec.client_hello()), ch);
        ASSERT_EQ(view(dec.server_hello()), sh);
    } while (std::next_permutation(order.begin(), order.end()));
    EXPECT_EQ(perms, 5040);
}

// ---------------------------------------------------------------------------------------------
// Real ClientHellos re-protected into several Initial packets, as Chrome sends large ones

const VersionParams& v1() {
    return *find_version(kVersion1);
}

// Splits `hello` into CRYPTO frames of at most `frame` bytes, shuffles them deterministically,
// and packs them into packets of at most `per_packet` frames, each padded to 1200 bytes.
std::vector<Bytes> protect_split(const Bytes& hello, const Bytes& dcid, size_t frame,
                                 size_t per_packet, const Bytes& later_dcid = {},
                                 const VersionParams& version = v1()) {
    std::vector<std::pair<size_t, size_t>> pieces;
    for (size_t off = 0; off < hello.size(); off += frame) {
        pieces.emplace_back(off, std::min(frame, hello.size() - off));
    }
    // Deterministic shuffle: reverse, then interleave halves.
    std::reverse(pieces.begin(), pieces.end());
    std::vector<std::pair<size_t, size_t>> mixed;
    for (size_t i = 0, j = (pieces.size() + 1) / 2; i < (pieces.size() + 1) / 2; ++i, ++j) {
        mixed.push_back(pieces[i]);
        if (j < pieces.size()) mixed.push_back(pieces[j]);
    }
    const auto keys = test::keys_for(version, dcid, Perspective::Client);
    std::vector<Bytes> packets;
    for (size_t i = 0; i < mixed.size(); i += per_packet) {
        Bytes payload;
        for (size_t k = i; k < std::min(i + per_packet, mixed.size()); ++k) {
            const auto [off, len] = mixed[k];
            test::append_crypto(payload, off, std::span<const uint8_t>(hello).subspan(off, len));
        }
        if (payload.size() < 1100) payload.resize(1100, 0);
        // Packets after the first go to the server's new CID but keep the original keys.
        test::InitialSpec spec{
            &version,           packets.empty() || later_dcid.empty() ? dcid : later_dcid,
            from_hex("c0ffee"), {},
            packets.size(),     2};
        packets.push_back(test::protect_initial(spec, keys, payload));
    }
    return packets;
}

// Appends a padding extension (type 21) so the ClientHello spans several packets, like the
// post-quantum key shares of current Chrome.
Bytes enlarge(const Bytes& hello, size_t extra) {
    Bytes m = hello;
    size_t p = 4 + 2 + 32;
    p += 1 + m[p];                            // session id
    p += 2 + (size_t{m[p]} << 8 | m[p + 1]);  // cipher suites
    p += 1 + m[p];                            // compression methods
    const size_t ext_len = size_t{m[p]} << 8 | m[p + 1];
    const size_t new_ext = ext_len + 4 + extra;
    m[p] = static_cast<uint8_t>(new_ext >> 8);
    m[p + 1] = static_cast<uint8_t>(new_ext);
    m.push_back(0x00);
    m.push_back(0x15);
    m.push_back(static_cast<uint8_t>(extra >> 8));
    m.push_back(static_cast<uint8_t>(extra));
    m.insert(m.end(), extra, 0);
    const size_t body = m.size() - 4;
    m[1] = static_cast<uint8_t>(body >> 16);
    m[2] = static_cast<uint8_t>(body >> 8);
    m[3] = static_cast<uint8_t>(body);
    return m;
}

class SplitTest : public ::testing::TestWithParam<const char*> {};

TEST_P(SplitTest, EveryPacketOrderWithDuplicates) {
    const Bytes hello = test::load_blob(GetParam());
    const Bytes dcid = from_hex("0011223344556677");
    // ~300 bytes in frames of 37: 9 frames, 3 per packet, 3 packets, all to the first DCID
    // (were a later one sent to the server's CID, it could not be opened before the first).
    auto packets = protect_split(hello, dcid, 37, 3);
    ASSERT_EQ(packets.size(), 3u);
    std::vector<size_t> order = {0, 1, 2};
    do {
        InitialDecoder dec;
        // Each packet twice in a row, and all of them again at the end.
        for (size_t n = 0; n < order.size(); ++n) {
            const Status want = n + 1 == order.size() ? Status::Complete : Status::NeedMore;
            EXPECT_EQ(dec.feed_client(packets[order[n]]), want);
            EXPECT_EQ(dec.feed_client(packets[order[n]]), want);
        }
        for (const auto& p : packets)
            EXPECT_EQ(dec.feed_client(p), Status::Complete);
        EXPECT_EQ(view(dec.client_hello()), hello);
        EXPECT_EQ(to_hex(dec.original_dcid()), "0011223344556677");
    } while (std::next_permutation(order.begin(), order.end()));
}

TEST_P(SplitTest, LargeHelloAcrossPackets) {
    const Bytes hello = enlarge(test::load_blob(GetParam()), 2500);
    ASSERT_GT(hello.size(), 2700u);
    const Bytes dcid = from_hex("0102030405060708090a");
    // 7 or 8 frames, 4 packets; the later ones go to the server's CID under the original keys.
    auto packets = protect_split(hello, dcid, 400, 2, from_hex("feedfacecafebeef"));
    ASSERT_EQ(packets.size(), 4u);
    InitialDecoder dec;
    EXPECT_EQ(dec.feed_client(packets[0]), Status::NeedMore);
    EXPECT_EQ(dec.feed_client(packets[3]), Status::NeedMore);
    EXPECT_EQ(dec.feed_client(packets[2]), Status::NeedMore);
    EXPECT_EQ(dec.feed_client(packets[1]), Status::Complete);
    EXPECT_EQ(view(dec.client_hello()), hello);
    EXPECT_EQ(dec.client_stats().initial_packets, 4u);
    EXPECT_EQ(dec.client_stats().frames.crypto, (hello.size() + 399) / 400);
}

INSTANTIATE_TEST_SUITE_P(Foxio, SplitTest,
                         ::testing::Values("several-tls-frames.client_hello.hex",
                                           "tls-handshake.client_hello.hex",
                                           "chrome-cloudflare.client_hello.hex"));

TEST(InitialDecoder, PacketsWithoutTheFirstCannotBeOpened) {
    // Packets 2 and 3 go to the server's CID: without the first Initial there are no keys.
    const Bytes hello = test::load_blob("tls-handshake.client_hello.hex");
    auto packets = protect_split(hello, from_hex("0011223344556677"), 37, 3, from_hex("aabbccdd"));
    InitialDecoder dec;
    EXPECT_EQ(dec.feed_client(packets[1]), Status::Failed);
    EXPECT_EQ(dec.last_error(), Error::AuthFailed);
    EXPECT_EQ(dec.feed_client(packets[2]), Status::Failed);
    EXPECT_EQ(dec.feed_client(packets[0]), Status::NeedMore);
    EXPECT_EQ(dec.feed_client(packets[1]), Status::NeedMore);
    EXPECT_EQ(dec.feed_client(packets[2]), Status::Complete);
}

TEST(InitialDecoder, CoalescedInitialsAndHandshakeInOneDatagram) {
    const Bytes hello = test::load_blob("chrome-cloudflare.client_hello.hex");
    auto packets = protect_split(hello, from_hex("0011223344556677"), 50, 4);
    ASSERT_EQ(packets.size(), 2u);
    const auto flight = test::load_datagrams("chrome-cloudflare.hex");
    Bytes dg = packets[1];
    dg.insert(dg.end(), flight[5].bytes.begin(), flight[5].bytes.end());  // a Handshake packet
    dg.insert(dg.end(), packets[0].begin(), packets[0].end());
    dg.resize(dg.size() + 40, 0);  // trailing zero padding
    InitialDecoder dec;
    EXPECT_EQ(dec.feed_client(dg), Status::Complete);
    EXPECT_EQ(view(dec.client_hello()), hello);
    EXPECT_EQ(dec.client_stats().skipped_packets, 1u);
    EXPECT_EQ(dec.client_stats().initial_packets, 2u);
}

TEST(InitialDecoder, RetryRekeysFromTheNewDcid) {
    const Bytes hello = test::load_blob("several-tls-frames.client_hello.hex");
    // First attempt under DCID A: only part of the hello. After a Retry the client sends
    // everything again under keys from the Retry's SCID B.
    auto before = protect_split(hello, from_hex("0a0a0a0a0a0a0a0a"), 100, 1);
    auto after = protect_split(hello, from_hex("0b0b0b0b0b0b0b0b0b0b"), 300, 1);
    ASSERT_EQ(after.size(), 1u);
    InitialDecoder dec;
    EXPECT_EQ(dec.feed_client(before[0]), Status::NeedMore);
    EXPECT_EQ(to_hex(dec.original_dcid()), "0a0a0a0a0a0a0a0a");
    EXPECT_EQ(dec.feed_client(after[0]), Status::Complete);
    EXPECT_EQ(to_hex(dec.original_dcid()), "0b0b0b0b0b0b0b0b0b0b");
    EXPECT_EQ(view(dec.client_hello()), hello);
}

TEST(InitialDecoder, CompatibleVersionChangeKeepsTheDcid) {
    // RFC 9368: the handshake starts in v1 and continues in v2 with the same original DCID.
    const Bytes hello = test::load_blob("tls-handshake.client_hello.hex");
    const Bytes dcid = from_hex("5566778899aabbcc");
    auto in_v1 = protect_split(hello, dcid, 150, 1);
    auto in_v2 = protect_split(hello, dcid, 150, 1, {}, *find_version(kVersion2));
    ASSERT_EQ(in_v1.size(), 2u);
    InitialDecoder dec;
    // in_v1[0] holds the last frame (the shuffle reverses), in_v2[1] the first.
    EXPECT_EQ(dec.feed_client(in_v1[0]), Status::NeedMore);
    EXPECT_EQ(dec.feed_client(in_v2[1]), Status::Complete);
    EXPECT_EQ(view(dec.client_hello()), hello);
    EXPECT_EQ(dec.version(), kVersion1);
}

TEST(InitialDecoder, Draft29) {
    const Bytes hello = test::load_blob("tls-handshake.client_hello.hex");
    auto packets = protect_split(hello, from_hex("1122334455667788"), 400, 1, {},
                                 *find_version(kVersionDraft29));
    InitialDecoder dec;
    ASSERT_TRUE(looks_like_initial(packets[0]));
    EXPECT_EQ(dec.feed_client(packets[0]), Status::Complete);
    EXPECT_EQ(dec.version(), kVersionDraft29);
    EXPECT_EQ(view(dec.client_hello()), hello);
}

// ---------------------------------------------------------------------------------------------
// Negative cases

TEST(InitialDecoder, WrongDcidFailsAuthentication) {
    Bytes pkt = test::load_blob("rfc9001_a2_client_initial.hex");
    Bytes wrong = pkt;
    wrong[13] ^= 0x01;  // last DCID byte: keys from another DCID
    InitialDecoder dec;
    EXPECT_EQ(dec.feed_client(wrong), Status::Failed);
    EXPECT_EQ(dec.last_error(), Error::AuthFailed);
    EXPECT_TRUE(dec.client_hello().empty());
    EXPECT_TRUE(dec.original_dcid().empty());
    // A failed packet does not lock the keys: the real one still opens.
    EXPECT_EQ(dec.feed_client(pkt), Status::Complete);
    EXPECT_EQ(view(dec.client_hello()), rfc_client_hello());
}

TEST(InitialDecoder, EveryCorruptedByteIsRejected) {
    // Flipping any byte after the DCID either breaks the header or the AEAD: never a hello.
    const Bytes pkt = test::load_blob("rfc9001_a2_client_initial.hex");
    for (size_t i = 14; i < pkt.size(); i += 7) {
        Bytes bad = pkt;
        bad[i] ^= 0x10;
        InitialDecoder dec;
        const Status st = dec.feed_client(bad);
        EXPECT_TRUE(st == Status::Failed || st == Status::NotQuic) << i;
        EXPECT_TRUE(dec.client_hello().empty()) << i;
    }
    Bytes tag = pkt;
    tag.back() ^= 0x01;
    InitialDecoder dec;
    EXPECT_EQ(dec.feed_client(tag), Status::Failed);
    EXPECT_EQ(dec.last_error(), Error::AuthFailed);
    EXPECT_EQ(dec.client_stats().auth_failures, 1u);
}

TEST(InitialDecoder, TruncatedAtEveryLength) {
    for (const char* f : {"rfc9001_a2_client_initial.hex", "several-tls-frames.hex"}) {
        const Bytes pkt = test::load_datagrams(f)[0].bytes;
        InitialDecoder dec;
        for (size_t n = 0; n < pkt.size(); ++n) {
            const Status st = dec.feed_client(std::span<const uint8_t>(pkt).first(n));
            EXPECT_TRUE(st == Status::NotQuic || st == Status::Failed) << f << " " << n;
            EXPECT_TRUE(dec.client_hello().empty());
        }
        // None of that poisoned the decoder.
        EXPECT_EQ(dec.feed_client(pkt), Status::Complete) << f;
    }
}

TEST(InitialDecoder, NotQuic) {
    InitialDecoder dec;
    EXPECT_EQ(dec.feed_client({}), Status::NotQuic);
    EXPECT_EQ(dec.feed_client(from_hex("4000112233445566")), Status::NotQuic);  // short header
    EXPECT_EQ(dec.feed_client(from_hex("c0000000000800000000000000000000")), Status::NotQuic);
    EXPECT_EQ(dec.last_error(), Error::UnsupportedVersion);                 // Version Negotiation
    EXPECT_EQ(dec.feed_client(from_hex("160301020001")), Status::NotQuic);  // TLS record
    // A Handshake packet of a supported version is QUIC, just nothing for us yet.
    const auto flight = test::load_datagrams("chrome-cloudflare.hex");
    EXPECT_EQ(dec.feed_client(flight[5].bytes), Status::NeedMore);
}

Bytes initial_with_payload(const Bytes& payload, const Bytes& dcid = from_hex("0102030405060708")) {
    test::InitialSpec spec{&v1(), dcid, {}, {}, 0, 4};
    Bytes p = payload;
    if (p.size() < 64) p.resize(64, 0);
    return test::protect_initial(spec, test::keys_for(v1(), dcid, Perspective::Client), p);
}

TEST(InitialDecoder, FirstMessageMustBeClientHello) {
    Bytes payload;
    test::append_crypto(payload, 0, from_hex("02000002aabb"));  // a "ServerHello" from a client
    InitialDecoder dec;
    EXPECT_EQ(dec.feed_client(initial_with_payload(payload)), Status::Failed);
    EXPECT_EQ(dec.last_error(), Error::UnexpectedMessage);
    EXPECT_EQ(dec.client_status(), Status::Failed);
    // Final: later input is not looked at.
    EXPECT_EQ(dec.feed_client(test::load_blob("rfc9001_a2_client_initial.hex")), Status::Failed);
    EXPECT_EQ(dec.last_error(), Error::UnexpectedMessage);
}

TEST(InitialDecoder, MessageLargerThanTheWindow) {
    Bytes payload;
    test::append_crypto(payload, 0, from_hex("01004e20"));  // declares 20000 bytes
    InitialDecoder dec;
    EXPECT_EQ(dec.feed_client(initial_with_payload(payload)), Status::Failed);
    EXPECT_EQ(dec.last_error(), Error::MessageTooLarge);

    // The window is configurable: the RFC ClientHello (241 bytes) fits 256 but not 200.
    InitialDecoder small(DecoderLimits{256, 128, 8});
    EXPECT_EQ(small.feed_client(test::load_blob("rfc9001_a2_client_initial.hex")),
              Status::Complete);
    InitialDecoder tiny(DecoderLimits{200, 128, 8});
    EXPECT_EQ(tiny.feed_client(test::load_blob("rfc9001_a2_client_initial.hex")), Status::Failed);
    EXPECT_EQ(tiny.last_error(), Error::MessageTooLarge);
}

TEST(InitialDecoder, DataPastTheWindowIsIgnored) {
    Bytes payload;
    test::append_crypto(payload, 20000, from_hex("deadbeef"));
    test::append_crypto(payload, 0, from_hex("0100"));
    InitialDecoder dec;
    EXPECT_EQ(dec.feed_client(initial_with_payload(payload)), Status::NeedMore);
    EXPECT_EQ(dec.client_stats().frames.crypto, 2u);
}

TEST(InitialDecoder, BadFrameKeepsEarlierCrypto) {
    Bytes payload;
    test::append_crypto(payload, 0, from_hex("01000002"));
    payload.push_back(0x08);  // STREAM: not allowed in Initial, parsing stops here
    test::append_crypto(payload, 4, from_hex("aabb"));
    InitialDecoder dec;
    EXPECT_EQ(dec.feed_client(initial_with_payload(payload)), Status::NeedMore);
    EXPECT_EQ(dec.last_error(), Error::BadFrame);
    Bytes rest;
    test::append_crypto(rest, 4, from_hex("aabb"));
    EXPECT_EQ(dec.feed_client(initial_with_payload(rest)), Status::Complete);
    EXPECT_EQ(to_hex(dec.client_hello()), "01000002aabb");
}

TEST(InitialDecoder, KeyDerivationsAreBounded) {
    // Garbage "Initials", each with a new DCID, cost one derivation each until the limit.
    InitialDecoder dec(DecoderLimits{kDefaultClientWindow, kDefaultServerWindow, 3});
    Bytes pkt = test::load_blob("rfc9001_a2_client_initial.hex");
    for (int i = 0; i < 3; ++i) {
        pkt[13] = static_cast<uint8_t>(i);
        EXPECT_EQ(dec.feed_client(pkt), Status::Failed);
        EXPECT_EQ(dec.last_error(), Error::AuthFailed);
    }
    pkt[13] = 0x08;  // the real DCID, too late
    EXPECT_EQ(dec.feed_client(pkt), Status::Failed);
    EXPECT_EQ(dec.last_error(), Error::KeyLimit);
    // Repeating the last candidate's DCID reuses its keys instead of deriving again.
    InitialDecoder again(DecoderLimits{kDefaultClientWindow, kDefaultServerWindow, 1});
    Bytes corrupt = test::load_blob("rfc9001_a2_client_initial.hex");
    corrupt.back() ^= 1;
    EXPECT_EQ(again.feed_client(corrupt), Status::Failed);
    EXPECT_EQ(again.feed_client(test::load_blob("rfc9001_a2_client_initial.hex")),
              Status::Complete);
}

TEST(InitialDecoder, TooShortToCarryASample) {
    // A valid header whose Length leaves fewer than 4 + 16 bytes after the packet number.
    const Bytes p =
        from_hex("c0 00000001 08 0102030405060708 00 00 10 00112233445566778899aabbccddeeff");
    InitialDecoder dec;
    EXPECT_EQ(dec.feed_client(p), Status::Failed);
    EXPECT_EQ(dec.last_error(), Error::MalformedHeader);
}

TEST(InitialDecoder, PacketNumberBeyondFirstWindow) {
    // Packet numbers are decoded against the largest seen (RFC 9000 A.3): 300 after 1 with a
    // one-byte encoding (0x2c) must still give the right nonce.
    const Bytes hello = test::load_blob("several-tls-frames.client_hello.hex");
    const Bytes dcid = from_hex("0011223344556677");
    const auto keys = test::keys_for(v1(), dcid, Perspective::Client);
    Bytes a, b;
    test::append_crypto(a, 0, std::span<const uint8_t>(hello).first(100));
    test::append_crypto(b, 100, std::span<const uint8_t>(hello).subspan(100));
    a.resize(1100, 0);
    b.resize(1100, 0);
    InitialDecoder dec;
    EXPECT_EQ(dec.feed_client(test::protect_initial({&v1(), dcid, {}, {}, 250, 2}, keys, a)),
              Status::NeedMore);
    EXPECT_EQ(dec.feed_client(test::protect_initial({&v1(), dcid, {}, {}, 300, 1}, keys, b)),
              Status::Complete);
    EXPECT_EQ(view(dec.client_hello()), hello);
}

}  // namespace
}  // namespace sybilwatch::quic
