// Finds one handshake message (ClientHello, ServerHello, ...) at the start of a TLS byte stream
// or inside a DTLS datagram. Zero-copy when the message sits inside one record; a message that
// spans records (evasive clients split the ClientHello on purpose) or DTLS fragments is
// assembled in a buffer the caller owns. Never allocates, never reads outside its inputs.
#pragma once

#include <cstdint>
#include <span>

namespace sybilwatch::tls {

namespace content_type {
inline constexpr uint8_t ChangeCipherSpec = 20, Alert = 21, Handshake = 22, ApplicationData = 23;
}
namespace handshake_type {
inline constexpr uint8_t ClientHello = 1, ServerHello = 2, Certificate = 11;
}

inline constexpr size_t kRecordHeaderLen = 5;
inline constexpr size_t kHandshakeHeaderLen = 4;
inline constexpr size_t kDtlsRecordHeaderLen = 13;
inline constexpr size_t kDtlsHandshakeHeaderLen = 12;
// TLSPlaintext.length is at most 2^14 (RFC 8446 5.1); allow the 2^14 + 2048 of RFC 5246's
// TLSCompressed so an old stack is not refused over a technicality.
inline constexpr size_t kMaxRecordLen = 16384 + 2048;

enum class Extract : uint8_t {
    Complete,   // `out` holds the whole message: type, 3-byte length, body
    NeedMore,   // a prefix of a plausible TLS stream: retry with more contiguous bytes
    NotTls,     // not TLS (HTTP, SSH, SSLv2, ...): stop buffering this direction
    Malformed,  // TLS framing that is broken, or a message larger than `scratch`
};

const char* to_string(Extract e);

// `stream` starts at a record boundary (the first byte the peer sent). Looks for the first
// handshake message of type `msg_type`, skipping earlier handshake messages. On Complete, `out`
// views `stream` when the message lies in one record, else `scratch` (which must then hold the
// whole message, header included, or the result is Malformed). The record-layer version is only
// checked for plausibility; fingerprints never use it.
Extract extract_handshake(std::span<const uint8_t> stream, uint8_t msg_type,
                          std::span<uint8_t> scratch, std::span<const uint8_t>& out);

// One DTLS datagram (RFC 6347 / 9147 plaintext records, possibly several per datagram). Gathers
// the fragments of the first message of type `msg_type` into `scratch` and rewrites it in the TLS
// form (type, 3-byte length, body) so the TLS parsers read it with is_dtls set. NeedMore: the
// message is not complete within this datagram.
Extract extract_dtls_handshake(std::span<const uint8_t> datagram, uint8_t msg_type,
                               std::span<uint8_t> scratch, std::span<const uint8_t>& out);

inline Extract extract_dtls_client_hello(std::span<const uint8_t> datagram,
                                         std::span<uint8_t> scratch,
                                         std::span<const uint8_t>& out) {
    return extract_dtls_handshake(datagram, handshake_type::ClientHello, scratch, out);
}

}  // namespace sybilwatch::tls
