// CRC-32C (Castagnoli, as in iSCSI/ext4/RocksDB): guards each spool record against torn
// writes and bit rot. SSE4.2's crc32 instruction when the CPU has it, a table otherwise.
#pragma once

#include <cstdint>
#include <span>

namespace sybilwatch::alerts {

// Continues `crc` (0 to start) over `data`; crc32c(crc32c(0, a), b) == crc32c(0, a+b).
uint32_t crc32c(uint32_t crc, std::span<const uint8_t> data);
// The table implementation alone (what crc32c falls back to): tests compare the two.
uint32_t crc32c_portable(uint32_t crc, std::span<const uint8_t> data);

}  // namespace sybilwatch::alerts
