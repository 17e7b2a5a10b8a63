#include "shm/segment.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "shm/ring_error.hpp"

namespace sybilwatch::shm {

std::string ring_shm_name(std::string_view ring) {
    bool ok = !ring.empty() && ring.size() <= 200 && ring.front() != '.';
    for (const char c : ring)
        ok = ok && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-');
    if (!ok)
        throw RingError(RingError::Code::BadName,
                        "bad ring name '" + std::string(ring) +
                            "': 1 to 200 of A-Z a-z 0-9 . _ -, not starting with '.'");
    return "/" + std::string(ring) + "-observations";
}

std::string ring_path(std::string_view ring) {
    return "/dev/shm" + ring_shm_name(ring);
}

Mapping::Mapping(int fd, size_t size, bool writable, bool populate, const std::string& what) {
    const int prot = writable ? PROT_READ | PROT_WRITE : PROT_READ;
    const int flags = MAP_SHARED | (populate ? MAP_POPULATE : 0);
    void* p = ::mmap(nullptr, size, prot, flags, fd, 0);
    if (p == MAP_FAILED)
        throw RingError(RingError::Code::System, what + ": mmap: " + std::strerror(errno));
    p_ = p;
    size_ = size;
}

void Mapping::reset() {
    if (p_) ::munmap(p_, size_);
    p_ = nullptr;
    size_ = 0;
}

FileId file_id(int fd) {
    struct stat st {};
    if (::fstat(fd, &st) != 0) return {};
    return {st.st_dev, st.st_ino};
}

uint64_t process_start_ticks(pid_t pid) {
    const std::string path = "/proc/" + std::to_string(pid) + "/stat";
    Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) return 0;
    char buf[1024];
    const ssize_t n = ::read(fd.get(), buf, sizeof buf - 1);
    if (n <= 0) return 0;
    buf[n] = '\0';
    // "pid (comm) state ...": comm may hold spaces and parentheses, so fields are counted
    // from the last ')'. starttime is field 22, the 20th after it.
    const char* p = std::strrchr(buf, ')');
    if (!p) return 0;
    ++p;
    for (int field = 3; field < 22; ++field) {
        while (*p == ' ')
            ++p;
        while (*p && *p != ' ')
            ++p;
        if (!*p) return 0;
    }
    char* end = nullptr;
    const unsigned long long v = std::strtoull(p, &end, 10);
    return end != p ? v : 0;
}

bool process_alive(uint32_t pid, uint64_t start_ticks) {
    if (pid == 0 || pid > static_cast<uint32_t>(INT32_MAX)) return false;
    const auto p = static_cast<pid_t>(pid);
    // EPERM: it exists but belongs to another user (the daemon, seen from an operator's shell).
    if (::kill(p, 0) != 0 && errno != EPERM) return false;
    if (start_ticks == 0) return true;
    const uint64_t now = process_start_ticks(p);
    return now == 0 || now == start_ticks;  // unreadable /proc: trust the pid
}

}  // namespace sybilwatch::shm
