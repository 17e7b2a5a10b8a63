// Creating the listening Unix sockets of the attribution sources: a stale socket file left by
// a crashed daemon is replaced, a live one (another daemon) or any other kind of file is not.
#pragma once

#include <sys/types.h>

#include <string>

namespace sybilwatch::identity {

// Owns a file descriptor.
class Fd {
  public:
    Fd() = default;
    explicit Fd(int fd) : fd_(fd) {}
    Fd(Fd&& o) noexcept : fd_(o.release()) {}
    Fd& operator=(Fd&& o) noexcept {
        if (this != &o) reset(o.release());
        return *this;
    }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    ~Fd() { reset(); }

    int get() const { return fd_; }
    explicit operator bool() const { return fd_ >= 0; }
    int release() {
        const int f = fd_;
        fd_ = -1;
        return f;
    }
    void reset(int fd = -1);

  private:
    int fd_ = -1;
};

struct UnixSocketOptions {
    std::string path;
    mode_t mode = 0660;  // who may write records: the gateway's group, not everyone
    std::string group;   // group owning the socket file ("" = the daemon's)
};

// Binds a non-blocking, close-on-exec Unix socket of `type` (SOCK_STREAM listens with a
// backlog) at opt.path with opt.mode and opt.group. Throws std::runtime_error naming the path
// and the reason.
Fd bind_unix_socket(const UnixSocketOptions& opt, int type);

}  // namespace sybilwatch::identity
