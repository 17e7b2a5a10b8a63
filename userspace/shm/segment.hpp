// POSIX shared-memory plumbing for the ring: names, owned descriptors and mappings, and
// whether the process that wrote a ring is still alive.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "net/unique_fd.hpp"

namespace sybilwatch::shm {

inline constexpr std::string_view kDefaultRing = "sybilwatch";

// The shm_open name of a ring: "/NAME-observations" (so /dev/shm/NAME-observations). NAME is
// 1 to 200 of [A-Za-z0-9._-], not starting with '.'; throws RingError(BadName) otherwise.
std::string ring_shm_name(std::string_view ring);
// "/dev/shm/NAME-observations": for messages.
std::string ring_path(std::string_view ring);

using Fd = net::UniqueFd;

// An owned mmap of a whole descriptor.
class Mapping {
  public:
    Mapping() = default;
    // Maps `size` bytes of `fd` shared, read-only or read-write; throws RingError(System).
    Mapping(int fd, size_t size, bool writable, bool populate, const std::string& what);
    Mapping(Mapping&& o) noexcept
        : p_(std::exchange(o.p_, nullptr)), size_(std::exchange(o.size_, 0)) {}
    Mapping& operator=(Mapping&& o) noexcept {
        if (this != &o) {
            reset();
            p_ = std::exchange(o.p_, nullptr);
            size_ = std::exchange(o.size_, 0);
        }
        return *this;
    }
    Mapping(const Mapping&) = delete;
    Mapping& operator=(const Mapping&) = delete;
    ~Mapping() { reset(); }
    std::byte* data() const { return static_cast<std::byte*>(p_); }
    size_t size() const { return size_; }
    std::span<const std::byte> bytes() const { return {data(), size_}; }
    void reset();

  private:
    void* p_ = nullptr;
    size_t size_ = 0;
};

// Identity of a file: a ring replaced under the same name has another inode.
struct FileId {
    dev_t dev = 0;
    ino_t ino = 0;
    bool operator==(const FileId&) const = default;
};
FileId file_id(int fd);

// The start time of a process in clock ticks since boot (/proc/PID/stat field 22); 0 when
// unknown. With the pid it names a process for good: pids are reused, start times are not.
uint64_t process_start_ticks(pid_t pid);
// Whether process `pid` runs (kill(pid, 0)), and is the one started at `start_ticks` when that
// is known. Pids are those of this pid namespace.
bool process_alive(uint32_t pid, uint64_t start_ticks);

}  // namespace sybilwatch::shm
