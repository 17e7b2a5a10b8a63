#include "shm/ring_writer.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>

#include "shm/ring_error.hpp"

namespace sybilwatch::shm {

namespace {

[[noreturn]] void sys_fail(const std::string& what, const char* call, int err) {
    throw RingError(
        err == EACCES || err == EPERM ? RingError::Code::Permission : RingError::Code::System,
        what + ": " + call + ": " + std::strerror(err));
}

int64_t realtime_ns() {
    timespec ts{};
    ::clock_gettime(CLOCK_REALTIME, &ts);
    return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

// What is under the name now. A writer holds an exclusive flock on its segment for its whole
// life (the lock goes with the process, however it dies), so a segment nobody holds locked
// is stale, whatever pid its header names: pids are reused, locks are not inherited by strangers.
struct Existing {
    bool present = false;
    bool owned = false;  // a live writer holds it
    uint32_t pid = 0;    // the pid its header names (0: no readable header)
};

Existing inspect(const std::string& shm_name, const std::string& what) {
    Existing e;
    Fd fd(::shm_open(shm_name.c_str(), O_RDONLY | O_CLOEXEC, 0));
    if (!fd) {
        if (errno == ENOENT) return e;
        sys_fail(what, "shm_open (existing ring)", errno);
    }
    e.present = true;
    if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
        if (errno != EWOULDBLOCK) sys_fail(what, "flock", errno);
        e.owned = true;
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) == 0 && st.st_size >= static_cast<off_t>(kHeaderSize)) {
        // Only the version-stable first 64 bytes are read: any ring names its writer's pid.
        Mapping m(fd.get(), kHeaderSize, false, false, what);
        const auto& h = *reinterpret_cast<const RingHeader*>(m.data());
        if (atomic_load(h.magic, std::memory_order_acquire) == kRingMagic)
            e.pid = atomic_load(h.writer_pid, std::memory_order_relaxed);
    }
    return e;  // our flock, if taken, goes with fd
}

}  // namespace

Writer::Writer(std::string_view ring, const WriterOptions& opts)
    : shm_name_(ring_shm_name(ring)),
      path_(ring_path(ring)),
      capacity_(opts.capacity),
      unlink_on_close_(opts.unlink_on_close) {
    if (capacity_ < kMinCapacity || capacity_ > kMaxCapacity || (capacity_ & (capacity_ - 1)))
        throw RingError(RingError::Code::BadOptions,
                        path_ + ": capacity " + std::to_string(capacity_) +
                            " is not a power of two in [2, " + std::to_string(kMaxCapacity) + "]");
    const uint64_t size = segment_size_for(capacity_);

    // Replace a stale segment with a fresh one rather than reinitialise it in place: readers may
    // still map the old one, and shrinking or rewriting it under them would fault or confuse
    // them. O_EXCL makes two writers starting at once see each other (the loser retries once
    // and then finds the winner's lock).
    for (int attempt = 0;; ++attempt) {
        const Existing e = inspect(shm_name_, path_);
        if (e.owned)
            throw RingError(RingError::Code::InUse,
                            path_ + ": ring is in use by a live writer" +
                                (e.pid ? " (pid " + std::to_string(e.pid) + ")" : std::string()));
        if (e.present) {
            if (::shm_unlink(shm_name_.c_str()) != 0 && errno != ENOENT)
                sys_fail(path_, "shm_unlink (stale ring)", errno);
            replaced_pid_ = e.pid;
        }
        fd_ = Fd(::shm_open(shm_name_.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, opts.mode));
        if (fd_) break;
        if (errno != EEXIST || attempt == 1) sys_fail(path_, "shm_open", errno);
    }
    // From here a failure leaves no half-made ring behind.
    struct Unlinker {
        const std::string& name;
        bool armed = true;
        ~Unlinker() {
            if (armed) ::shm_unlink(name.c_str());
        }
    } unlinker{shm_name_};

    if (::flock(fd_.get(), LOCK_EX | LOCK_NB) != 0) sys_fail(path_, "flock", errno);
    if (::fchmod(fd_.get(), opts.mode) != 0) sys_fail(path_, "fchmod", errno);  // not the umask
    if (::ftruncate(fd_.get(), static_cast<off_t>(size)) != 0) sys_fail(path_, "ftruncate", errno);
    // tmpfs allocates pages on first touch; a full /dev/shm would then kill the daemon with
    // SIGBUS in publish(). Reserving them now turns that into an error at start.
    if (const int err = ::posix_fallocate(fd_.get(), 0, static_cast<off_t>(size)); err != 0)
        throw RingError(RingError::Code::System, path_ + ": cannot reserve " +
                                                     std::to_string(size >> 20) +
                                                     " MiB in /dev/shm: " + std::strerror(err));
    map_ = Mapping(fd_.get(), size, true, true, path_);

    RingHeader& h = header();
    h.version = kRingVersion;
    h.header_size = kHeaderSize;
    h.record_size = kRecordSize;
    h.capacity = capacity_;
    h.segment_size = size;
    h.created_ns = realtime_ns();
    h.writer_pid = static_cast<uint32_t>(::getpid());
    h.state = static_cast<uint32_t>(RingState::Live);
    h.writer_start = process_start_ticks(::getpid());
    h.payload_size = sizeof(ObservationRecord);
    h.write_index = 0;
    // Last, with release: a reader that sees the magic sees every field above.
    atomic_store(h.magic, kRingMagic, std::memory_order_release);
    unlinker.armed = false;
}

Writer::~Writer() {
    if (!map_.data()) return;  // moved from
    atomic_store(header().state, static_cast<uint32_t>(RingState::Closed),
                 std::memory_order_release);
    if (unlink_on_close_) {
        // Only our own segment: a successor may already have replaced it under the name.
        Fd now(::shm_open(shm_name_.c_str(), O_RDONLY | O_CLOEXEC, 0));
        if (now && file_id(now.get()) == file_id(fd_.get())) ::shm_unlink(shm_name_.c_str());
    }
}

void Writer::publish(const ObservationRecord& r) {
    const uint64_t n = next_;
    std::byte* slot = map_.data() + kHeaderSize + (n & (capacity_ - 1)) * size_t{kRecordSize};
    uint64_t& seq = *reinterpret_cast<uint64_t*>(slot);
    // Odd while writing; the release fence keeps the record's stores after the odd mark for
    // any reader that sees one of them.
    atomic_store(seq, 2 * n + 1, std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_release);
    copy_to_slot(r, slot + kSlotSeqSize);
    atomic_store(seq, 2 * n + 2, std::memory_order_release);
    atomic_store(header().write_index, n + 1, std::memory_order_release);
    next_ = n + 1;
}

}  // namespace sybilwatch::shm
