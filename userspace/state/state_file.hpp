// The daemon's saved detection state: named sections (each owned by a stage: the rules
// engine's windows and clusters, the joiner's...) in one file written atomically (temporary
// file, fsync, rename, fsync of the directory), so a crash at any moment leaves either the old
// file or the new one, never a torn one. A CRC over the whole file catches a damaged one.
//
// Layout (little endian): "SWSTATE1" | u32 version | u32 sections | per section: u16 name
// length, name, u64 size, bytes | u32 CRC-32 (zlib) of everything before it.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

namespace sybilwatch::state {

struct Section {
    std::string name;
    std::vector<uint8_t> data;
};

class StateError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

inline constexpr uint32_t kStateVersion = 1;

// Encodes and decodes the layout above. decode throws StateError on anything malformed.
std::vector<uint8_t> encode_state(std::span<const Section> sections);
std::vector<Section> decode_state(std::span<const uint8_t> bytes);

// Writes atomically (see above). Throws StateError naming the path and the failing step.
void save_state(const std::string& path, std::span<const Section> sections);
// nullopt when there is no file; throws StateError when it exists but cannot be used.
std::optional<std::vector<Section>> load_state(const std::string& path);

// The section named `name`, or nullptr.
const Section* find_section(std::span<const Section> sections, std::string_view name);

}  // namespace sybilwatch::state
