#include "tls/record.hpp"

#include <algorithm>
#include <cstring>

#include "tls/reader.hpp"

namespace sybilwatch::tls {

const char* to_string(Extract e) {
    switch (e) {
        case Extract::Complete:
            return "complete";
        case Extract::NeedMore:
            return "need-more";
        case Extract::NotTls:
            return "not-tls";
        case Extract::Malformed:
            return "malformed";
    }
    return "?";
}

namespace {

// Validates the record header at `at` as far as the bytes reach, so a non-TLS stream is
// recognised from its first byte. The first record decides NotTls; a later bad header is a
// broken TLS stream.
Extract check_record_header(std::span<const uint8_t> s, size_t at, bool first, size_t& len) {
    const size_t avail = s.size() - at;
    const Extract bad = first ? Extract::NotTls : Extract::Malformed;
    if (avail >= 1 && s[at] != content_type::Handshake) return bad;
    if (avail >= 2 && s[at + 1] != 0x03) return bad;
    if (avail >= 3 && s[at + 2] > 0x04) return bad;
    if (avail < kRecordHeaderLen) return Extract::NeedMore;
    len = load_u16(&s[at + 3]);
    // Zero-length handshake fragments are forbidden (RFC 8446 5.1).
    if (len == 0 || len > kMaxRecordLen) return Extract::Malformed;
    return Extract::Complete;
}

// Reads the payloads of consecutive handshake records as one logical byte stream.
class RecordCursor {
  public:
    explicit RecordCursor(std::span<const uint8_t> s) : s_(s) {}

    // Makes at least one payload byte available at pos(), opening the next record if needed.
    Extract ready() {
        while (pos_ == rec_end_) {
            size_t len = 0;
            Extract e = check_record_header(s_, rec_end_, first_, len);
            if (e != Extract::Complete) return e;
            first_ = false;
            pos_ = rec_end_ + kRecordHeaderLen;
            rec_end_ = pos_ + len;
        }
        return pos_ < s_.size() ? Extract::Complete : Extract::NeedMore;
    }

    // Consumes n logical bytes, copying them to dest unless it is null.
    Extract take(size_t n, uint8_t* dest) {
        while (n > 0) {
            Extract e = ready();
            if (e != Extract::Complete) return e;
            size_t k = std::min(n, std::min(rec_end_, s_.size()) - pos_);
            if (dest != nullptr) {
                std::memcpy(dest, s_.data() + pos_, k);
                dest += k;
            }
            pos_ += k;
            n -= k;
        }
        return Extract::Complete;
    }

    size_t pos() const { return pos_; }
    size_t record_end() const { return rec_end_; }

