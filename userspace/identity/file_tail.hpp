// Follows a log file the gateway appends attribution lines to, the way `tail -F` does, with
// the rotations logrotate performs:
//  - rename (then the gateway reopens the path, e.g. nginx on USR1): the renamed file is read
//    on until it has been quiet for a grace period, since the gateway keeps writing to it until
//    it reopens; the new file at the path is read from its start;
//  - copytruncate: the size drops below what was read (or the byte before the read position is
//    no longer the newline that was read there), and reading restarts at offset 0;
//  - the file missing (not created yet, or deleted): the path is tried again on every poll.
// An existing file is read from its end by default (its old lines were attributed when they
// were written); a file that appears later is read from its start. Reads are non-blocking and
// bounded per poll. The descriptor from fd() (inotify on the directory) becomes readable when
// something there changes; the owner should still call poll() every second or so, because a
// rotated file moved to another directory, and the grace timer, raise no event.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "identity/line_sink.hpp"
#include "identity/line_splitter.hpp"
#include "identity/unix_socket.hpp"

namespace sybilwatch::identity {

struct FileTailConfig {
    std::string path;
    bool from_start = false;  // read a file that exists at start from its beginning
    size_t max_line = 64 * 1024;
    size_t read_budget = 4 << 20;  // bytes per poll, over both files
    int rotate_grace_ms = 5000;    // how long a renamed file is read on after its last growth
    bool watch = true;             // inotify wake-ups (fd() = -1 without)
};

struct FileTailStats {
    uint64_t opens = 0;        // the path opened (first time, and after each rotation)
    uint64_t rotations = 0;    // the path now names another file, or none
    uint64_t truncations = 0;  // copytruncate, or any shrinking
    uint64_t bytes = 0;
    uint64_t lines = 0;
    uint64_t too_long = 0;
    uint64_t read_errors = 0;
};

class FileTail {
  public:
    // Opens the file if it exists (positioned at its end, or its start with from_start); it
    // need not exist, nor its directory. Throws std::runtime_error only for an empty path.
    explicit FileTail(FileTailConfig cfg);
    FileTail(const FileTail&) = delete;
    FileTail& operator=(const FileTail&) = delete;

    int fd() const { return inotify_.get(); }

    // Reads what has been appended (non-blocking). Returns the number of lines delivered.
    size_t poll(LineSink& sink);
    // Waits up to timeout_ms for a change in the directory first (returns at once when the
    // last poll left data unread).
    size_t poll(int timeout_ms, LineSink& sink);

    bool is_open() const { return bool(cur_.fd); }
    bool draining_rotated() const { return bool(old_.fd); }
    const FileTailStats& stats() const { return stats_; }

  private:
    using Clock = std::chrono::steady_clock;
    struct Open {
        Fd fd;
        dev_t dev = 0;
        ino_t ino = 0;
        off_t offset = 0;
        LineSplitter lines;
        Clock::time_point last_data{};
        explicit Open(size_t max_line) : lines(max_line) {}
    };
    class CountingSink;

    void try_open();
    void check_truncation(Open& o);
    size_t read_available(Open& o, size_t& budget, LineSink& sink);
    void close_old(LineSink& sink);
    void drain_inotify();

    FileTailConfig cfg_;
    Fd inotify_;
    Open cur_, old_;
    bool first_open_ = true;
    bool more_ = false;  // the budget ran out with data left
    std::vector<char> buf_;
    FileTailStats stats_;
};

}  // namespace sybilwatch::identity
