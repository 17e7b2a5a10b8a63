#include "identity/unix_socket.hpp"

#include <grp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <vector>

namespace sybilwatch::identity {

namespace {

// Failures name the socket by its role ("attribution socket", "control socket") and path.
struct Failure {
    const std::string& role;
    const std::string& path;
    [[noreturn]] void operator()(const std::string& what) const {
        throw std::runtime_error(role + " " + path + ": " + what);
    }
    [[noreturn]] void operator()(const std::string& what, int err) const {
        (*this)(what + ": " + std::strerror(err));
    }
};

sockaddr_un address_of(const std::string& path, const Failure& fail) {
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    if (path.empty() || path.size() >= sizeof(sa.sun_path))
        fail("the path is empty or longer than " + std::to_string(sizeof(sa.sun_path) - 1) +
             " bytes");
    std::memcpy(sa.sun_path, path.data(), path.size());
    return sa;
}

// An existing socket file is stale when nothing accepts on it any more.
void remove_stale(const std::string& path, const sockaddr_un& sa, int type, const Failure& fail) {
    struct stat st;
    if (::lstat(path.c_str(), &st) != 0) {
        if (errno == ENOENT) return;
        fail("stat", errno);
    }
    if (!S_ISSOCK(st.st_mode)) fail("exists and is not a socket; not replacing it");
    Fd probe(::socket(AF_UNIX, type | SOCK_CLOEXEC, 0));
    if (!probe) fail("socket", errno);
    if (::connect(probe.get(), reinterpret_cast<const sockaddr*>(&sa), sizeof(sa)) == 0)
        fail("another process is listening on it");
    if (errno != ECONNREFUSED && errno != ENOENT && errno != EPROTOTYPE) fail("probe", errno);
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) fail("removing the stale socket", errno);
}

gid_t group_id(const std::string& name, const Failure& fail) {
    std::vector<char> buf(16384);
    group g;
    group* res = nullptr;
    const int rc = ::getgrnam_r(name.c_str(), &g, buf.data(), buf.size(), &res);
    if (rc != 0) fail("looking up group " + name, rc);
    if (!res) fail("no group named " + name);
    return g.gr_gid;
}

}  // namespace

Fd bind_unix_socket(const UnixSocketOptions& opt, int type) {
    const Failure fail{opt.role, opt.path};
    const sockaddr_un sa = address_of(opt.path, fail);
    remove_stale(opt.path, sa, type, fail);
    Fd fd(::socket(AF_UNIX, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!fd) fail("socket", errno);
    if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&sa), sizeof(sa)) != 0)
        fail("bind", errno);
    // bind() creates the file with the umask's mode; set the configured one before anyone
    // can be accepted (nothing is accepted until listen()).
    if (::chmod(opt.path.c_str(), opt.mode) != 0) fail("chmod", errno);
    if (!opt.group.empty() && ::chown(opt.path.c_str(), uid_t(-1), group_id(opt.group, fail)) != 0)
        fail("chown", errno);
    if (type == SOCK_STREAM && ::listen(fd.get(), 128) != 0) fail("listen", errno);
    return fd;
}

}  // namespace sybilwatch::identity
