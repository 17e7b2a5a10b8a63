// A saved state file read back: damaged or hostile bytes give StateError, never a crash.
#include <cstddef>
#include <cstdint>
#include <span>

#include "state/state_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    try {
        const auto sections = sybilwatch::state::decode_state(std::span<const uint8_t>(data, size));
        // A decoded file must encode back to the same bytes.
        const auto again = sybilwatch::state::encode_state(sections);
        if (again.size() != size) __builtin_trap();
    } catch (const sybilwatch::state::StateError&) {
    }
    return 0;
}
