#include "fingerprint/observation_json.hpp"

#include <array>
#include <charconv>
#include <cmath>
#include <cstring>
#include <vector>

#include "fingerprint/short_copy.hpp"

namespace sybilwatch::fingerprint {

namespace {

constexpr char kHex[] = "0123456789abcdef";

// Length of the valid UTF-8 sequence starting at s[i], or 0 when it is not valid.
size_t utf8_len(std::string_view s, size_t i) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t n;
    if (c < 0x80) return 1;
    if ((c & 0xE0) == 0xC0 && c >= 0xC2)
        n = 2;
    else if ((c & 0xF0) == 0xE0)
        n = 3;
    else if ((c & 0xF8) == 0xF0 && c <= 0xF4)
        n = 4;
    else
        return 0;
    if (i + n > s.size()) return 0;
    for (size_t k = 1; k < n; ++k)
        if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return 0;
    return n;
}

// "000102...99": two decimal digits per copy.
struct DigitPairs {
    char text[200];
    constexpr DigitPairs() : text() {
        for (int i = 0; i < 100; ++i) {
            text[2 * i] = static_cast<char>('0' + i / 10);
            text[2 * i + 1] = static_cast<char>('0' + i % 10);
        }
    }
};
constexpr DigitPairs kDigitPairs{};

// Printable ASCII that JSON takes as it is.
constexpr bool plain(unsigned char c) {
    return c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
}

// Whether any byte of the word is < 0x20, >= 0x7f, '"' or '\\' (not plain), eight at a time:
// SNI and ALPN are checked per connection and almost never hold such a byte.
constexpr uint64_t kOnes = 0x0101010101010101ull, kHighs = 0x8080808080808080ull;
constexpr bool has_zero_byte(uint64_t v) {
    return ((v - kOnes) & ~v & kHighs) != 0;
}
constexpr bool word_not_plain(uint64_t w) {
    return ((w - kOnes * 0x20) & ~w & kHighs) != 0  // a byte below 0x20
           || (w & kHighs) != 0                     // a byte of 0x80 or more
           || has_zero_byte(w ^ (kOnes * 0x7f)) || has_zero_byte(w ^ (kOnes * '"')) ||
           has_zero_byte(w ^ (kOnes * '\\'));
}
static_assert(!word_not_plain(0x6d6f632e656c706full));  // "ople.com"
static_assert(word_not_plain(0x6d6f632e22706full) && word_not_plain(0x6d6f632e1f706full));
static_assert(word_not_plain(0x6d6f637f2e706full) && word_not_plain(0x6d6f5c2e2e706full));
static_assert(word_not_plain(0x6dc3632e2e706full));

// The end of the run of whole plain 8-byte words from i.
size_t plain_words_end(std::string_view s, size_t i) {
    for (; s.size() - i >= 8; i += 8) {
        uint64_t w;
        std::memcpy(&w, s.data() + i, 8);
        if (word_not_plain(w)) break;
    }
    return i;
}

// Writes into memory the caller has sized for the worst case (see max_json_size), so the
// per-field appends are plain stores: a record is formatted per connection.
class Writer {
  public:
    explicit Writer(char* p) : p_(p) {}
    char* end() const { return p_; }
    void raw(std::string_view s) {
        copy_short(p_, s.data(), s.size());
        p_ += s.size();
    }
    void ch(char c) { *p_++ = c; }
    // 00-99.
    void two_digits(uint32_t v) {
        std::memcpy(p_, kDigitPairs.text + 2 * v, 2);
        p_ += 2;
    }
    template <typename T>
    void num(T v) {
        p_ = std::to_chars(p_, p_ + 24, v).ptr;
    }
    void escape_byte(unsigned char c) {
        raw("\\u00");
        ch(kHex[c >> 4]);
        ch(kHex[c & 15]);
    }
    void string(std::string_view s) {
        ch('"');
        for (size_t i = 0; i < s.size();) {
            // Runs of plain ASCII go in one copy; only the rest is looked at byte by byte.
            size_t j = plain_words_end(s, i);
            while (j < s.size() && plain(static_cast<unsigned char>(s[j])))
                ++j;
            raw(s.substr(i, j - i));
            if (j == s.size()) break;
            const auto c = static_cast<unsigned char>(s[j]);
            if (c == '"' || c == '\\') {
                ch('\\');
                ch(static_cast<char>(c));
                i = j + 1;
            } else if (c < 0x80) {
                escape_byte(c);  // control characters and DEL
                i = j + 1;
            } else if (size_t n = utf8_len(s, j)) {
                raw(s.substr(j, n));
                i = j + n;
            } else {
                escape_byte(c);  // not UTF-8: keep the byte, keep the line valid JSON
                i = j + 1;
            }
        }
        ch('"');
    }