  private:
    std::span<const uint8_t> s_;
    size_t pos_ = 0;
    size_t rec_end_ = 0;  // end of the current record's payload (may lie beyond s_)
    bool first_ = true;
};

}  // namespace

Extract extract_handshake(std::span<const uint8_t> stream, uint8_t msg_type,
                          std::span<uint8_t> scratch, std::span<const uint8_t>& out) {
    out = {};
    RecordCursor c(stream);
    for (;;) {
        Extract e = c.ready();
        if (e != Extract::Complete) return e;
        const size_t start = c.pos();
        const size_t rec_end = c.record_end();
        uint8_t hdr[kHandshakeHeaderLen];
        e = c.take(sizeof hdr, hdr);
        if (e != Extract::Complete) return e;
        const size_t body_len = size_t{hdr[1]} << 16 | size_t{hdr[2]} << 8 | hdr[3];
        const size_t total = kHandshakeHeaderLen + body_len;
        if (hdr[0] != msg_type) {
            e = c.take(body_len, nullptr);
            if (e != Extract::Complete) return e;
            continue;
        }
        if (start + total <= rec_end) {  // inside one record: view it in place
            if (start + total > stream.size()) return Extract::NeedMore;
            out = stream.subspan(start, total);
            return Extract::Complete;
        }
        if (total > scratch.size()) return Extract::Malformed;
        std::memcpy(scratch.data(), hdr, sizeof hdr);
        e = c.take(body_len, scratch.data() + sizeof hdr);
        if (e != Extract::Complete) return e;
        out = scratch.first(total);
        return Extract::Complete;
    }
}

Extract extract_dtls_handshake(std::span<const uint8_t> datagram, uint8_t msg_type,
                               std::span<uint8_t> scratch, std::span<const uint8_t>& out) {
    out = {};
    // DTLS record versions are 0xfeXX (one's complement of the TLS minor) or OpenSSL's
    // pre-standard 0x0100.
    if (datagram.empty() || datagram[0] != content_type::Handshake) return Extract::NotTls;
    if (datagram.size() >= 2 && datagram[1] != 0xfe && datagram[1] != 0x01) return Extract::NotTls;
    if (datagram.size() < kDtlsRecordHeaderLen) return Extract::Malformed;

    struct Interval {
        uint32_t begin, end;
    };
    // Fragments of one message within one datagram; more than this is an attack on the
    // reassembler, not a real client.
    constexpr size_t kMaxFragments = 32;
    Interval frags[kMaxFragments];
    size_t n_frags = 0;
    bool found = false;
    uint32_t msg_len = 0;
    uint16_t msg_seq = 0;

    Reader r(datagram);
    while (r.remaining() >= kDtlsRecordHeaderLen) {
        const uint8_t type = r.u8();
        r.skip(2);  // version
        const uint16_t epoch = r.u16();
        r.skip(6);  // sequence number
        auto record = r.vec16();
        if (!r.ok()) break;  // record runs past the datagram (snaplen)
        // Epoch > 0 is encrypted; only the clear handshake of epoch 0 is readable.
        if (type != content_type::Handshake || epoch != 0) continue;
        Reader h(record);
        while (h.remaining() >= kDtlsHandshakeHeaderLen) {
            const uint8_t t = h.u8();
            const uint32_t len = h.u24();
            const uint16_t seq = h.u16();
            const uint32_t off = h.u24();
            const uint32_t flen = h.u24();
            auto frag = h.bytes(flen);
            if (!h.ok()) return Extract::Malformed;
            if (t != msg_type) continue;
            if (!found) {
                found = true;
                msg_len = len;
                msg_seq = seq;
                if (kHandshakeHeaderLen + size_t{len} > scratch.size()) return Extract::Malformed;
            } else if (seq != msg_seq) {
                continue;  // a later message of the same type (e.g. after a cookie exchange)
            } else if (len != msg_len) {
                return Extract::Malformed;
            }
            if (size_t{off} + flen > msg_len) return Extract::Malformed;
            if (flen == 0) continue;
            if (n_frags == kMaxFragments) return Extract::Malformed;
            std::memcpy(scratch.data() + kHandshakeHeaderLen + off, frag.data(), flen);
            frags[n_frags++] = {off, off + flen};
        }
    }
    if (!found) return r.ok() ? Extract::NeedMore : Extract::Malformed;

    // Fragments may arrive in any order and overlap: grow the covered prefix until stuck.
    uint32_t covered = 0;
    for (bool progress = true; progress && covered < msg_len;) {
        progress = false;
        for (size_t i = 0; i < n_frags; ++i) {
            if (frags[i].begin <= covered && frags[i].end > covered) {
                covered = frags[i].end;
                progress = true;
            }
        }
    }
    if (covered < msg_len) return Extract::NeedMore;

    scratch[0] = msg_type;
    scratch[1] = static_cast<uint8_t>(msg_len >> 16);
    scratch[2] = static_cast<uint8_t>(msg_len >> 8);
    scratch[3] = static_cast<uint8_t>(msg_len);
    out = scratch.first(kHandshakeHeaderLen + msg_len);
    return Extract::Complete;
}

}  // namespace sybilwatch::tls
