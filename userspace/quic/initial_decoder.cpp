#include "quic/initial_decoder.hpp"

#include <algorithm>
#include <vector>

#include "quic/packet_protection.hpp"

namespace sybilwatch::quic {

namespace {

// RFC 9000 Appendix A.3: the full packet number closest to the next expected one.
uint64_t decode_packet_number(uint64_t expected, uint64_t truncated, size_t pn_len) {
    const uint64_t win = uint64_t{1} << (pn_len * 8);
    const uint64_t hwin = win / 2;
    const uint64_t mask = win - 1;
    const uint64_t candidate = (expected & ~mask) | truncated;
    if (candidate + hwin <= expected && candidate < (uint64_t{1} << 62) - win) {
        return candidate + win;
    }
    if (candidate > expected + hwin && candidate >= win) return candidate - win;
    return candidate;
}

// Header copy (the AAD, unmasked) followed by the plaintext. Grows to the largest datagram
// seen on this thread and is reused, so opening a packet does not allocate.
std::vector<uint8_t>& scratch(size_t need) {
    thread_local std::vector<uint8_t> buf;
    if (buf.size() < need) buf.resize(std::max<size_t>(need, 2048));
    return buf;
}

bool same(std::span<const uint8_t> a, std::span<const uint8_t> b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end());
}

}  // namespace

InitialDecoder::InitialDecoder(DecoderLimits limits)
    : limits_(limits), client_(limits.client_window), server_(limits.server_window) {
    client_.who = Perspective::Client;
    client_.message_type = 1;  // TLS ClientHello
    server_.who = Perspective::Server;
    server_.message_type = 2;  // TLS ServerHello (or HelloRetryRequest, which is one too)
}

Status InitialDecoder::feed_client(std::span<const uint8_t> datagram) {
    return feed(client_, datagram);
}

Status InitialDecoder::feed_server(std::span<const uint8_t> datagram) {
    return feed(server_, datagram);
}

Status InitialDecoder::feed(Direction& d, std::span<const uint8_t> datagram) {
    error_ = d.fatal;
    if (d.status != Status::NeedMore) return d.status;

    bool quic = false, opened = false, failed = false;
    size_t offset = 0;
    while (d.status == Status::NeedMore) {
        LongHeader h;
        const HeaderResult hr = parse_long_header(datagram, offset, h);
        if (hr == HeaderResult::NotLongHeader) break;  // short header, padding, or the end
        if (hr == HeaderResult::UnsupportedVersion) {
            if (!quic) error_ = Error::UnsupportedVersion;
            break;
        }
        if (hr != HeaderResult::Ok) {
            error_ = hr == HeaderResult::Truncated ? Error::Truncated : Error::MalformedHeader;
            failed = true;
            break;
        }
        quic = true;
        if (h.type != PacketType::Initial) {
            ++d.stats.skipped_packets;
            offset = h.end;
            continue;
        }
        switch (open_initial(d, datagram, h)) {
            case Open::Ok:
                opened = true;
                check_message(d);
                break;
            case Open::AuthFailed:
                ++d.stats.auth_failures;
                error_ = Error::AuthFailed;
                failed = true;
                break;
            case Open::TooShort:
                error_ = Error::MalformedHeader;
                failed = true;
                break;
            case Open::NoKeys:
                error_ = Error::NoKeys;
                failed = true;
                break;
            case Open::KeyLimit:
                error_ = Error::KeyLimit;
                failed = true;
                break;
            case Open::CryptoError:
                error_ = Error::CryptoLibrary;
                failed = true;
                break;
        }
        offset = h.end;
    }
    if (d.status != Status::NeedMore) return d.status;
    if (opened) return Status::NeedMore;
    if (failed) return Status::Failed;
    return quic ? Status::NeedMore : Status::NotQuic;
}

