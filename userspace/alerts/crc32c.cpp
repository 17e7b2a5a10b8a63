#include "alerts/crc32c.hpp"

#include <array>
#include <cstring>

namespace sybilwatch::alerts {
namespace {

constexpr uint32_t kPoly = 0x82F63B78;  // reflected Castagnoli polynomial

constexpr std::array<std::array<uint32_t, 256>, 8> make_tables() {
    std::array<std::array<uint32_t, 256>, 8> t{};
    for (uint32_t i = 0; i < 256; ++i) {
        uint32_t c = i;
        for (int k = 0; k < 8; ++k)
            c = (c & 1) ? (c >> 1) ^ kPoly : c >> 1;
        t[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; ++i)
        for (size_t k = 1; k < 8; ++k)
            t[k][i] = (t[k - 1][i] >> 8) ^ t[0][t[k - 1][i] & 0xff];
    return t;
}
constexpr auto kTables = make_tables();

// Slicing-by-8 (little-endian loads: the build targets are x86_64 and arm64).
uint32_t crc_table(uint32_t c, const uint8_t* p, size_t n) {
    while (n >= 8) {
        uint32_t lo, hi;
        std::memcpy(&lo, p, 4);
        std::memcpy(&hi, p + 4, 4);
        lo ^= c;
        c = kTables[7][lo & 0xff] ^ kTables[6][(lo >> 8) & 0xff] ^ kTables[5][(lo >> 16) & 0xff] ^
            kTables[4][lo >> 24] ^ kTables[3][hi & 0xff] ^ kTables[2][(hi >> 8) & 0xff] ^
            kTables[1][(hi >> 16) & 0xff] ^ kTables[0][hi >> 24];
        p += 8;
        n -= 8;
    }
    while (n--)
        c = kTables[0][(c ^ *p++) & 0xff] ^ (c >> 8);
    return c;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) uint32_t crc_sse42(uint32_t c, const uint8_t* p, size_t n) {
    uint64_t c64 = c;
    while (n >= 8) {
        uint64_t v;
        std::memcpy(&v, p, 8);
        c64 = __builtin_ia32_crc32di(c64, v);
        p += 8;
        n -= 8;
    }
    c = static_cast<uint32_t>(c64);
    while (n--)
        c = __builtin_ia32_crc32qi(c, *p++);
    return c;
}
// __builtin_cpu_init first: this may run before libgcc's own constructor has filled the data.
bool have_sse42() {
    __builtin_cpu_init();
    return __builtin_cpu_supports("sse4.2");
}
const bool kHaveSse42 = have_sse42();
#endif

}  // namespace

uint32_t crc32c(uint32_t crc, std::span<const uint8_t> data) {
    uint32_t c = ~crc;
#if defined(__x86_64__)
    if (kHaveSse42) return ~crc_sse42(c, data.data(), data.size());
#endif
    return ~crc_table(c, data.data(), data.size());
}

uint32_t crc32c_portable(uint32_t crc, std::span<const uint8_t> data) {
    return ~crc_table(~crc, data.data(), data.size());
}

}  // namespace sybilwatch::alerts
