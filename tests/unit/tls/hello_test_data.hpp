// Test helpers shared by the tls, fingerprint and foxio unit tests: the real hellos under
// tests/data/tls/ with their reference values, and a builder for synthetic hellos (edge cases
// no capture contains).
#pragma once

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "tls/client_hello.hpp"

namespace sybilwatch::testdata {

using Bytes = std::vector<uint8_t>;

inline std::string tls_data_path(const std::string& file) {
    return std::string(SW_SOURCE_DIR) + "/tests/data/tls/" + file;
}

inline bool file_exists(const std::string& path) {
    return std::ifstream(path).good();
}

// A .hex file: '#' comment lines, then hex digits (whitespace ignored).
inline Bytes read_hex(const std::string& file) {
    std::ifstream in(tls_data_path(file));
    if (!in) throw std::runtime_error("cannot open " + tls_data_path(file));
    std::string line, digits;
    while (std::getline(in, line)) {
        if (!line.empty() && line[0] == '#') continue;
        for (char c : line) {
            if (!std::isspace(static_cast<unsigned char>(c))) digits += c;
        }
    }
    Bytes out;
    for (size_t i = 0; i + 1 < digits.size(); i += 2) {
        out.push_back(static_cast<uint8_t>(std::stoul(digits.substr(i, 2), nullptr, 16)));
    }
    return out;
}

// One row of tests/data/tls/expected.tsv, by column name.
using Expected = std::map<std::string, std::string>;

inline std::vector<Expected> read_expected() {
    std::ifstream in(tls_data_path("expected.tsv"));
    if (!in) throw std::runtime_error("cannot open expected.tsv");
    std::vector<std::string> cols;
    std::vector<Expected> rows;
    std::string line;
    auto split = [](const std::string& s) {
        std::vector<std::string> out;
        std::string cur;
        std::istringstream ss(s);
        while (std::getline(ss, cur, '\t'))
            out.push_back(cur);
        if (!s.empty() && s.back() == '\t') out.emplace_back();
        return out;
    };
    while (std::getline(in, line)) {
        if (line.empty() || line[0] == '#') continue;
        auto f = split(line);
        if (cols.empty()) {
            cols = f;
            continue;
        }
        Expected row;
        for (size_t i = 0; i < cols.size(); ++i)
            row[cols[i]] = i < f.size() ? f[i] : "";
        rows.push_back(std::move(row));
    }
    return rows;
}

// ---- synthetic hellos ----

inline void put16(Bytes& b, uint16_t v) {
    b.push_back(static_cast<uint8_t>(v >> 8));
    b.push_back(static_cast<uint8_t>(v));
}
inline void put24(Bytes& b, size_t v) {
    b.push_back(static_cast<uint8_t>(v >> 16));
    b.push_back(static_cast<uint8_t>(v >> 8));
    b.push_back(static_cast<uint8_t>(v));
}
inline void append(Bytes& b, const Bytes& more) {
    b.insert(b.end(), more.begin(), more.end());
}

struct Ext {
    uint16_t type;
    Bytes body;
};

inline Bytes list16(const std::vector<uint16_t>& v, bool u8_len = false) {
    Bytes b;
    if (u8_len)
        b.push_back(static_cast<uint8_t>(2 * v.size()));
    else
        put16(b, static_cast<uint16_t>(2 * v.size()));
    for (uint16_t x : v)
        put16(b, x);
    return b;
}
inline Ext ext_sni(const std::string& host) {
    Bytes b;
    put16(b, static_cast<uint16_t>(host.size() + 3));
    b.push_back(0);
    put16(b, static_cast<uint16_t>(host.size()));
    b.insert(b.end(), host.begin(), host.end());
    return {0x0000, b};
}
inline Ext ext_alpn(const std::vector<std::string>& protos) {
    Bytes list;
    for (const auto& p : protos) {
        list.push_back(static_cast<uint8_t>(p.size()));
        list.insert(list.end(), p.begin(), p.end());
    }
    Bytes b;
    put16(b, static_cast<uint16_t>(list.size()));
    append(b, list);
    return {0x0010, b};
}
inline Ext ext_sig_algs(const std::vector<uint16_t>& v) {
    return {0x000d, list16(v)};
}
inline Ext ext_groups(const std::vector<uint16_t>& v) {
    return {0x000a, list16(v)};
}
inline Ext ext_versions(const std::vector<uint16_t>& v) {
    return {0x002b, list16(v, true)};
}
inline Ext ext_point_formats(const Bytes& v) {
    Bytes b{static_cast<uint8_t>(v.size())};
    append(b, v);
    return {0x000b, b};
}
inline Ext ext_empty(uint16_t type) {
    return {type, {}};
}

struct HelloSpec {
    uint16_t legacy_version = 0x0303;
    Bytes session_id = Bytes(32, 0x11);
    bool dtls = false;
    Bytes cookie;
    std::vector<uint16_t> ciphers{0x1301, 0x1302, 0xc02b};
    Bytes compression{0};
    bool extensions_block = true;
    std::vector<Ext> extensions;
};

// The handshake message: type 1, 3-byte length, body.
inline Bytes build_client_hello(const HelloSpec& s) {
    Bytes body;
    put16(body, s.legacy_version);
    for (int i = 0; i < 32; ++i)
        body.push_back(static_cast<uint8_t>(i));
    body.push_back(static_cast<uint8_t>(s.session_id.size()));
    append(body, s.session_id);
    if (s.dtls) {
        body.push_back(static_cast<uint8_t>(s.cookie.size()));
        append(body, s.cookie);
    }
    put16(body, static_cast<uint16_t>(2 * s.ciphers.size()));
    for (uint16_t c : s.ciphers)
        put16(body, c);
    body.push_back(static_cast<uint8_t>(s.compression.size()));
    append(body, s.compression);
    if (s.extensions_block) {
        Bytes exts;
        for (const auto& e : s.extensions) {
            put16(exts, e.type);
            put16(exts, static_cast<uint16_t>(e.body.size()));
            append(exts, e.body);
        }
        put16(body, static_cast<uint16_t>(exts.size()));
        append(body, exts);
    }
    Bytes msg{1};
    put24(msg, body.size());
    append(msg, body);
    return msg;
}

// A parsed ClientHello together with the bytes it views (a ClientHello holds only spans).
struct OwnedHello {
    Bytes msg;
    tls::ClientHello ch;
    bool ok = false;
    explicit OwnedHello(Bytes m, bool dtls = false) : msg(std::move(m)) {
        ok = tls::parse_client_hello(msg, dtls, ch);
    }
    OwnedHello(const OwnedHello&) = delete;
    OwnedHello& operator=(const OwnedHello&) = delete;
};

// Splits a handshake byte sequence into TLS records (type 22, version 0x0301) of the given
// payload sizes; the last record takes the rest.
inline Bytes wrap_records(const Bytes& hs, const std::vector<size_t>& sizes = {}) {
    Bytes out;
    size_t pos = 0;
    for (size_t i = 0; pos < hs.size(); ++i) {
        size_t n = i < sizes.size() ? std::min(sizes[i], hs.size() - pos) : hs.size() - pos;
        out.push_back(22);
        put16(out, 0x0301);
        put16(out, static_cast<uint16_t>(n));
        out.insert(out.end(), hs.begin() + static_cast<long>(pos),
                   hs.begin() + static_cast<long>(pos + n));
        pos += n;
    }
    return out;
}

// The handshake message inside the first record of a single-record stream (test shortcut).
inline Bytes first_message(const Bytes& stream) {
    size_t len = static_cast<size_t>(stream.at(6)) << 16 | static_cast<size_t>(stream.at(7)) << 8 |
                 stream.at(8);
    if (9 + len > stream.size()) throw std::runtime_error("message not in the first record");
    return Bytes(stream.begin() + 5, stream.begin() + 5 + 4 + static_cast<long>(len));
}

}  // namespace sybilwatch::testdata
