#include "identity/timestamp_text.hpp"

#include <charconv>
#include <cstdint>

namespace sybilwatch::identity {
namespace {

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

// Reads exactly n digits at text[pos]; false when any is not a digit.
bool digits(std::string_view text, size_t pos, size_t n, int& out) {
    if (pos + n > text.size()) return false;
    int v = 0;
    for (size_t i = 0; i < n; ++i) {
        const char c = text[pos + i];
        if (!is_digit(c)) return false;
        v = v * 10 + (c - '0');
    }
    out = v;
    return true;
}

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

bool leap(int y) {
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

std::optional<double> decimal(std::string_view text) {
    size_t i = 0;
    while (i < text.size() && is_digit(text[i]))
        ++i;
    if (i == 0 || i > 11) return std::nullopt;  // 11 digits already exceed the range
    if (i < text.size()) {
        if (text[i] != '.') return std::nullopt;
        size_t j = i + 1;
        while (j < text.size() && is_digit(text[j]))
            ++j;
        if (j == i + 1 || j != text.size()) return std::nullopt;
    }
    double v = 0;
    const auto r = std::from_chars(text.data(), text.data() + text.size(), v);
    if (r.ec != std::errc() || r.ptr != text.data() + text.size()) return std::nullopt;
    return v;
}

std::optional<double> rfc3339(std::string_view t) {
    int y, mo, d, h, mi, s;
    if (!digits(t, 0, 4, y) || t.size() < 19 || t[4] != '-' || !digits(t, 5, 2, mo) ||
        t[7] != '-' || !digits(t, 8, 2, d))
        return std::nullopt;
    if (t[10] != 'T' && t[10] != 't' && t[10] != ' ') return std::nullopt;
    if (!digits(t, 11, 2, h) || t[13] != ':' || !digits(t, 14, 2, mi) || t[16] != ':' ||
        !digits(t, 17, 2, s))
        return std::nullopt;
    static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (mo < 1 || mo > 12 || d < 1) return std::nullopt;
    if (d > kDays[mo - 1] + (mo == 2 && leap(y) ? 1 : 0)) return std::nullopt;
    if (h > 23 || mi > 59 || s > 60) return std::nullopt;  // 60: a leap second, read as :59+1
    size_t pos = 19;
    double frac = 0;
    if (pos < t.size() && t[pos] == '.') {
        double scale = 0.1;
        size_t start = ++pos;
        while (pos < t.size() && is_digit(t[pos])) {
            frac += (t[pos] - '0') * scale;
            scale /= 10;
            ++pos;
        }
        if (pos == start) return std::nullopt;
    }
    int offset_s = 0;
    if (pos < t.size() && (t[pos] == 'Z' || t[pos] == 'z')) {
        ++pos;
    } else if (pos < t.size() && (t[pos] == '+' || t[pos] == '-')) {
        int oh, om;
        if (!digits(t, pos + 1, 2, oh) || pos + 3 >= t.size() || t[pos + 3] != ':' ||
            !digits(t, pos + 4, 2, om) || oh > 23 || om > 59)
            return std::nullopt;
        offset_s = (oh * 3600 + om * 60) * (t[pos] == '-' ? -1 : 1);
        pos += 6;
    } else {
        return std::nullopt;  // RFC 3339 requires the offset
    }
    if (pos != t.size()) return std::nullopt;
    const int64_t secs =
        days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d)) * 86400 + h * 3600 +
        mi * 60 + s - offset_s;
    return static_cast<double>(secs) + frac;
}

}  // namespace

std::optional<double> parse_timestamp_text(std::string_view text) {
    std::optional<double> v = text.size() > 10 && text[4] == '-' ? rfc3339(text) : decimal(text);
    if (!v || !(*v >= 0) || *v > kMaxEpochSeconds) return std::nullopt;
    return v;
}

}  // namespace sybilwatch::identity
