// Staying on a ring by name while its writer comes and goes: `sybilwatch tail --follow` and
// `sybilwatch top` keep running across daemon restarts.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "shm/ring_reader.hpp"

namespace sybilwatch::shm {

class RingFollower {
  public:
    enum class Change {
        None,      // nothing new
        Attached,  // a reader now exists (first attach: the caller picks its start)
        Replaced,  // a new writer replaced the ring: now reading the new one from its oldest
        Closed,    // the writer removed the ring (reported once); still on the old one
    };

    // Validates the name (RingError BadName); does not attach yet.
    explicit RingFollower(std::string_view ring);

    // Attaches when not attached; otherwise checks whether the name now refers to another
    // segment. Call it when the current reader is drained (its records are lost on a switch).
    // A missing or half-created ring is waited for (None); other RingErrors are thrown.
    Change refresh();

    Reader* reader() { return reader_ ? &*reader_ : nullptr; }
    const std::string& path() const { return path_; }

  private:
    std::string ring_;
    std::string path_;
    std::optional<Reader> reader_;
    bool closed_reported_ = false;
};

}  // namespace sybilwatch::shm
