#include "shm/ring_reader.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "shm/ring_error.hpp"

namespace sybilwatch::shm {

ReadResult RingCursor::next(ObservationRecord& out) {
    const uint64_t cap = view_.capacity();
    if (cap == 0) return {};  // default-constructed: no ring
    const uint64_t w = view_.write_index();
    if (w == next_) return {};
    if (w < next_) {
        // A correct writer's index only grows (a restarted one makes a new segment): this ring
        // is corrupt. Follow it from where it says it is rather than wait forever.
        ++stats_.resets;
        next_ = w;
        return {};
    }
    if (w - next_ > cap) return overrun_to(w - cap);

    const uint64_t want = 2 * next_ + 2;
    const uint64_t& seq = view_.seq(next_);
    const uint64_t before = atomic_load(seq, std::memory_order_acquire);
    if (before != want) {
        if (before > want) return resync();  // a later record is in (or going into) the slot
        // The index says record next_ is out, its slot says not: a correct writer stores the
        // index after the slot. Skip the record rather than wait on a broken ring.
        return overrun_to(next_ + 1);
    }
    copy_from_slot(view_.payload(next_), out);
    // Orders the copy's loads before the second seq load (pairs with the writer's fence).
    std::atomic_thread_fence(std::memory_order_acquire);
    if (atomic_load(seq, std::memory_order_relaxed) != before) {
        ++stats_.torn;
        return resync();
    }
    ++stats_.delivered;
    return {ReadStatus::Ok, next_++, 0};
}

ReadResult RingCursor::resync() {
    // Record next_ is gone, so the writer is at least a lap ahead. The slot of w - cap may be
    // the one it is rewriting now; w - cap + 1 is the oldest record that is surely whole.
    const uint64_t w = view_.write_index();
    const uint64_t cap = view_.capacity();
    const uint64_t oldest_whole = w >= cap ? w - cap + 1 : 0;
    return overrun_to(std::max(oldest_whole, next_ + 1));
}

ReadResult RingCursor::overrun_to(uint64_t pos) {
    const uint64_t missed = pos - next_;
    next_ = pos;
    ++stats_.overruns;
    stats_.missed += missed;
    return {ReadStatus::Overrun, 0, missed};
}

void RingCursor::seek_back(uint64_t n) {
    if (view_.capacity() == 0) return;
    const uint64_t w = view_.write_index();
    next_ = w - std::min({n, w, uint64_t{view_.capacity()}});
}

uint64_t RingCursor::lag() const {
    if (view_.capacity() == 0) return 0;
    const uint64_t w = view_.write_index();
    return w > next_ ? w - next_ : 0;
}

Reader::Reader(std::string_view ring, Start start)
    : shm_name_(ring_shm_name(ring)), path_(ring_path(ring)) {
    fd_ = Fd(::shm_open(shm_name_.c_str(), O_RDONLY | O_CLOEXEC, 0));
    if (!fd_) {
        const int err = errno;
        if (err == ENOENT)
            throw RingError(
                RingError::Code::NotFound,
                path_ + ": no such ring (is sybilwatchd running, with this ring name?)");
        if (err == EACCES)
            throw RingError(RingError::Code::Permission,
                            path_ +
                                ": permission denied (the ring is readable by its owner's "
                                "group; see docs/shm.md)");
        throw RingError(RingError::Code::System, path_ + ": shm_open: " + std::strerror(err));
    }
    struct stat st {};
    if (::fstat(fd_.get(), &st) != 0)
        throw RingError(RingError::Code::System, path_ + ": fstat: " + std::strerror(errno));
    const auto size = static_cast<uint64_t>(st.st_size);
    if (size < kHeaderSize)
        throw RingError(RingError::Code::NotReady,
                        path_ + ": segment is " + std::to_string(size) +
                            " bytes, smaller than a ring header (being created, or not a ring)");
    if (size > segment_size_for(kMaxCapacity))
        throw RingError(RingError::Code::BadLayout, path_ + ": segment is " + std::to_string(size) +
                                                        " bytes, larger than any ring");
    map_ = Mapping(fd_.get(), size, false, false, path_);
    view_ = RingView::validate(map_.bytes(), path_.c_str());
    cursor_ = RingCursor(view_);
    if (start == Start::Oldest)
        cursor_.seek_oldest();
    else
        cursor_.seek_newest();
}

RingInfo Reader::info() const {
    const RingHeader& h = view_.header();
    RingInfo i;
    i.capacity = view_.capacity();
    i.write_index = view_.write_index();
    i.writer_pid = view_.writer_pid();
    i.created_ns = h.created_ns;
    i.closed = view_.state() == RingState::Closed;
    return i;
}

bool Reader::writer_alive() const {
    if (view_.state() == RingState::Closed) return false;
    return process_alive(view_.writer_pid(),
                         atomic_load(view_.header().writer_start, std::memory_order_relaxed));
}

bool Reader::replaced() const {
    Fd now(::shm_open(shm_name_.c_str(), O_RDONLY | O_CLOEXEC, 0));
    if (!now) return errno == ENOENT;
    return !(file_id(now.get()) == file_id(fd_.get()));
}

}  // namespace sybilwatch::shm
