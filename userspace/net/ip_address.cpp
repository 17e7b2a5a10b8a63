#include "net/ip_address.hpp"

#include <arpa/inet.h>

#include <charconv>

namespace sybilwatch::net {

IpAddress IpAddress::parse(std::string_view text) {
    IpAddress a;
    char buf[kMaxText + 1];
    if (text.size() > kMaxText) return a;
    std::memcpy(buf, text.data(), text.size());
    buf[text.size()] = '\0';
    if (inet_pton(AF_INET, buf, a.bytes.data()) == 1) {
        a.family = 4;
    } else if (inet_pton(AF_INET6, buf, a.bytes.data()) == 1) {
        a.family = 6;
    } else {
        a.bytes.fill(0);
    }
    return a;
}

namespace {

char* put_dotted_quad(char* p, const uint8_t* b) {
    for (int i = 0; i < 4; ++i) {
        if (i) *p++ = '.';
        p = std::to_chars(p, p + 3, b[i]).ptr;
    }
    return p;
}

// inet_ntop's IPv6 text (RFC 5952: the longest run of two or more zero groups, the first of
// equal ones, as "::"; lower-case hex without leading zeros), and glibc's embedded IPv4 for
// ::a.b.c.d and ::ffff:a.b.c.d, written without its sprintf per group.
char* put_ipv6(char* p, const uint8_t* b) {
    uint16_t w[8];
    for (int i = 0; i < 8; ++i)
        w[i] = static_cast<uint16_t>(b[2 * i] << 8 | b[2 * i + 1]);
    int best = -1, best_len = 0, cur = -1, cur_len = 0;
    for (int i = 0; i <= 8; ++i) {
        if (i < 8 && w[i] == 0) {
            if (cur < 0) cur = i, cur_len = 0;
            ++cur_len;
        } else if (cur >= 0) {
            if (best < 0 || cur_len > best_len) best = cur, best_len = cur_len;
            cur = -1;
        }
    }
    if (best_len < 2) best = -1;
    for (int i = 0; i < 8; ++i) {
        if (best >= 0 && i >= best && i < best + best_len) {
            if (i == best) *p++ = ':';
            continue;
        }
        if (i != 0) *p++ = ':';
        if (i == 6 && best == 0 && (best_len == 6 || (best_len == 5 && w[5] == 0xffff)))
            return put_dotted_quad(p, b + 12);
        p = std::to_chars(p, p + 4, w[i], 16).ptr;
    }
    if (best >= 0 && best + best_len == 8) *p++ = ':';
    return p;
}

}  // namespace

std::string_view IpAddress::format(std::span<char, kMaxText> buf) const {
    // By hand: inet_ntop goes through sprintf, and this runs for every connection. At most
    // 39 characters (45 with an embedded IPv4), within kMaxText.
    char* const start = buf.data();
    char* end;
    if (family == 4)
        end = put_dotted_quad(start, bytes.data());
    else if (family == 6)
        end = put_ipv6(start, bytes.data());
    else
        return {};
    return {start, static_cast<size_t>(end - start)};
}

std::string IpAddress::to_string() const {
    std::array<char, kMaxText> buf{};
    return std::string(format(buf));
}

}  // namespace sybilwatch::net
