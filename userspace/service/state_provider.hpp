// A stage whose detection state outlives the process (the rules engine's windows and
// clusters): saved periodically and on shutdown into one state file, restored on start.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace sybilwatch::service {

class StateProvider {
  public:
    virtual ~StateProvider() = default;
    virtual std::string_view state_name() const = 0;  // the section's name in the state file
    virtual std::vector<uint8_t> save_state() = 0;
    // Throws std::exception when the bytes cannot be used (the daemon then starts empty).
    virtual void restore_state(std::span<const uint8_t> bytes) = 0;
};

}  // namespace sybilwatch::service
