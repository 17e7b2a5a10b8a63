#include "alerts/spool.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "alerts/crc32c.hpp"

namespace sybilwatch::alerts {
namespace {

constexpr uint8_t kRecordMagic[4] = {'S', 'W', 'R', '1'};
constexpr uint8_t kCursorMagic[4] = {'S', 'W', 'C', '1'};
constexpr size_t kCursorBytes = 16;

void put_le(uint8_t* p, uint64_t v, int n) {
    for (int i = 0; i < n; ++i)
        p[i] = static_cast<uint8_t>(v >> (8 * i));
}
uint64_t get_le(const uint8_t* p, int n) {
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; --i)
        v = (v << 8) | p[i];
    return v;
}

// CRC over the header's length and sequence, then the payload: a record moved, cut or
// renumbered fails it as surely as a flipped payload bit.
uint32_t record_crc(const uint8_t* len_seq, std::span<const uint8_t> payload) {
    return crc32c(crc32c(0, {len_seq, 12}), payload);
}

void make_header(uint8_t* h, uint32_t len, uint64_t seq, std::span<const uint8_t> payload) {
    std::memcpy(h, kRecordMagic, 4);
    put_le(h + 4, len, 4);
    put_le(h + 8, seq, 8);
    put_le(h + 16, record_crc(h + 4, payload), 4);
}

std::string errno_text(const char* what) {
    return std::string(what) + ": " + std::strerror(errno);
}

bool pread_all(int fd, void* buf, size_t n, uint64_t off) {
    auto* p = static_cast<uint8_t*>(buf);
    while (n) {
        ssize_t r = ::pread(fd, p, n, static_cast<off_t>(off));
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return false;
        p += r;
        n -= static_cast<size_t>(r);
        off += static_cast<uint64_t>(r);
    }
    return true;
}

bool pwrite_all(int fd, const void* buf, size_t n, uint64_t off) {
    const auto* p = static_cast<const uint8_t*>(buf);
    while (n) {
        ssize_t r = ::pwrite(fd, p, n, static_cast<off_t>(off));
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) {
            if (r == 0) errno = EIO;
            return false;
        }
        p += r;
        n -= static_cast<size_t>(r);
        off += static_cast<uint64_t>(r);
    }
    return true;
}

// "seg-" + 20 digits + ".log": anything else in the directory is left alone.
bool parse_segment_name(std::string_view name, uint64_t& seq) {
    if (name.size() != 28 || name.substr(0, 4) != "seg-" || name.substr(24) != ".log") return false;
    uint64_t v = 0;
    for (char c : name.substr(4, 20)) {
        if (c < '0' || c > '9') return false;
        const uint64_t d = static_cast<uint64_t>(c - '0');
        if (v > (UINT64_MAX - d) / 10) return false;
        v = v * 10 + d;
    }
    seq = v;
    return true;
}

void fsync_dir(const std::string& dir) {
    int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return;
    ::fsync(fd);
    ::close(fd);
}

struct Header {
    uint32_t len = 0;
    uint64_t seq = 0;
    uint32_t crc = 0;
};

// A header is plausible when its magic is right and its payload fits what is left of the
// committed bytes and max_record; the CRC is checked once the payload is read.
bool read_header(int fd, uint64_t off, uint64_t end, uint32_t max_record, uint8_t* raw, Header& h) {
    if (end < off || end - off < Spool::kHeaderBytes) return false;
    if (!pread_all(fd, raw, Spool::kHeaderBytes, off)) return false;
    if (std::memcmp(raw, kRecordMagic, 4) != 0) return false;
    h.len = static_cast<uint32_t>(get_le(raw + 4, 4));
    h.seq = get_le(raw + 8, 8);
    h.crc = static_cast<uint32_t>(get_le(raw + 16, 4));
    return h.len <= max_record && h.len <= end - off - Spool::kHeaderBytes;
}

}  // namespace

Spool::Spool(std::string dir, SpoolOptions options)
    : dir_(std::move(dir)), opt_([&] {
          SpoolOptions o = std::move(options);
          o.max_bytes = std::max<uint64_t>(o.max_bytes, 4 * (kHeaderBytes + 1));
          o.segment_bytes = std::clamp<uint64_t>(o.segment_bytes, 1, o.max_bytes / 4);
          o.max_record = static_cast<uint32_t>(
              std::min<uint64_t>(std::max<uint32_t>(o.max_record, 1), o.max_bytes - kHeaderBytes));
          return o;
      }()) {}

