// The one error type of the shared-memory ring: what went wrong, for the operator, and a code
// so that a follower can tell "not there yet" from "not a ring it can read".
#pragma once

#include <stdexcept>
#include <string>

namespace sybilwatch::shm {

class RingError : public std::runtime_error {
  public:
    enum class Code {
        BadName,     // not a valid ring name
        BadOptions,  // capacity out of range
        NotFound,    // no segment under that name
        Permission,  // the segment exists but this user may not open it
        NotReady,    // the segment is being created (size 0 or no magic yet)
        BadMagic,    // not a sybilwatch ring
        BadVersion,  // a ring of another layout version
        BadLayout,   // header fields disagree with this build or with the segment size
        InUse,       // another live writer owns the ring
        System,      // a system call failed
    };
    RingError(Code code, const std::string& what) : std::runtime_error(what), code_(code) {}
    Code code() const { return code_; }

  private:
    Code code_;
};

}  // namespace sybilwatch::shm
