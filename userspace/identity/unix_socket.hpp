// Creating the listening Unix sockets of the attribution sources: a stale socket file left by
// a crashed daemon is replaced, a live one (another daemon) or any other kind of file is not.
#pragma once

#include <sys/types.h>

#include <string>

#include "net/unique_fd.hpp"

namespace sybilwatch::identity {

using Fd = net::UniqueFd;

struct UnixSocketOptions {
    std::string path;
    mode_t mode = 0660;  // who may write records: the gateway's group, not everyone
    std::string group;   // group owning the socket file ("" = the daemon's)
    std::string role = "attribution socket";  // names the socket in error messages
};

// Binds a non-blocking, close-on-exec Unix socket of `type` (SOCK_STREAM listens with a
// backlog) at opt.path with opt.mode and opt.group. Throws std::runtime_error naming the path
// and the reason.
Fd bind_unix_socket(const UnixSocketOptions& opt, int type);

}  // namespace sybilwatch::identity