InitialDecoder::Open InitialDecoder::open_initial(Direction& d, std::span<const uint8_t> datagram,
                                                  const LongHeader& h) {
    const VersionParams& v = *h.version;
    Opened o;
    if (d.who == Perspective::Server) {
        // Server Initials are protected with keys from the client's DCID, which they lack.
        if (version_ == 0) return Open::NoKeys;
        if (!keys_for(d, v)) return error_ == Error::KeyLimit ? Open::KeyLimit : Open::CryptoError;
        const Open r = unprotect(d, d.keys, datagram, h, o);
        if (r == Open::Ok) accept(d, o);
        return r;
    }

    if (version_ == 0) {
        // Nothing opened yet: this packet's own DCID is the candidate. The keys are kept (and
        // dcid_ remembers whose they are) so a retransmission does not derive them again.
        if (d.keys_version != v.version || !same(h.dcid, {dcid_.data(), dcid_len_})) {
            if (!derive(v, h.dcid, Perspective::Client, d.keys)) {
                d.keys_version = 0;
                return error_ == Error::KeyLimit ? Open::KeyLimit : Open::CryptoError;
            }
            d.keys_version = v.version;
            dcid_len_ = static_cast<uint8_t>(h.dcid.size());
            std::copy(h.dcid.begin(), h.dcid.end(), dcid_.begin());
        }
        const Open r = unprotect(d, d.keys, datagram, h, o);
        if (r == Open::Ok) {
            lock(h.dcid, v.version);
            accept(d, o);
        }
        return r;
    }

    if (!keys_for(d, v)) return error_ == Error::KeyLimit ? Open::KeyLimit : Open::CryptoError;
    const Open r = unprotect(d, d.keys, datagram, h, o);
    if (r == Open::Ok) {
        accept(d, o);
        return r;
    }
    if (r != Open::AuthFailed || same(h.dcid, original_dcid())) return r;

    // After a Retry the client protects its Initials with keys from the Retry's Source CID,
    // which is now their DCID (RFC 9001 §5.2). A new connection on the same 4-tuple looks the
    // same. Either way the CRYPTO streams start over under the new keys.
    PacketKeys k;
    const Error before = error_;
    if (!derive(v, h.dcid, Perspective::Client, k)) {
        error_ = before;
        return r;
    }
    if (unprotect(d, k, datagram, h, o) != Open::Ok) return r;
    lock(h.dcid, v.version);
    d.keys = k;
    d.keys_version = v.version;
    accept(d, o);
    return Open::Ok;
}

InitialDecoder::Open InitialDecoder::unprotect(const Direction& d, const PacketKeys& keys,
                                               std::span<const uint8_t> datagram,
                                               const LongHeader& h, Opened& out) {
    // The header-protection sample starts 4 bytes past the packet number's start, as if it
    // were 4 bytes long (RFC 9001 §5.4.2); the packet must hold the sample and a tag.
    const size_t pn_offset = h.pn_offset;
    if (h.end - pn_offset < 4 + kHpSampleLength) return Open::TooShort;
    std::array<uint8_t, 5> mask;
    if (!header_protection_mask(keys.hp, datagram.subspan(pn_offset + 4).first<kHpSampleLength>(),
                                mask)) {
        return Open::CryptoError;
    }
    const uint8_t first = h.first_byte ^ (mask[0] & 0x0f);  // long header: 4 bits protected
    const size_t pn_len = (first & 0x03u) + 1;
    const size_t header_len = pn_offset + pn_len - h.start;
    const auto sealed = datagram.subspan(pn_offset + pn_len, h.end - pn_offset - pn_len);
    const size_t plain_len = sealed.size() - kAeadTagLength;

    std::vector<uint8_t>& buf = scratch(header_len + plain_len);
    const auto header = std::span<uint8_t>(buf).first(header_len);
    const auto plain = std::span<uint8_t>(buf).subspan(header_len, plain_len);
    std::copy_n(datagram.begin() + static_cast<ptrdiff_t>(h.start), header_len, header.begin());
    header[0] = first;
    uint64_t truncated = 0;
    for (size_t i = 0; i < pn_len; ++i) {
        uint8_t& b = header[header_len - pn_len + i];
        b ^= mask[1 + i];
        truncated = truncated << 8 | b;
    }
    out.pn = decode_packet_number(d.next_pn, truncated, pn_len);
    if (!aead_open(keys, out.pn, header, sealed, plain)) return Open::AuthFailed;
    out.plaintext = plain;
    return Open::Ok;
}