Spool::~Spool() {
    if (active_fd_ >= 0) ::close(active_fd_);
    if (read_fd_ >= 0) ::close(read_fd_);
    if (lock_fd_ >= 0) ::close(lock_fd_);
}

std::unique_ptr<Spool> Spool::open(const std::string& dir, SpoolOptions options,
                                   std::string& error) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) {
        error = "spool " + dir + ": " + ec.message();
        return nullptr;
    }
    std::unique_ptr<Spool> s(new Spool(dir, std::move(options)));
    const std::string lock = dir + "/lock";
    s->lock_fd_ = ::open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (s->lock_fd_ < 0) {
        error = "spool " + errno_text(lock.c_str());
        return nullptr;
    }
    // Two writers on one spool would interleave records; the second one is refused.
    if (::flock(s->lock_fd_, LOCK_EX | LOCK_NB) != 0) {
        error = "spool " + dir + " is in use by another process (" + std::strerror(errno) + ")";
        return nullptr;
    }
    if (!s->recover(error)) return nullptr;
    return s;
}

std::string Spool::segment_path(uint64_t first_seq) const {
    char name[32];
    std::snprintf(name, sizeof name, "seg-%020llu.log", static_cast<unsigned long long>(first_seq));
    return dir_ + "/" + name;
}

void Spool::log(const std::string& msg) const {
    if (opt_.log) opt_.log("spool " + dir_ + ": " + msg);
}

bool Spool::recover(std::string& error) {
    std::vector<uint64_t> names;
    DIR* d = ::opendir(dir_.c_str());
    if (!d) {
        error = "spool " + errno_text(dir_.c_str());
        return false;
    }
    while (dirent* e = ::readdir(d)) {
        uint64_t seq;
        if (parse_segment_name(e->d_name, seq)) names.push_back(seq);
    }
    ::closedir(d);
    std::sort(names.begin(), names.end());

    // The cursor: a missing or damaged file means "from the oldest record on" (at least once).
    bool have_cursor = false;
    uint64_t cursor = 0;
    {
        int fd = ::open((dir_ + "/cursor").c_str(), O_RDONLY | O_CLOEXEC);
        uint8_t b[kCursorBytes];
        if (fd >= 0) {
            if (pread_all(fd, b, sizeof b, 0) && std::memcmp(b, kCursorMagic, 4) == 0 &&
                get_le(b + 12, 4) == crc32c(0, {b, 12})) {
                cursor = get_le(b + 4, 8);
                have_cursor = true;
            } else {
                log("cursor file damaged: delivering again from the oldest record");
            }
            ::close(fd);
        }
    }

    uint64_t expected = names.empty() ? 0 : names.front();
    for (size_t i = 0; i < names.size(); ++i) {
        if (names[i] < expected) {
            // Overlaps the previous segment's records: a leftover, never ours to deliver twice.
            log("segment " + std::to_string(names[i]) + " overlaps its predecessor: removed");
            ::unlink(segment_path(names[i]).c_str());
            continue;
        }
        if (names[i] > expected) {
            // Records between the segments are gone (a segment cut short by corruption).
            const uint64_t from = std::max(expected, have_cursor ? cursor : 0);
            if (names[i] > from) stats_.lost_corrupt += names[i] - from;
            log("sequence gap before segment " + std::to_string(names[i]));
        }
        recover_segment(names[i], expected, i + 1 == names.size());
    }

    next_seq_ = std::max(expected, have_cursor ? cursor : 0);
    cursor_ = have_cursor ? cursor : (segs_.empty() ? next_seq_ : segs_.front().first_seq);
    if (!segs_.empty()) cursor_ = std::max(cursor_, segs_.front().first_seq);
    cursor_ = std::min(cursor_, next_seq_);
    // Segments delivered before the crash whose deletion did not happen yet.
    while (!segs_.empty() && segs_.front().end_seq <= cursor_) {
        ::unlink(segment_path(segs_.front().first_seq).c_str());
        total_bytes_ -= segs_.front().bytes;
        segs_.pop_front();
    }
    for (const auto& s : segs_)
        stats_.recovered_records += s.end_seq - std::max(s.first_seq, cursor_);
    // Appends after a restart go to a new segment: recovered files are only ever read.
    persisted_cursor_ = have_cursor ? cursor : UINT64_MAX;
    return true;
}

