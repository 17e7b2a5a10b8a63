// Helpers shared by the QUIC unit tests: hex and test-data loading, and a builder that protects
// Initial packets the way a client or server does (its output is checked byte for byte against
// the RFC 9001 / RFC 9369 example packets before any test relies on it).
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <fstream>
#include <span>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "quic/initial_keys.hpp"
#include "quic/packet_protection.hpp"
#include "quic/version.hpp"

namespace sybilwatch::quic::test {

using Bytes = std::vector<uint8_t>;

inline Bytes from_hex(std::string_view hex) {
    auto nibble = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    };
    Bytes out;
    int hi = -1;
    for (char c : hex) {
        const int v = nibble(c);
        if (v < 0) continue;  // whitespace and separators
        if (hi < 0) {
            hi = v;
        } else {
            out.push_back(static_cast<uint8_t>(hi << 4 | v));
            hi = -1;
        }
    }
    if (hi >= 0) throw std::invalid_argument("odd number of hex digits");
    return out;
}

inline std::string to_hex(std::span<const uint8_t> b) {
    static const char* digits = "0123456789abcdef";
    std::string s;
    for (uint8_t x : b) {
        s += digits[x >> 4];
        s += digits[x & 15];
    }
    return s;
}

inline std::string data_path(const std::string& name) {
    return std::string(SW_SOURCE_DIR) + "/tests/data/quic/" + name;
}

// One datagram of a capture file: 'C' from the client, 'S' from the server.
struct Datagram {
    char from;
    Bytes bytes;
};

// Reads tests/data/quic/NAME: '#' comment lines, then "C <hex>" / "S <hex>" lines, or bare hex.
inline std::vector<Datagram> load_datagrams(const std::string& name) {
    std::ifstream in(data_path(name));
    if (!in) throw std::runtime_error("cannot open " + data_path(name));
    std::vector<Datagram> out;
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty() || line[0] == '#') continue;
        char from = 0;
        if ((line[0] == 'C' || line[0] == 'S') && line.size() > 1 && line[1] == ' ') {
            from = line[0];
            line.erase(0, 2);
        }
        out.push_back({from, from_hex(line)});
    }
    return out;
}

inline Bytes load_blob(const std::string& name) {
    auto d = load_datagrams(name);
    if (d.size() != 1) throw std::runtime_error(name + ": expected one hex line");
    return d[0].bytes;
}

// The sni column of the UDP row for `pcap` in the FoxIO conformance vectors.
inline std::string expected_sni(const std::string& pcap) {
    const std::string path = std::string(SW_SHARED_DIR) + "/conformance/foxio/VECTORS.tsv";
    std::ifstream in(path);
    if (!in) throw std::runtime_error("cannot open " + path);
    std::string line;
    std::vector<std::string> header;
    while (std::getline(in, line)) {
        if (line.empty() || line[0] == '#') continue;
        std::vector<std::string> cols;
        std::stringstream ss(line);
        std::string col;
        while (std::getline(ss, col, '\t'))
            cols.push_back(col);
        if (header.empty()) {
            header = cols;
            continue;
        }
        auto idx = [&](const char* name) {
            return static_cast<size_t>(std::find(header.begin(), header.end(), name) -
                                       header.begin());
        };
        const size_t p = idx("pcap"), t = idx("transport"), s = idx("sni");
        if (cols.size() > std::max({p, t, s}) && cols[p] == pcap && cols[t] == "udp") {
            return cols[s];
        }
    }
    throw std::runtime_error("no udp row for " + pcap);
}

inline bool contains(std::span<const uint8_t> hay, std::string_view needle) {
    return std::search(hay.begin(), hay.end(), needle.begin(), needle.end()) != hay.end();
}

// Builds a protected long-header Initial packet (RFC 9001 §5): the Length field always takes
// two bytes, as in the RFC examples.
struct InitialSpec {
    const VersionParams* version;
    Bytes dcid;
    Bytes scid;
    Bytes token;
    uint64_t pn = 0;
    size_t pn_len = 4;
};

inline Bytes protect_initial(const InitialSpec& s, const PacketKeys& keys,
                             std::span<const uint8_t> payload) {
    const unsigned type_code = s.version->v2_packet_types ? 1 : 0;
    Bytes pkt;
    pkt.push_back(static_cast<uint8_t>(0xc0 | type_code << 4 | (s.pn_len - 1)));
    for (int i = 3; i >= 0; --i)
        pkt.push_back(static_cast<uint8_t>(s.version->version >> (8 * i)));
    pkt.push_back(static_cast<uint8_t>(s.dcid.size()));
    pkt.insert(pkt.end(), s.dcid.begin(), s.dcid.end());
    pkt.push_back(static_cast<uint8_t>(s.scid.size()));
    pkt.insert(pkt.end(), s.scid.begin(), s.scid.end());
    if (s.token.size() > 63) throw std::invalid_argument("token too long for this builder");
    pkt.push_back(static_cast<uint8_t>(s.token.size()));
    pkt.insert(pkt.end(), s.token.begin(), s.token.end());
    const size_t length = s.pn_len + payload.size() + kAeadTagLength;
    if (length > 0x3fff) throw std::invalid_argument("payload too long for this builder");
    pkt.push_back(static_cast<uint8_t>(0x40 | length >> 8));
    pkt.push_back(static_cast<uint8_t>(length));
    const size_t pn_offset = pkt.size();
    for (size_t i = s.pn_len; i-- > 0;)
        pkt.push_back(static_cast<uint8_t>(s.pn >> (8 * i)));

    Bytes sealed(payload.size() + kAeadTagLength);
    if (!aead_seal(keys, s.pn, pkt, payload, sealed)) throw std::runtime_error("seal failed");
    pkt.insert(pkt.end(), sealed.begin(), sealed.end());

    std::array<uint8_t, 5> mask;
    const auto sample = std::span<const uint8_t>(pkt).subspan(pn_offset + 4).first<16>();
    if (!header_protection_mask(keys.hp, sample, mask)) throw std::runtime_error("mask failed");
    pkt[0] ^= mask[0] & 0x0f;
    for (size_t i = 0; i < s.pn_len; ++i)
        pkt[pn_offset + i] ^= mask[1 + i];
    return pkt;
}

inline PacketKeys keys_for(const VersionParams& v, std::span<const uint8_t> dcid, Perspective who) {
    PacketKeys k;
    if (!derive_initial_keys(v, dcid, who, k)) throw std::runtime_error("derive failed");
    return k;
}

// A CRYPTO frame (type 0x06) carrying data at the given stream offset.
inline void append_varint(Bytes& out, uint64_t v) {
    if (v < 0x40) {
        out.push_back(static_cast<uint8_t>(v));
    } else if (v < 0x4000) {
        out.push_back(static_cast<uint8_t>(0x40 | v >> 8));
        out.push_back(static_cast<uint8_t>(v));
    } else if (v < 0x40000000) {
        for (int i = 3; i >= 0; --i) {
            out.push_back(static_cast<uint8_t>((i == 3 ? 0x80 : 0) | (v >> (8 * i) & 0xff)));
        }
    } else {
        for (int i = 7; i >= 0; --i) {
            out.push_back(static_cast<uint8_t>((i == 7 ? 0xc0 : 0) | (v >> (8 * i) & 0xff)));
        }
    }
}

inline void append_crypto(Bytes& out, uint64_t offset, std::span<const uint8_t> data) {
    out.push_back(0x06);
    append_varint(out, offset);
    append_varint(out, data.size());
    out.insert(out.end(), data.begin(), data.end());
}

}  // namespace sybilwatch::quic::test
