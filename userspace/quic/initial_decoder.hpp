// Per-connection decoder of QUIC Initial packets, for a passive observer: derives the Initial
// keys from the client's first Destination Connection ID, opens every client (and optionally
// server) Initial packet, and reassembles the CRYPTO stream until the first TLS handshake
// message is complete: the ClientHello for JA4/JA3, the ServerHello for JA4S.
//
// Feed it every UDP payload of the flow, each direction to its own method, in capture order.
// Coalesced packets are split by their Length fields; 0-RTT, Handshake and 1-RTT packets are
// skipped. Memory: a few hundred bytes per decoder, plus one reassembly window per direction
// (DecoderLimits) allocated when that direction's first Initial authenticates; nothing per
// packet.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "quic/crypto_stream.hpp"
#include "quic/initial_frames.hpp"
#include "quic/initial_keys.hpp"
#include "quic/long_header.hpp"

namespace sybilwatch::quic {

enum class Status : uint8_t {
    NeedMore,  // QUIC, but the handshake message is not complete yet
    Complete,  // the handshake message is available (and stays so: further input is ignored)
    NotQuic,   // no long-header packet of a version we can open
    Failed,    // see last_error(): this datagram could not be opened, or the direction gave up
};
const char* to_string(Status s);

enum class Error : uint8_t {
    None,
    UnsupportedVersion,  // Version Negotiation, greased or unknown version
    Truncated,           // the datagram ends before the packet does (e.g. snaplen)
    MalformedHeader,     // connection ID over 20 bytes, or a packet too short to be protected
    NoKeys,              // a server Initial before any client Initial was opened
    AuthFailed,          // AEAD tag mismatch: other keys (wrong DCID), corruption, not Initial
    BadFrame,            // authenticated, but a frame was malformed or disallowed (data kept)
    UnexpectedMessage,   // the first handshake message is not a ClientHello / ServerHello
    MessageTooLarge,     // the first handshake message does not fit the reassembly window
    KeyLimit,            // too many key derivations for one connection: giving up
    CryptoLibrary,       // OpenSSL failed
};
const char* to_string(Error e);

inline constexpr size_t kDefaultClientWindow = 16 * 1024;  // post-quantum ClientHellos ~ 2 KiB
inline constexpr size_t kDefaultServerWindow = 4 * 1024;   // a ServerHello is ~ 100 bytes

struct DecoderLimits {
    size_t client_window = kDefaultClientWindow;
    size_t server_window = kDefaultServerWindow;
    // Key derivations (each ~10 HMACs) allowed per connection: the first Initial, a Retry,
    // a compatible version change. Bounds the work garbage "Initials" on one flow can cause.
    uint32_t max_key_derivations = 8;
};

struct DirectionStats {
    uint32_t initial_packets = 0;  // opened and authenticated
    uint32_t auth_failures = 0;
    uint32_t skipped_packets = 0;  // 0-RTT / Handshake / Retry long-header packets
    FrameCounts frames;
};

class InitialDecoder {
  public:
    explicit InitialDecoder(DecoderLimits limits = {});

    // One UDP payload from the client. Returns the client direction's state after it.
    Status feed_client(std::span<const uint8_t> datagram);
    // One UDP payload from the server; needs the client's first Initial to have been opened.
    Status feed_server(std::span<const uint8_t> datagram);

    // The complete first handshake message (type, 3-byte length, body); empty until Complete.
    // Views into the decoder's window, unchanged once Complete: valid while the decoder lives.
    std::span<const uint8_t> client_hello() const { return client_.message; }
    std::span<const uint8_t> server_hello() const { return server_.message; }

    Status client_status() const { return client_.status; }
    Status server_status() const { return server_.status; }
    Error last_error() const { return error_; }

    // The version and Destination Connection ID the Initial keys come from: those of the
    // client's first authenticated Initial (after a Retry, of the Initial that followed it).
    // 0 / empty until a client Initial has been opened.
    uint32_t version() const { return version_; }
    std::span<const uint8_t> original_dcid() const {
        return {dcid_.data(), version_ != 0 ? dcid_len_ : size_t{0}};
    }

    const DirectionStats& client_stats() const { return client_.stats; }
    const DirectionStats& server_stats() const { return server_.stats; }

  private:
    struct Direction {
        explicit Direction(size_t window) : stream(window) {}
        Perspective who = Perspective::Client;
        uint8_t message_type = 0;  // TLS HandshakeType expected first: 1 ClientHello, 2 ServerHello
        PacketKeys keys;
        uint32_t keys_version = 0;  // 0: no keys derived yet
        uint64_t next_pn = 0;       // largest packet number opened + 1 (RFC 9000 A.3 "expected")
        CryptoStream stream;
        Status status = Status::NeedMore;  // Complete or Failed are final
        Error fatal = Error::None;         // why status is Failed
        std::span<const uint8_t> message;
        DirectionStats stats;
    };

    enum class Open : uint8_t { Ok, AuthFailed, TooShort, NoKeys, KeyLimit, CryptoError };

    Status feed(Direction& d, std::span<const uint8_t> datagram);
    // Picks the keys for one Initial and opens it; locks or switches the connection's keys.
    Open open_initial(Direction& d, std::span<const uint8_t> datagram, const LongHeader& h);
    struct Opened {
        uint64_t pn = 0;
        std::span<const uint8_t> plaintext;  // in the thread's scratch buffer
    };
    // Removes header protection and decrypts; changes no state.
    Open unprotect(const Direction& d, const PacketKeys& keys, std::span<const uint8_t> datagram,
                   const LongHeader& h, Opened& out);
    // Takes an authenticated packet into the direction's state and CRYPTO stream.
    void accept(Direction& d, const Opened& o);
    bool derive(const VersionParams& v, std::span<const uint8_t> dcid, Perspective who,
                PacketKeys& out);
    bool keys_for(Direction& d, const VersionParams& v);
    void lock(std::span<const uint8_t> dcid, uint32_t version);
    void check_message(Direction& d);

    DecoderLimits limits_;
    Direction client_;
    Direction server_;
    std::array<uint8_t, kMaxCidLength> dcid_{};
    uint8_t dcid_len_ = 0;
    uint32_t version_ = 0;  // non-zero once the keys are locked to dcid_
    uint32_t derivations_ = 0;
    Error error_ = Error::None;
};

}  // namespace sybilwatch::quic