  private:
    char* p_;
};

// Keys are written with their separator as one literal: ",\"ja4\":".
struct Seconds {
    int64_t sec = -1;
    char text[20];
    size_t len = 0;
};

class Obj {
  public:
    explicit Obj(Writer& w) : w_(w) { w_.ch('{'); }
    void key(std::string_view quoted_colon) {
        if (!first_) w_.ch(',');
        first_ = false;
        w_.raw(quoted_colon);
    }
    void str(std::string_view k, std::string_view v) {
        if (v.empty()) return;  // absent, never guessed
        key(k);
        w_.string(v);
    }
    // A value sybilwatch formatted itself (hex, digits, '_', ',', ':', '+', '*', '-'): nothing
    // to escape, so it is copied as it is. Bytes from the wire (SNI, ALPN) go through str().
    void ours(std::string_view k, std::string_view v) {
        if (v.empty()) return;
        key(k);
        w_.ch('"');
        w_.raw(v);
        w_.ch('"');
    }
    template <typename T>
    void num(std::string_view k, T v) {
        key(k);
        w_.num(v);
    }
    // One decimal place, without printf: gaps are microseconds.
    void dbl(std::string_view k, double v) {
        key(k);
        const double r = std::round(v * 10);
        const auto t = static_cast<int64_t>(r);
        if (t < 0) w_.ch('-');
        const uint64_t a = static_cast<uint64_t>(t < 0 ? -t : t);
        w_.num(a / 10);
        w_.ch('.');
        w_.ch(static_cast<char>('0' + a % 10));
    }
    // Epoch seconds with microseconds, printed exactly (no floating point).
    void ts(std::string_view k, int64_t ns) {
        key(k);
        if (ns < 0) {  // not from a capture clock; printed as it always was
            w_.num(ns / 1'000'000'000);
            int64_t us = (ns % 1'000'000'000) / 1000;
            char frac[7] = {'.', '0', '0', '0', '0', '0', '0'};
            for (int i = 6; i > 0; --i, us /= 10)
                frac[i] = static_cast<char>('0' + us % 10);
            w_.raw({frac, sizeof frac});
            return;
        }
        // A line's four timestamps mostly share their second, and so do consecutive lines:
        // the seconds' digits are kept from the last time rather than formatted again.
        thread_local Seconds last;
        const int64_t sec = ns / 1'000'000'000;
        if (sec != last.sec) {
            last.sec = sec;
            last.len =
                static_cast<size_t>(std::to_chars(last.text, last.text + 20, sec).ptr - last.text);
        }
        w_.raw({last.text, last.len});
        const auto us = static_cast<uint32_t>((ns % 1'000'000'000) / 1000);
        w_.ch('.');
        w_.two_digits(us / 10000);
        w_.two_digits(us / 100 % 100);
        w_.two_digits(us % 100);
    }
    void addr(std::string_view k, const net::IpAddress& a) {
        std::array<char, net::IpAddress::kMaxText> buf;
        ours(k, a.format(buf));  // hex digits, '.' and ':' only
    }
    void close() { w_.ch('}'); }

  private:
    Writer& w_;
    bool first_ = true;
};

// An upper bound of the record's JSON size: every string escaped at 6 bytes a byte, plus the
// fixed part.
size_t max_json_size(const Observation& o) {
    const size_t strings = o.sni.size() + o.alpn.size() + o.ja4.size() + o.ja4_o.size() +
                           o.ja3.size() + o.ja4s.size() + o.ja4t.size() + o.ja4ts.size() +
                           o.ja4l_c.size() + o.ja4l_s.size() + o.tcp_sig.size() + o.ja4_r.size() +
                           o.ja4_ro.size() + o.ja3_full.size() + o.ja4s_r.size();
    return 6 * strings + 2048;
}

}  // namespace

void append_json_string(std::string_view s, std::string& out) {
    const size_t old = out.size();
    out.resize(old + 6 * s.size() + 2);
    Writer w(out.data() + old);
    w.string(s);
    out.resize(static_cast<size_t>(w.end() - out.data()));
}

void append_json(const Observation& o, std::string& out) {
    // Formatted in a scratch buffer that only grows (resizing `out` would zero the worst case
    // per record), then appended in one copy.
    thread_local std::vector<char> scratch;
    if (const size_t need = max_json_size(o); scratch.size() < need) scratch.resize(need);
    Writer w(scratch.data());
    Obj j(w);
    j.ts("\"ts\":", o.ts_ns);
    j.ours("\"transport\":", to_string(o.transport));
    j.addr("\"src\":", o.src);
    j.num("\"src_port\":", o.src_port);
    j.addr("\"dst\":", o.dst);
    j.num("\"dst_port\":", o.dst_port);
    j.str("\"sni\":", o.sni.view());
    j.str("\"alpn\":", o.alpn.view());
    j.ours("\"ja4\":", o.ja4.view());
    j.ours("\"ja4_r\":", o.ja4_r);
    j.ours("\"ja4_o\":", o.ja4_o.view());
    j.ours("\"ja4_ro\":", o.ja4_ro);
    j.ours("\"ja3\":", o.ja3.view());
    j.ours("\"ja3_full\":", o.ja3_full);
    j.ours("\"ja4s\":", o.ja4s.view());
    j.ours("\"ja4s_r\":", o.ja4s_r);
    j.ours("\"ja4t\":", o.ja4t.view());
    j.ours("\"ja4ts\":", o.ja4ts.view());
    j.ours("\"ja4l_c\":", o.ja4l_c.view());
    j.ours("\"ja4l_s\":", o.ja4l_s.view());
    j.ours("\"tcp_sig\":", o.tcp_sig.view());
    if (o.tls_version) j.num("\"tls_version\":", o.tls_version);
    if (o.client_ttl) j.num("\"client_ttl\":", o.client_ttl);
    if (o.server_ttl) j.num("\"server_ttl\":", o.server_ttl);
    if (o.rtt_us >= 0) j.num("\"rtt_us\":", o.rtt_us);
    const bool tcp = o.transport == Transport::Tcp;
    if (o.syn_ns) j.ts(tcp ? "\"syn_ts\":" : "\"client_initial_ts\":", o.syn_ns);
    if (o.synack_ns) j.ts(tcp ? "\"synack_ts\":" : "\"server_initial_ts\":", o.synack_ns);
    if (o.ack_ns) j.ts(tcp ? "\"ack_ts\":" : "\"client_handshake_ts\":", o.ack_ns);
    j.ours("\"end\":", to_string(o.end));

    const Cadence& c = o.cadence;
    j.key("\"cadence\":");
    Obj cj(w);
    cj.num("\"requests\":", c.requests);
    cj.num("\"responses\":", c.responses);
    cj.num("\"client_bytes\":", c.client_bytes);
    cj.num("\"server_bytes\":", c.server_bytes);
    if (c.requests) {
        cj.num("\"min_request_bytes\":", c.min_request_bytes);
        cj.num("\"max_request_bytes\":", c.max_request_bytes);
    }
    if (c.gap_count) {
        cj.dbl("\"gap_mean_us\":", c.gap_mean_us);
        cj.dbl("\"gap_stddev_us\":", c.gap_stddev_us());
        cj.num("\"gap_min_us\":", c.gap_min_us);
        cj.num("\"gap_max_us\":", c.gap_max_us);
    }
    cj.num("\"duration_us\":", c.duration_us);
    cj.close();
    j.close();
    w.ch('\n');
    out.append(scratch.data(), static_cast<size_t>(w.end() - scratch.data()));
}

}  // namespace sybilwatch::fingerprint