void Spool::recover_segment(uint64_t name_seq, uint64_t& expected, bool last) {
    const std::string path = segment_path(name_seq);
    int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        log("cannot open " + errno_text(path.c_str()));
        return;
    }
    struct stat st {};
    const uint64_t size = ::fstat(fd, &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
    uint64_t off = 0, seq = name_seq;
    uint8_t raw[kHeaderBytes];
    std::vector<uint8_t> payload;
    for (;;) {
        Header h;
        if (!read_header(fd, off, size, opt_.max_record, raw, h) || h.seq != seq) break;
        payload.resize(h.len);
        if (!pread_all(fd, payload.data(), h.len, off + kHeaderBytes)) break;
        if (record_crc(raw + 4, payload) != h.crc) break;
        off += kHeaderBytes + h.len;
        ++seq;
    }
    if (off < size) {
        // A torn append (crash mid-write) or damage: everything from here on is unreadable,
        // and appending after it would hide the next records behind it.
        stats_.truncated_segments++;
        stats_.truncated_bytes += size - off;
        log("segment " + std::to_string(name_seq) + ": " + std::to_string(size - off) +
            " bytes after record " + std::to_string(seq) + " torn or corrupt, truncated" +
            (last ? "" : " (not the newest segment: records after it are lost)"));
        if (::ftruncate(fd, static_cast<off_t>(off)) == 0)
            ::fdatasync(fd);
        else
            log(errno_text("truncate"));
    }
    ::close(fd);
    if (seq == name_seq) {
        ::unlink(path.c_str());
        expected = std::max(expected, name_seq);
        return;
    }
    segs_.push_back({name_seq, seq, off});
    total_bytes_ += off;
    expected = seq;
}

bool Spool::write_cursor(uint64_t seq) {
    uint8_t b[kCursorBytes];
    std::memcpy(b, kCursorMagic, 4);
    put_le(b + 4, seq, 8);
    put_le(b + 12, crc32c(0, {b, 12}), 4);
    const std::string tmp = dir_ + "/cursor.tmp";
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return false;
    const bool ok = pwrite_all(fd, b, sizeof b, 0);
    ::close(fd);
    // No fsync: a cursor lost in a crash only means records are delivered again, which at
    // least once allows; rename keeps the file whole (old or new, never half).
    return ok && ::rename(tmp.c_str(), (dir_ + "/cursor").c_str()) == 0;
}

void Spool::close_active() {
    if (active_fd_ < 0) return;
    ::close(active_fd_);
    active_fd_ = -1;
    if (!segs_.empty() && segs_.back().bytes == 0) {
        ::unlink(segment_path(segs_.back().first_seq).c_str());
        if (read_seg_ == segs_.back().first_seq) {
            ::close(read_fd_);
            read_fd_ = -1;
            read_seg_ = UINT64_MAX;
        }
        segs_.pop_back();
    }
}

bool Spool::open_active(std::string& error) {
    const std::string path = segment_path(next_seq_);
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        error = "spool " + errno_text(path.c_str());
        return false;
    }
    // The new name must survive a crash along with the data fdatasync makes durable.
    if (opt_.sync) fsync_dir(dir_);
    active_fd_ = fd;
    segs_.push_back({next_seq_, next_seq_, 0});
    return true;
}

void Spool::drop_front() {
    const Segment s = segs_.front();
    if (read_seg_ == s.first_seq) {
        ::close(read_fd_);
        read_fd_ = -1;
        read_seg_ = UINT64_MAX;
    }
    ::unlink(segment_path(s.first_seq).c_str());
    const uint64_t from = std::max(s.first_seq, cursor_);
    if (s.end_seq > from) {
        stats_.dropped_full += s.end_seq - from;
        stats_.dropped_full_bytes += s.bytes;
        log("full (" + std::to_string(opt_.max_bytes) + " bytes): dropped " +
            std::to_string(s.end_seq - from) + " undelivered records, the oldest");
    }
    cursor_ = std::max(cursor_, s.end_seq);
    total_bytes_ -= s.bytes;
    segs_.pop_front();
}

