#include "quic/long_header.hpp"

#include "quic/byte_reader.hpp"

namespace sybilwatch::quic {

HeaderResult parse_long_header(std::span<const uint8_t> datagram, size_t offset, LongHeader& out) {
    if (offset >= datagram.size()) return HeaderResult::NotLongHeader;
    ByteReader r(datagram.subspan(offset));
    uint8_t first = 0;
    uint32_t version = 0;
    r.u8(first);
    if ((first & 0x80) == 0) return HeaderResult::NotLongHeader;
    if (!r.u32(version)) return HeaderResult::Truncated;
    const VersionParams* params = find_version(version);
    if (params == nullptr) return HeaderResult::UnsupportedVersion;

    uint8_t dcid_len = 0, scid_len = 0;
    std::span<const uint8_t> dcid, scid, token;
    if (!r.u8(dcid_len)) return HeaderResult::Truncated;
    if (dcid_len > kMaxCidLength) return HeaderResult::Malformed;
    if (!r.bytes(dcid_len, dcid)) return HeaderResult::Truncated;
    if (!r.u8(scid_len)) return HeaderResult::Truncated;
    if (scid_len > kMaxCidLength) return HeaderResult::Malformed;
    if (!r.bytes(scid_len, scid)) return HeaderResult::Truncated;

    const PacketType type = long_packet_type(*params, first);
    out = LongHeader{};
    out.version = params;
    out.type = type;
    out.first_byte = first;
    out.dcid = dcid;
    out.scid = scid;
    out.start = offset;
    if (type == PacketType::Retry) {
        // No Length field: a Retry runs to the end of the datagram.
        out.end = datagram.size();
        return HeaderResult::Ok;
    }
    if (type == PacketType::Initial) {
        uint64_t token_len = 0;
        if (!r.varint(token_len)) return HeaderResult::Truncated;
        if (token_len > r.remaining()) return HeaderResult::Truncated;
        r.bytes(static_cast<size_t>(token_len), token);
        out.token = token;
    }
    uint64_t length = 0;
    if (!r.varint(length)) return HeaderResult::Truncated;
    if (length > r.remaining()) return HeaderResult::Truncated;
    out.pn_offset = offset + r.offset();
    out.end = out.pn_offset + static_cast<size_t>(length);
    return HeaderResult::Ok;
}

bool looks_like_initial(std::span<const uint8_t> udp_payload) {
    if (udp_payload.empty() || (udp_payload[0] & 0xc0) != 0xc0) return false;
    LongHeader h;
    return parse_long_header(udp_payload, 0, h) == HeaderResult::Ok &&
           h.type == PacketType::Initial;
}

const char* to_string(HeaderResult r) {
    switch (r) {
        case HeaderResult::Ok:
            return "ok";
        case HeaderResult::NotLongHeader:
            return "not a long header";
        case HeaderResult::UnsupportedVersion:
            return "unsupported version";
        case HeaderResult::Truncated:
            return "truncated";
        case HeaderResult::Malformed:
            return "malformed";
    }
    return "?";
}

}  // namespace sybilwatch::quic
