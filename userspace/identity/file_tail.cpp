#include "identity/file_tail.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <stdexcept>

namespace sybilwatch::identity {

class FileTail::CountingSink : public LineSink {
  public:
    CountingSink(LineSink& out, FileTailStats& s) : out_(out), s_(s) {}
    void on_line(std::string_view line) override {
        ++s_.lines;
        out_.on_line(line);
    }
    void on_line_too_long() override {
        ++s_.too_long;
        out_.on_line_too_long();
    }

  private:
    LineSink& out_;
    FileTailStats& s_;
};

FileTail::FileTail(FileTailConfig cfg)
    : cfg_(std::move(cfg)), cur_(cfg_.max_line), old_(cfg_.max_line) {
    if (cfg_.path.empty()) throw std::runtime_error("attribution log: empty path");
    buf_.resize(64 * 1024);
    if (cfg_.watch) {
        inotify_ = Fd(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
        if (inotify_) {
            const size_t slash = cfg_.path.rfind('/');
            const std::string dir = slash == std::string::npos ? "."
                                    : slash == 0               ? "/"
                                                               : cfg_.path.substr(0, slash);
            // Without the directory there is nothing to watch: poll() still works on its own.
            ::inotify_add_watch(inotify_.get(), dir.c_str(),
                                IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE |
                                    IN_CLOSE_WRITE | IN_ATTRIB);
        }
    }
    // "Start" is now: a file that exists is read from here on (or from its start when asked);
    // one that appears later is read whole.
    try_open();
}

void FileTail::drain_inotify() {
    if (!inotify_) return;
    // The events only wake us; what changed is found out by looking at the file.
    while (::read(inotify_.get(), buf_.data(), buf_.size()) > 0) {
    }
}

void FileTail::try_open() {
    const bool first = first_open_;
    first_open_ = false;
    Fd fd(::open(cfg_.path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
    if (!fd) return;
    struct stat st;
    if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) return;
    off_t start = 0;
    bool mid_line = false;
    if (first && !cfg_.from_start && st.st_size > 0) {
        start = st.st_size;
        char last = '\n';
        if (::pread(fd.get(), &last, 1, start - 1) == 1) mid_line = last != '\n';
    }
    if (::lseek(fd.get(), start, SEEK_SET) != start) return;
    cur_.fd = std::move(fd);
    cur_.dev = st.st_dev;
    cur_.ino = st.st_ino;
    cur_.offset = start;
    cur_.lines.reset();
    // Joined in the middle of a line being written: its start is gone, so is the line.
    if (mid_line) cur_.lines.skip_to_newline();
    cur_.last_data = Clock::now();
    ++stats_.opens;
}

void FileTail::check_truncation(Open& o) {
    struct stat st;
    if (::fstat(o.fd.get(), &st) != 0) return;
    bool truncated = st.st_size < o.offset;
    // Truncated and written past our position again between two polls: the size alone misses
    // it, but the byte before our position was a newline when we read it (no partial line is
    // held), and new content there is unlikely to be one.
    if (!truncated && st.st_size > o.offset && o.offset > 0 && o.lines.buffered() == 0 &&
        !o.lines.skipping()) {
        char c = '\n';
        truncated = ::pread(o.fd.get(), &c, 1, o.offset - 1) == 1 && c != '\n';
    }
    if (!truncated) return;
    ::lseek(o.fd.get(), 0, SEEK_SET);
    o.offset = 0;
    o.lines.reset();
    ++stats_.truncations;
}

size_t FileTail::read_available(Open& o, size_t& budget, LineSink& sink) {
    size_t total = 0;
    while (budget > 0) {
        const ssize_t n = ::read(o.fd.get(), buf_.data(), std::min(buf_.size(), budget));
        if (n > 0) {
            o.offset += n;
            total += static_cast<size_t>(n);
            budget -= static_cast<size_t>(n);
            stats_.bytes += static_cast<uint64_t>(n);
            o.lines.feed(std::string_view(buf_.data(), static_cast<size_t>(n)), sink);
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno != EAGAIN) ++stats_.read_errors;
        break;
    }
    if (total) o.last_data = Clock::now();
    if (budget == 0) more_ = true;
    return total;
}

void FileTail::close_old(LineSink& sink) {
    // Whatever the writer left unterminated in the old file will never be finished.
    old_.lines.finish(sink);
    old_.fd.reset();
}

size_t FileTail::poll(LineSink& out) {
    CountingSink sink(out, stats_);
    const uint64_t before = stats_.lines;
    drain_inotify();
    more_ = false;
    size_t budget = cfg_.read_budget;
    const auto now = Clock::now();
    if (old_.fd) {
        read_available(old_, budget, sink);
        if (budget > 0 && now - old_.last_data > std::chrono::milliseconds(cfg_.rotate_grace_ms))
            close_old(sink);
    }
    if (!cur_.fd) try_open();
    if (cur_.fd) {
        check_truncation(cur_);
        read_available(cur_, budget, sink);
        struct stat st;
        const bool same =
            ::stat(cfg_.path.c_str(), &st) == 0 && st.st_ino == cur_.ino && st.st_dev == cur_.dev;
        if (!same) {
            // Renamed or deleted: read it on as the old file, and follow the path.
            ++stats_.rotations;
            if (old_.fd) {
                size_t unlimited = SIZE_MAX;
                read_available(old_, unlimited, sink);
                close_old(sink);
            }
            std::swap(old_.fd, cur_.fd);
            old_.offset = cur_.offset;
            std::swap(old_.lines, cur_.lines);
            cur_.lines.reset();
            old_.last_data = Clock::now();
            // What the writer added to the old file before switching comes first.
            read_available(old_, budget, sink);
            try_open();
            if (cur_.fd) read_available(cur_, budget, sink);
        }
    }
    return static_cast<size_t>(stats_.lines - before);
}

size_t FileTail::poll(int timeout_ms, LineSink& sink) {
    if (timeout_ms != 0 && !more_) {
        pollfd p{inotify_.get(), POLLIN, 0};
        while (::poll(&p, inotify_ ? 1 : 0, timeout_ms) < 0 && errno == EINTR) {
        }
    }
    return poll(sink);
}

}  // namespace sybilwatch::identity