bool Spool::make_room(uint64_t need, std::string& error) {
    if (need > opt_.max_bytes) {
        error = "batch of " + std::to_string(need) + " bytes exceeds the spool's max_bytes";
        return false;
    }
    while (total_bytes_ + need > opt_.max_bytes && !segs_.empty()) {
        if (segs_.size() == 1 && active_fd_ >= 0) close_active();
        if (segs_.empty()) break;
        drop_front();
    }
    return true;
}

bool Spool::append(std::string_view payload, std::string& error) {
    const std::string_view one[1] = {payload};
    return append_batch(one, error) == 1;
}

size_t Spool::append_batch(std::span<const std::string_view> payloads, std::string& error) {
    uint64_t need = 0;
    size_t count = 0, oversize = 0;
    for (auto p : payloads) {
        if (p.size() > opt_.max_record) {
            ++oversize;
            continue;
        }
        need += kHeaderBytes + p.size();
        ++count;
    }
    int fd;
    uint64_t off, seq;
    {
        std::lock_guard lk(mu_);
        if (oversize) {
            stats_.rejected_oversize += oversize;
            error = "payload larger than max_record (" + std::to_string(opt_.max_record) +
                    " bytes) refused";
            log(error);
        }
        if (count == 0) return 0;
        if (active_fd_ >= 0 && (roll_pending_ || (segs_.back().bytes > 0 &&
                                                  segs_.back().bytes + need > opt_.segment_bytes)))
            close_active();
        roll_pending_ = false;
        if (!make_room(need, error) || (active_fd_ < 0 && !open_active(error))) {
            stats_.append_errors++;
            log(error);
            return 0;
        }
        fd = active_fd_;
        off = segs_.back().bytes;
        seq = next_seq_;
    }

    // Outside the lock: only this thread writes past the committed end of the active segment,
    // and the consumer never reads past it, so reads go on during the fdatasync.
    wbuf_.resize(need);
    auto* w = reinterpret_cast<uint8_t*>(wbuf_.data());
    for (auto p : payloads) {
        if (p.size() > opt_.max_record) continue;
        std::span<const uint8_t> body(reinterpret_cast<const uint8_t*>(p.data()), p.size());
        make_header(w, static_cast<uint32_t>(p.size()), seq++, body);
        if (!p.empty()) std::memcpy(w + kHeaderBytes, p.data(), p.size());
        w += kHeaderBytes + p.size();
    }
    bool ok = pwrite_all(fd, wbuf_.data(), wbuf_.size(), off);
    if (ok && opt_.sync) ok = ::fdatasync(fd) == 0;
    const std::string io_error = ok ? std::string() : errno_text("spool write");

    std::lock_guard lk(mu_);
    if (!ok) {
        // After a failed fdatasync the kernel may have dropped the dirty pages and cleared
        // the error: nothing more goes into this file. Cut what may be there and roll.
        // (If even that fails, reads stop at the committed size and open() cuts the rest.)
        if (::ftruncate(fd, static_cast<off_t>(off)) != 0) log(errno_text("spool truncate"));
        close_active();
        stats_.append_errors++;
        error = io_error;
        log(error);
        return 0;
    }
    if (opt_.sync) stats_.syncs++;
    Segment& s = segs_.back();
    s.bytes += need;
    s.end_seq += count;
    next_seq_ += count;
    total_bytes_ += need;
    stats_.appended += count;
    stats_.appended_bytes += need;
    return count;
}

