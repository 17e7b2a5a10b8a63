// Reading a shared-memory observation ring from another process: map it read-only, follow the
// writer, detect torn copies and overruns, never trust a byte of it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "shm/observation_record.hpp"
#include "shm/ring_layout.hpp"
#include "shm/segment.hpp"

namespace sybilwatch::shm {

enum class ReadStatus {
    Ok,       // a record was copied out
    Empty,    // nothing new yet
    Overrun,  // the writer lapped the reader: `missed` records are gone; the cursor moved on
};

struct ReadResult {
    ReadStatus status = ReadStatus::Empty;
    uint64_t sequence = 0;  // Ok: the record's sequence number (0 for the first ever published)
    uint64_t missed = 0;    // Overrun: how many records were skipped, exactly
};

struct PollResult {
    uint64_t delivered = 0;
    uint64_t missed = 0;
};

struct CursorStats {
    uint64_t delivered = 0;
    uint64_t missed = 0;  // records skipped by overruns (the sum of every Overrun's `missed`)
    uint64_t overruns = 0;
    uint64_t torn = 0;    // copies thrown away because the writer rewrote the slot meanwhile
    uint64_t resets = 0;  // the write index went backwards (a corrupt ring): resynced
};

// The read position in a validated ring. Invariant: every sequence number the cursor passes
// is either delivered or counted as missed, exactly once.
class RingCursor {
  public:
    RingCursor() = default;
    explicit RingCursor(const RingView& v) : view_(v) {}

    ReadResult next(ObservationRecord& out);

    // Hands up to `max` records to f(const ObservationRecord&, uint64_t sequence), using `buf`
    // for the copy; overruns on the way are summed into `missed`.
    template <typename F>
    PollResult poll(size_t max, ObservationRecord& buf, F&& f) {
        PollResult r;
        while (r.delivered < max) {
            const ReadResult x = next(buf);
            if (x.status == ReadStatus::Empty) break;
            if (x.status == ReadStatus::Overrun) {
                r.missed += x.missed;
                continue;
            }
            ++r.delivered;
            f(static_cast<const ObservationRecord&>(buf), x.sequence);
        }
        return r;
    }

    // Where the next read starts: just after the newest record, at the oldest record still
    // in the ring, or `n` records back from the newest (clamped to the oldest).
    void seek_newest() { next_ = view_.write_index(); }
    void seek_oldest() { seek_back(UINT64_MAX); }
    void seek_back(uint64_t n);

    uint64_t position() const { return next_; }
    // Records published that this cursor has not read yet (may exceed the capacity).
    uint64_t lag() const;
    const CursorStats& stats() const { return stats_; }

  private:
    ReadResult overrun_to(uint64_t pos);
    ReadResult resync();

    RingView view_;
    uint64_t next_ = 0;
    CursorStats stats_;
};

// Where a new Reader starts.
enum class Start { Newest, Oldest };

// What the header says about the ring and its writer.
struct RingInfo {
    uint32_t capacity = 0;
    uint64_t write_index = 0;
    uint32_t writer_pid = 0;
    int64_t created_ns = 0;
    bool closed = false;  // the writer shut down cleanly
};

class Reader {
  public:
    // Maps the ring read-only and validates it. Throws RingError: NotFound, Permission,
    // NotReady (being created), BadMagic, BadVersion, BadLayout, BadName, System.
    explicit Reader(std::string_view ring, Start start = Start::Newest);

    ReadResult next(ObservationRecord& out) { return cursor_.next(out); }
    template <typename F>
    PollResult poll(size_t max, F&& f) {
        return cursor_.poll(max, buf_, std::forward<F>(f));
    }
    RingCursor& cursor() { return cursor_; }
    const CursorStats& stats() const { return cursor_.stats(); }
    uint64_t lag() const { return cursor_.lag(); }

    RingInfo info() const;
    const std::string& path() const { return path_; }
    // The writer still runs: the ring is not Closed and its pid is alive (and started when
    // the header says).
    bool writer_alive() const;
    // The name no longer refers to this segment (the writer went away and unlinked it, or a
    // new writer replaced it): a follower should attach again.
    bool replaced() const;

  private:
    std::string shm_name_;
    std::string path_;
    Fd fd_;
    Mapping map_;
    RingView view_;
    RingCursor cursor_;
    ObservationRecord buf_{};
};

}  // namespace sybilwatch::shm
