// Scratch directories and client sockets for the source tests.
#pragma once

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <string_view>

namespace sybilwatch::identity::test {

// A fresh directory under /tmp, removed with its contents at the end of the test.
class TempDir {
  public:
    TempDir() {
        std::string tmpl = "/tmp/sw-identity-XXXXXX";
        if (!::mkdtemp(tmpl.data())) std::abort();
        path_ = tmpl;
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    std::string file(std::string_view name) const { return path_ + "/" + std::string(name); }
    const std::string& path() const { return path_; }

  private:
    std::string path_;
};

// Connects a Unix socket of `type` to `path`; -1 on failure.
inline int connect_unix(const std::string& path, int type = SOCK_STREAM) {
    const int fd = ::socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    std::memcpy(sa.sun_path, path.data(), path.size());
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&sa), sizeof(sa)) != 0) {
        ::close(fd);
        return -1;
    }
    return fd;
}

inline void write_all(int fd, std::string_view s) {
    while (!s.empty()) {
        const ssize_t n = ::write(fd, s.data(), s.size());
        if (n <= 0) std::abort();
        s.remove_prefix(static_cast<size_t>(n));
    }
}

}  // namespace sybilwatch::identity::test