size_t Spool::read(size_t max_records, size_t max_bytes, std::vector<SpoolRecord>& out) {
    std::lock_guard lk(mu_);
    size_t n = 0, bytes = 0;
    uint64_t seq = cursor_;
    uint8_t raw[kHeaderBytes];
    for (size_t i = 0; i < segs_.size() && n < max_records && (n == 0 || bytes < max_bytes); ++i) {
        const Segment& s = segs_[i];
        if (s.end_seq <= seq) continue;
        seq = std::max(seq, s.first_seq);
        if (read_seg_ != s.first_seq) {
            if (read_fd_ >= 0) ::close(read_fd_);
            read_fd_ = ::open(segment_path(s.first_seq).c_str(), O_RDONLY | O_CLOEXEC);
            read_seg_ = read_fd_ >= 0 ? s.first_seq : UINT64_MAX;
            hint_seq_ = UINT64_MAX;
        }
        const bool active = active_fd_ >= 0 && i + 1 == segs_.size();
        auto lost = [&](const char* why) {
            // Damaged after open() checked it (or removed under us): the rest of the segment
            // cannot be trusted. Counted, skipped; an active segment is rolled.
            stats_.lost_corrupt += s.end_seq - seq;
            log(std::string("segment ") + std::to_string(s.first_seq) + ": " + why + " at record " +
                std::to_string(seq) + ", " + std::to_string(s.end_seq - seq) + " records lost");
            cursor_ = std::max(cursor_, s.end_seq);
            if (active) roll_pending_ = true;
            seq = s.end_seq;
        };
        if (read_fd_ < 0) {
            lost("unreadable");
            continue;
        }
        uint64_t off = 0, cur = s.first_seq;
        if (hint_seq_ == seq) {
            off = hint_off_;
            cur = seq;
        }
        bool bad = false;
        for (Header h; cur < seq; ++cur) {  // skip to the cursor's record
            if (!read_header(read_fd_, off, s.bytes, opt_.max_record, raw, h) || h.seq != cur) {
                bad = true;
                break;
            }
            off += kHeaderBytes + h.len;
        }
        while (!bad && seq < s.end_seq && n < max_records && (n == 0 || bytes < max_bytes)) {
            Header h;
            if (!read_header(read_fd_, off, s.bytes, opt_.max_record, raw, h) || h.seq != seq) {
                bad = true;
                break;
            }
            if (out.size() <= n) out.emplace_back();
            std::string& p = out[n].payload;
            p.resize(h.len);
            if (!pread_all(read_fd_, p.data(), h.len, off + kHeaderBytes) ||
                record_crc(raw + 4, {reinterpret_cast<const uint8_t*>(p.data()), h.len}) != h.crc) {
                bad = true;
                break;
            }
            out[n++].seq = seq;
            bytes += h.len;
            off += kHeaderBytes + h.len;
            ++seq;
        }
        if (bad) {
            lost("corrupt record");
            hint_seq_ = UINT64_MAX;
            continue;
        }
        hint_seq_ = seq;
        hint_off_ = off;
    }
    out.resize(n);
    return n;
}

void Spool::ack(uint64_t next_seq) {
    uint64_t persist;
    {
        std::lock_guard lk(mu_);
        next_seq = std::min(next_seq, next_seq_);
        if (next_seq > cursor_) {
            stats_.acked += next_seq - cursor_;
            cursor_ = next_seq;
        }
        // Fully delivered segments go, except the one being appended to.
        while (!segs_.empty() && segs_.front().end_seq <= cursor_ &&
               !(active_fd_ >= 0 && segs_.size() == 1)) {
            if (read_seg_ == segs_.front().first_seq) {
                ::close(read_fd_);
                read_fd_ = -1;
                read_seg_ = UINT64_MAX;
            }
            ::unlink(segment_path(segs_.front().first_seq).c_str());
            total_bytes_ -= segs_.front().bytes;
            segs_.pop_front();
        }
        persist = cursor_;
    }
    // Only this (the consumer's) thread writes the cursor file.
    if (persist != persisted_cursor_ && write_cursor(persist)) persisted_cursor_ = persist;
}

uint64_t Spool::cursor() const {
    std::lock_guard lk(mu_);
    return cursor_;
}

uint64_t Spool::next_seq() const {
    std::lock_guard lk(mu_);
    return next_seq_;
}

SpoolStats Spool::stats() const {
    std::lock_guard lk(mu_);
    SpoolStats s = stats_;
    for (const auto& g : segs_)
        if (g.end_seq > cursor_) s.backlog += g.end_seq - std::max(g.first_seq, cursor_);
    s.disk_bytes = total_bytes_;
    s.segments = segs_.size();
    return s;
}

}  // namespace sybilwatch::alerts
