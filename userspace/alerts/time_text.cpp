#include "alerts/time_text.hpp"

namespace sybilwatch::alerts {
namespace {

struct Civil {
    int64_t y;
    unsigned m, d;
};

// Days since 1970-01-01 to a proleptic Gregorian date (H. Hinnant, "chrono-Compatible
// Low-Level Date Algorithms"): exact for every day an int64 of nanoseconds can reach.
Civil civil_from_days(int64_t z) {
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const auto doe = static_cast<unsigned>(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const int64_t y = static_cast<int64_t>(yoe) + era * 400;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    const unsigned d = doy - (153 * mp + 2) / 5 + 1;
    const unsigned m = mp < 10 ? mp + 3 : mp - 9;
    return {m <= 2 ? y + 1 : y, m, d};
}

void digits(char* p, uint64_t v, int n) {
    for (int i = n - 1; i >= 0; --i, v /= 10)
        p[i] = static_cast<char>('0' + v % 10);
}

}  // namespace

std::string_view format_rfc3339_ms(int64_t ns, std::span<char, kRfc3339MsLen> buf) {
    const int64_t ms = epoch_ms(ns);
    const int64_t s = ms >= 0 ? ms / 1000 : -((-(ms + 1)) / 1000) - 1;
    const auto milli = static_cast<uint64_t>(ms - s * 1000);
    const int64_t days = s >= 0 ? s / 86400 : -((-(s + 1)) / 86400) - 1;
    const auto sod = static_cast<uint64_t>(s - days * 86400);
    const Civil c = civil_from_days(days);
    char* p = buf.data();
    digits(p, static_cast<uint64_t>(c.y), 4);  // 1677..2262 for int64 nanoseconds
    p[4] = '-';
    digits(p + 5, c.m, 2);
    p[7] = '-';
    digits(p + 8, c.d, 2);
    p[10] = 'T';
    digits(p + 11, sod / 3600, 2);
    p[13] = ':';
    digits(p + 14, sod / 60 % 60, 2);
    p[16] = ':';
    digits(p + 17, sod % 60, 2);
    p[19] = '.';
    digits(p + 20, milli, 3);
    p[23] = 'Z';
    return {buf.data(), kRfc3339MsLen};
}

std::string rfc3339_ms(int64_t ns) {
    char buf[kRfc3339MsLen];
    return std::string(format_rfc3339_ms(ns, buf));
}

}  // namespace sybilwatch::alerts
