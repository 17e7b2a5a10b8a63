// Slot numbers reused through a free list: how the tables and pools that never shrink (handshake
// states, interned facts, the rules' nodes, keys, groups and clusters) hand out an entry.
#pragma once

#include <cstdint>
#include <vector>

namespace sybilwatch::net {

// The slot freed last (its memory is the likeliest to be in cache), else a new one: appended,
// value-initialised, to `items` and to each of the parallel arrays in `more`.
template <typename Items, typename... More>
uint32_t take_slot(std::vector<uint32_t>& free, Items& items, More&... more) {
    if (!free.empty()) {
        const uint32_t s = free.back();
        free.pop_back();
        return s;
    }
    const auto s = static_cast<uint32_t>(items.size());
    items.emplace_back();
    (more.emplace_back(), ...);
    return s;
}

}  // namespace sybilwatch::net
