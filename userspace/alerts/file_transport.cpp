#include "alerts/file_transport.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace sybilwatch::alerts {
namespace {

std::string errno_text(const std::string& what) {
    return what + ": " + std::strerror(errno);
}

}  // namespace

FileTransport::FileTransport(FileTransportOptions options) : opt_(std::move(options)) {}

FileTransport::~FileTransport() {
    if (fd_ >= 0) ::close(fd_);
}

bool FileTransport::ensure_open(std::string& error) {
    if (reopen_.exchange(false, std::memory_order_relaxed) && fd_ >= 0) {
        ::close(fd_);
        fd_ = -1;
    }
    if (fd_ >= 0) return true;
    fd_ = ::open(opt_.path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, opt_.mode);
    if (fd_ < 0) {
        error = errno_text(opt_.path);
        return false;
    }
    struct stat st {};
    size_ = ::fstat(fd_, &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
    return true;
}

bool FileTransport::rotate(std::string& error) {
    ::close(fd_);
    fd_ = -1;
    auto name = [&](unsigned i) { return opt_.path + "." + std::to_string(i); };
    if (opt_.keep == 0) {
        ::unlink(opt_.path.c_str());
    } else {
        ::unlink(name(opt_.keep).c_str());
        for (unsigned i = opt_.keep - 1; i >= 1; --i)
            ::rename(name(i).c_str(), name(i + 1).c_str());  // a missing one is fine
        if (::rename(opt_.path.c_str(), name(1).c_str()) != 0 && errno != ENOENT) {
            error = errno_text("rotate " + opt_.path);
            return false;
        }
    }
    rotations_.fetch_add(1, std::memory_order_relaxed);
    return ensure_open(error);
}

// Writes buf_ whole or reports how far it got by leaving the file cut at its old size.
bool FileTransport::write_buf(std::string& error) {
    const uint64_t start = size_;
    size_t done = 0;
    while (done < buf_.size()) {
        ssize_t r = ::write(fd_, buf_.data() + done, buf_.size() - done);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) {
            if (r == 0) errno = EIO;
            error = errno_text("write " + opt_.path);
            // Half a line would be read as a corrupt finding: take it back.
            if (done && ::ftruncate(fd_, static_cast<off_t>(start)) != 0)
                error += "; " + errno_text("truncate");
            return false;
        }
        done += static_cast<size_t>(r);
    }
    size_ += buf_.size();
    return true;
}

size_t FileTransport::send(std::span<const std::string_view> payloads, std::string& error) {
    std::lock_guard lk(mu_);
    if (!ensure_open(error)) return 0;
    size_t accepted = 0;  // payloads written and, with sync, durable
    size_t pending = 0;   // payloads in buf_
    buf_.clear();
    auto flush = [&]() -> bool {
        if (buf_.empty()) return true;
        if (!write_buf(error)) return false;
        if (opt_.sync && ::fdatasync(fd_) != 0) {
            error = errno_text("fdatasync " + opt_.path);
            return false;
        }
        buf_.clear();
        accepted += pending;
        pending = 0;
        return true;
    };
    for (auto p : payloads) {
        const bool nl = p.empty() || p.back() != '\n';
        const uint64_t line = p.size() + (nl ? 1 : 0);
        if (opt_.rotate_bytes && size_ + buf_.size() > 0 &&
            size_ + buf_.size() + line > opt_.rotate_bytes) {
            if (!flush() || !rotate(error)) return accepted;
        }
        buf_.append(p);
        if (nl) buf_.push_back('\n');
        ++pending;
    }
    flush();
    return accepted;
}

}  // namespace sybilwatch::alerts
