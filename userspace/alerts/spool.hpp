// Spool: a sink's on-disk queue. A finding counts as emitted once its rendered payload is in
// the spool and fdatasync'd; the delivery thread reads from the acknowledged cursor, sends,
// and acknowledges what the receiver accepted. Delivery is at least once: a crash between
// send and acknowledgement re-sends (the payload's finding_id lets the SIEM de-duplicate).
//
// On disk (docs/alerts.md, "Spool"), in its own directory:
//   seg-<first seq, 20 digits>.log   records, appended; a new segment every segment_bytes
//   cursor                           "SWC1", next sequence to deliver (u64), CRC-32C
//   lock                             flock()ed while open: one process per spool
// A record is a 20-byte header — magic "SWR1", payload length (u32), sequence (u64), CRC-32C
// of length, sequence and payload — then the payload; integers little-endian.
//
// Bounded: when appending would exceed max_bytes, the oldest segments go first, and the
// undelivered records in them are counted (dropped_full) and logged. On open, every record is
// checked; a torn or corrupt record ends its segment there (the file is truncated, counted),
// so no file content makes open() fail or crash.
//
// Thread safety: one producer thread (append, append_batch) and one consumer thread (read,
// ack) at once; stats() from any thread.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace sybilwatch::alerts {

struct SpoolOptions {
    uint64_t max_bytes = 256ull << 20;    // the whole spool on disk
    uint64_t segment_bytes = 8ull << 20;  // at most max_bytes / 4 (so dropping stays fine-grained)
    uint32_t max_record = 16u << 20;      // larger payloads are refused; also the recovery bound
    bool sync = true;                     // fdatasync before append returns (off: tests, fuzzing)
    // Drops, truncations and I/O errors, one line each; called with the spool's lock held, so
    // it must not call back into the spool.
    std::function<void(std::string_view)> log;
};

struct SpoolStats {
    uint64_t appended = 0;  // records made durable
    uint64_t appended_bytes = 0;
    uint64_t syncs = 0;
    uint64_t acked = 0;               // records acknowledged as delivered
    uint64_t dropped_full = 0;        // undelivered records dropped (oldest first) for max_bytes
    uint64_t dropped_full_bytes = 0;  // their bytes on disk (headers included)
    uint64_t rejected_oversize = 0;   // payloads over max_record, never written
    uint64_t append_errors = 0;       // appends that failed (disk full, I/O error)
    uint64_t recovered_records = 0;   // valid undelivered records found by open()
    uint64_t truncated_segments = 0;  // segments cut at a torn or corrupt record by open()
    uint64_t truncated_bytes = 0;
    uint64_t lost_corrupt = 0;  // records known lost: sequence gaps, corruption found reading
    uint64_t backlog = 0;       // records not yet acknowledged
    uint64_t disk_bytes = 0;    // segment bytes on disk
    uint64_t segments = 0;
};

struct SpoolRecord {
    uint64_t seq = 0;
    std::string payload;
};

class Spool {
  public:
    static constexpr size_t kHeaderBytes = 20;

    // Opens (creating it if needed) and recovers the spool in `dir`. nullptr and `error` when
    // the directory cannot be used (permissions, another process holds the lock).
    static std::unique_ptr<Spool> open(const std::string& dir, SpoolOptions options,
                                       std::string& error);
    ~Spool();
    Spool(const Spool&) = delete;
    Spool& operator=(const Spool&) = delete;

    // Durable (written and, with sync, fdatasync'd) when it returns true.
    bool append(std::string_view payload, std::string& error);
    // Group commit: one write and one fdatasync for the batch. Payloads over max_record are
    // skipped (counted); returns how many were appended — all others, or 0 on an I/O error.
    size_t append_batch(std::span<const std::string_view> payloads, std::string& error);

    // Up to max_records records (and about max_bytes of payload, at least one record) from
    // the cursor on, oldest first. `out` is resized; its strings' capacity is reused.
    size_t read(size_t max_records, size_t max_bytes, std::vector<SpoolRecord>& out);
    // Everything before `next_seq` was delivered: the cursor moves (persisted: temp file and
    // rename) and fully delivered segments are deleted. Never moves the cursor back.
    void ack(uint64_t next_seq);

    uint64_t cursor() const;
    uint64_t next_seq() const;
    SpoolStats stats() const;
    const std::string& dir() const { return dir_; }

  private:
    struct Segment {
        uint64_t first_seq = 0;
        uint64_t end_seq = 0;  // exclusive
        uint64_t bytes = 0;    // committed (durable) bytes
    };

    Spool(std::string dir, SpoolOptions options);
    bool recover(std::string& error);
    void recover_segment(uint64_t name_seq, uint64_t& expected, bool last);
    bool write_cursor(uint64_t seq);
    std::string segment_path(uint64_t first_seq) const;
    bool make_room(uint64_t need, std::string& error);  // mu_ held
    bool open_active(std::string& error);               // mu_ held
    void close_active();                                // mu_ held
    void drop_front();                                  // mu_ held
    void log(const std::string& msg) const;

    const std::string dir_;
    const SpoolOptions opt_;
    int lock_fd_ = -1;

    mutable std::mutex mu_;
    std::deque<Segment> segs_;  // ascending; the back one is active when active_fd_ >= 0
    int active_fd_ = -1;
    bool roll_pending_ = false;
    uint64_t next_seq_ = 0;
    uint64_t cursor_ = 0;
    uint64_t total_bytes_ = 0;
    SpoolStats stats_;

    // Consumer side: an open descriptor on the segment being read and where the cursor's
    // record starts in it, so a read does not rescan the segment.
    int read_fd_ = -1;
    uint64_t read_seg_ = UINT64_MAX;
    uint64_t hint_seq_ = UINT64_MAX, hint_off_ = 0;
    uint64_t persisted_cursor_ = UINT64_MAX;

    std::string wbuf_;  // producer's write buffer, reused
};

}  // namespace sybilwatch::alerts