void InitialDecoder::accept(Direction& d, const Opened& o) {
    d.next_pn = std::max(d.next_pn, o.pn + 1);
    ++d.stats.initial_packets;
    if (parse_initial_frames(o.plaintext, d.stream, d.stats.frames) != FrameResult::Ok) {
        error_ = Error::BadFrame;  // what came before the bad frame is authenticated and kept
    }
}

bool InitialDecoder::derive(const VersionParams& v, std::span<const uint8_t> dcid, Perspective who,
                            PacketKeys& out) {
    if (derivations_ >= limits_.max_key_derivations) {
        error_ = Error::KeyLimit;
        return false;
    }
    ++derivations_;
    if (!derive_initial_keys(v, dcid, who, out)) {
        error_ = Error::CryptoLibrary;
        return false;
    }
    return true;
}

bool InitialDecoder::keys_for(Direction& d, const VersionParams& v) {
    // Derived on first use and again only if the version changes (compatible version
    // negotiation, RFC 9368, keeps the original DCID but switches salt and labels).
    if (d.keys_version == v.version) return true;
    if (!derive(v, original_dcid(), d.who, d.keys)) return false;
    d.keys_version = v.version;
    return true;
}

void InitialDecoder::lock(std::span<const uint8_t> dcid, uint32_t version) {
    dcid_len_ = static_cast<uint8_t>(dcid.size());
    std::copy(dcid.begin(), dcid.end(), dcid_.begin());
    version_ = version;
    client_.stream.clear();
    server_.stream.clear();
    server_.keys_version = 0;
    server_.next_pn = 0;
}

void InitialDecoder::check_message(Direction& d) {
    const auto prefix = d.stream.prefix();
    if (!prefix.empty() && prefix[0] != d.message_type) {
        d.status = Status::Failed;
        d.fatal = error_ = Error::UnexpectedMessage;
        return;
    }
    std::span<const uint8_t> msg;
    switch (d.stream.first_message(msg)) {
        case CryptoStream::MessageState::Complete:
            d.message = msg;
            d.status = Status::Complete;
            break;
        case CryptoStream::MessageState::TooLarge:
            d.status = Status::Failed;
            d.fatal = error_ = Error::MessageTooLarge;
            break;
        case CryptoStream::MessageState::Incomplete:
            break;
    }
}

const char* to_string(Status s) {
    switch (s) {
        case Status::NeedMore:
            return "need-more";
        case Status::Complete:
            return "complete";
        case Status::NotQuic:
            return "not-quic";
        case Status::Failed:
            return "failed";
    }
    return "?";
}

const char* to_string(Error e) {
    switch (e) {
        case Error::None:
            return "none";
        case Error::UnsupportedVersion:
            return "unsupported version";
        case Error::Truncated:
            return "truncated";
        case Error::MalformedHeader:
            return "malformed header";
        case Error::NoKeys:
            return "no keys (server Initial before client Initial)";
        case Error::AuthFailed:
            return "authentication failed";
        case Error::BadFrame:
            return "bad frame";
        case Error::UnexpectedMessage:
            return "unexpected handshake message";
        case Error::MessageTooLarge:
            return "handshake message too large";
        case Error::KeyLimit:
            return "key derivation limit";
        case Error::CryptoLibrary:
            return "crypto library error";
    }
    return "?";
}

}  // namespace sybilwatch::quic
