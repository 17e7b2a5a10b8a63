#include "tls/record.hpp"

#include <gtest/gtest.h>

#include <array>
#include <string>

#include "tls/client_hello.hpp"
#include "unit/tls/hello_test_data.hpp"

namespace sybilwatch::tls {
namespace {

using testdata::Bytes;

std::span<const uint8_t> as_span(const std::string& s) {
    return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

bool inside(std::span<const uint8_t> inner, std::span<const uint8_t> outer) {
    return inner.data() >= outer.data() &&
           inner.data() + inner.size() <= outer.data() + outer.size();
}

TEST(ExtractHandshake, RealClientHelloIsViewedInPlace) {
    const Bytes stream = testdata::read_hex("chrome_tls13.client.hex");
    std::array<uint8_t, 64> scratch{};
    std::span<const uint8_t> out;
    ASSERT_EQ(extract_handshake(stream, handshake_type::ClientHello, scratch, out),
              Extract::Complete);
    EXPECT_TRUE(inside(out, stream));  // zero-copy
    EXPECT_EQ(out.size(), 4u + 508u);  // handshake length 508 in the capture
    EXPECT_EQ(out[0], handshake_type::ClientHello);
}

TEST(ExtractHandshake, EveryRealStreamYieldsItsHellos) {
    std::array<uint8_t, 16384> scratch{};
    for (const auto& row : testdata::read_expected()) {
        if (row.at("name") == "dtls_client_hello") continue;
        SCOPED_TRACE(row.at("name"));
        const Bytes client = testdata::read_hex(row.at("name") + ".client.hex");
        std::span<const uint8_t> out;
        ASSERT_EQ(extract_handshake(client, handshake_type::ClientHello, scratch, out),
                  Extract::Complete);
        EXPECT_EQ(out[0], handshake_type::ClientHello);
        const std::string server_file = row.at("name") + ".server.hex";
        if (!testdata::file_exists(testdata::tls_data_path(server_file))) continue;
        const Bytes server = testdata::read_hex(server_file);
        // The file ends with the ServerHello, inside a record the capture continues: the
        // message is complete even though its record is not.
        ASSERT_EQ(extract_handshake(server, handshake_type::ServerHello, scratch, out),
                  Extract::Complete);
        EXPECT_EQ(out.data() + out.size(), server.data() + server.size());
    }
}

TEST(ExtractHandshake, EveryTruncationAsksForMore) {
    const Bytes stream = testdata::read_hex("chrome_tls13.client.hex");
    std::array<uint8_t, 1024> scratch{};
    std::span<const uint8_t> out;
    for (size_t n = 0; n < stream.size(); ++n) {
        ASSERT_EQ(extract_handshake(std::span(stream).first(n), handshake_type::ClientHello,
                                    scratch, out),
                  Extract::NeedMore)
            << "length " << n;
        EXPECT_TRUE(out.empty());
    }
}

TEST(ExtractHandshake, ClientHelloSplitOverThreeRecords) {
    const Bytes msg = testdata::first_message(testdata::read_hex("chrome_tls13.client.hex"));
    // Splits inside the 4-byte handshake header and in the middle of the body.
    const Bytes stream = testdata::wrap_records(msg, {2, 300});
    std::array<uint8_t, 1024> scratch{};
    std::span<const uint8_t> out;
    ASSERT_EQ(extract_handshake(stream, handshake_type::ClientHello, scratch, out),
              Extract::Complete);
    EXPECT_TRUE(inside(out, scratch));
    EXPECT_EQ(Bytes(out.begin(), out.end()), msg);

    // Every prefix of the split stream is incomplete, never an error.
    for (size_t n = 0; n < stream.size(); ++n) {
        ASSERT_EQ(extract_handshake(std::span(stream).first(n), handshake_type::ClientHello,
                                    scratch, out),
                  Extract::NeedMore)
            << "length " << n;
    }
}

TEST(ExtractHandshake, OneByteRecordsReassemble) {
    const Bytes msg = testdata::first_message(testdata::read_hex("tls10_no_sigalgs.client.hex"));
    const Bytes stream = testdata::wrap_records(msg, std::vector<size_t>(msg.size(), 1));
    std::array<uint8_t, 1024> scratch{};
    std::span<const uint8_t> out;
    ASSERT_EQ(extract_handshake(stream, handshake_type::ClientHello, scratch, out),
              Extract::Complete);
    EXPECT_EQ(Bytes(out.begin(), out.end()), msg);
}

TEST(ExtractHandshake, ScratchTooSmallForSplitMessageIsMalformed) {
    const Bytes msg = testdata::first_message(testdata::read_hex("chrome_tls13.client.hex"));
    const Bytes stream = testdata::wrap_records(msg, {100});
    std::array<uint8_t, 256> scratch{};
    std::span<const uint8_t> out;
    EXPECT_EQ(extract_handshake(stream, handshake_type::ClientHello, scratch, out),
              Extract::Malformed);
    // A message inside one record needs no scratch at all.
    EXPECT_EQ(extract_handshake(testdata::wrap_records(msg), handshake_type::ClientHello,
                                std::span<uint8_t>(), out),
              Extract::Complete);
}

TEST(ExtractHandshake, SkipsEarlierMessagesOfOtherTypes) {
    // HelloRequest (type 0, empty) then the ServerHello, in one record and split.
    const Bytes sh = testdata::first_message(testdata::read_hex("chrome_tls13.server.hex"));
    Bytes hs{0, 0, 0, 0};
    testdata::append(hs, sh);
    std::array<uint8_t, 1024> scratch{};
    std::span<const uint8_t> out;
    for (const Bytes& stream : {testdata::wrap_records(hs), testdata::wrap_records(hs, {3, 50})}) {
        ASSERT_EQ(extract_handshake(stream, handshake_type::ServerHello, scratch, out),
                  Extract::Complete);
        EXPECT_EQ(Bytes(out.begin(), out.end()), sh);
    }
}

TEST(ExtractHandshake, OtherProtocolsAreNotTlsFromTheFirstBytes) {
    std::array<uint8_t, 64> scratch{};
    std::span<const uint8_t> out;
    for (const std::string& s :
         {std::string("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), std::string("SSH-2.0-OpenSSH_9.6\r\n"),
          std::string("G"), std::string("PRI * HTTP/2.0\r\n"), std::string("\x16\x01", 2),
          std::string("\x16\x03\x09", 3)}) {
        EXPECT_EQ(extract_handshake(as_span(s), handshake_type::ClientHello, scratch, out),
                  Extract::NotTls)
            << s;
    }
    // SSLv2-compatible ClientHello (2-byte header with the high bit set).
    const Bytes sslv2{0x80, 0x2e, 0x01, 0x00, 0x02, 0x00, 0x15};
    EXPECT_EQ(extract_handshake(sslv2, handshake_type::ClientHello, scratch, out), Extract::NotTls);
    // A plausible start is not judged too early.
    EXPECT_EQ(extract_handshake(Bytes{0x16, 0x03}, handshake_type::ClientHello, scratch, out),
              Extract::NeedMore);
}

TEST(ExtractHandshake, BrokenFramingIsMalformed) {
    std::array<uint8_t, 1024> scratch{};
    std::span<const uint8_t> out;
    // Zero-length handshake record.
    EXPECT_EQ(extract_handshake(Bytes{22, 3, 1, 0, 0}, handshake_type::ClientHello, scratch, out),
              Extract::Malformed);
    // Record longer than TLS allows.
    EXPECT_EQ(
        extract_handshake(Bytes{22, 3, 1, 0xff, 0xff}, handshake_type::ClientHello, scratch, out),
        Extract::Malformed);
    // An alert record in the middle of a split ClientHello.
    const Bytes msg = testdata::first_message(testdata::read_hex("chrome_tls13.client.hex"));
    Bytes stream = testdata::wrap_records(Bytes(msg.begin(), msg.begin() + 100));
    testdata::append(stream, Bytes{21, 3, 3, 0, 2, 2, 40});
    EXPECT_EQ(extract_handshake(stream, handshake_type::ClientHello, scratch, out),
              Extract::Malformed);
}

// ---- DTLS ----

// Rewrites a TLS-form message as DTLS handshake fragments, each in its own record, all in one
// datagram, in the given order.
Bytes dtls_datagram(const Bytes& msg, const std::vector<std::pair<size_t, size_t>>& frags) {
    const size_t len = msg.size() - 4;
    Bytes d;
    uint8_t seq = 0;
    for (auto [off, n] : frags) {
        Bytes hs{msg[0]};
        testdata::put24(hs, len);
        testdata::put16(hs, 0);  // message_seq
        testdata::put24(hs, off);
        testdata::put24(hs, n);
        hs.insert(hs.end(), msg.begin() + 4 + static_cast<long>(off),
                  msg.begin() + 4 + static_cast<long>(off + n));
        Bytes rec{22, 0xfe, 0xff, 0, 0, 0, 0, 0, 0, 0, seq++};
        testdata::put16(rec, static_cast<uint16_t>(hs.size()));
        testdata::append(rec, hs);
        testdata::append(d, rec);
    }
    return d;
}

TEST(ExtractDtls, RealClientHello) {
    const Bytes datagram = testdata::read_hex("dtls_client_hello.hex");
    std::array<uint8_t, 2048> scratch{};
    std::span<const uint8_t> out;
    ASSERT_EQ(extract_dtls_client_hello(datagram, scratch, out), Extract::Complete);
    ASSERT_EQ(out.size(), 4u + 139u);  // dtls.handshake.length 139 in the capture
    ClientHello ch;
    ASSERT_TRUE(parse_client_hello(out, /*is_dtls=*/true, ch));
    EXPECT_EQ(ch.legacy_version, 0xfeff);
    EXPECT_TRUE(ch.cookie.empty());
    EXPECT_EQ(ch.ciphers().size(), 44u);
    // The TLS parser without the cookie field misreads it.
    ClientHello wrong;
    EXPECT_FALSE(parse_client_hello(out, false, wrong) && wrong.ciphers().size() == 44u);

    for (size_t n = 0; n < datagram.size(); ++n) {
        Extract e = extract_dtls_client_hello(std::span(datagram).first(n), scratch, out);
        EXPECT_NE(e, Extract::Complete) << n;
    }
}

TEST(ExtractDtls, FragmentsOutOfOrderAndOverlapping) {
    const Bytes msg = testdata::first_message(testdata::read_hex("chrome_tls13.client.hex"));
    const size_t len = msg.size() - 4;
    std::array<uint8_t, 2048> scratch{};
    std::span<const uint8_t> out;
    const Bytes d = dtls_datagram(msg, {{300, len - 300}, {0, 200}, {150, 200}});
    ASSERT_EQ(extract_dtls_client_hello(d, scratch, out), Extract::Complete);
    EXPECT_EQ(Bytes(out.begin(), out.end()), msg);

    // A gap: the datagram does not hold the whole message.
    EXPECT_EQ(
        extract_dtls_client_hello(dtls_datagram(msg, {{0, 200}, {300, len - 300}}), scratch, out),
        Extract::NeedMore);
    // A fragment beyond the message length.
    Bytes bad = dtls_datagram(msg, {{0, len}});
    bad[13 + 1 + 3 + 2] = 0x10;  // fragment_offset high byte: beyond the length
    EXPECT_EQ(extract_dtls_client_hello(bad, scratch, out), Extract::Malformed);
    // Scratch too small.
    std::array<uint8_t, 100> small{};
    EXPECT_EQ(extract_dtls_client_hello(dtls_datagram(msg, {{0, len}}), small, out),
              Extract::Malformed);
}

TEST(ExtractDtls, NotDtls) {
    std::array<uint8_t, 64> scratch{};
    std::span<const uint8_t> out;
    EXPECT_EQ(extract_dtls_client_hello(Bytes{}, scratch, out), Extract::NotTls);
    EXPECT_EQ(extract_dtls_client_hello(Bytes{0x17, 0xfe, 0xfd}, scratch, out), Extract::NotTls);
    // A TLS (not DTLS) record.
    EXPECT_EQ(
        extract_dtls_client_hello(testdata::read_hex("chrome_tls13.client.hex"), scratch, out),
        Extract::NotTls);
}

}  // namespace
}  // namespace sybilwatch::tls
