// FileTransport: findings as lines in a local file (JSON lines for the JSON formats), rotated
// by size: path → path.1 → … → path.<keep>, the oldest deleted. reopen() (on SIGHUP) closes
// and reopens the path for an external logrotate that moved the file away.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>

#include "alerts/transport.hpp"

namespace sybilwatch::alerts {

struct FileTransportOptions {
    std::string path;
    uint64_t rotate_bytes = 100ull << 20;  // 0: never rotate
    unsigned keep = 5;                     // rotated files kept
    // fdatasync after each batch before reporting it accepted: the spool deletes what this
    // transport accepted, so without it a power loss could lose findings the page cache held.
    bool sync = true;
    mode_t mode = 0640;
};

class FileTransport : public Transport {
  public:
    explicit FileTransport(FileTransportOptions options);
    ~FileTransport() override;

    // Appends each payload and a newline (unless it ends in one). A write that fails midway is
    // cut back to the last whole line, so the file never holds half a finding.
    size_t send(std::span<const std::string_view> payloads, std::string& error) override;
    size_t max_batch() const override { return 256; }
    std::string_view name() const override { return "file"; }

    // Async-signal-safe (sets a flag): the next send() reopens the path.
    void reopen() { reopen_.store(true, std::memory_order_relaxed); }
    uint64_t rotations() const { return rotations_.load(std::memory_order_relaxed); }

  private:
    bool ensure_open(std::string& error);
    bool rotate(std::string& error);
    bool write_buf(std::string& error);

    const FileTransportOptions opt_;
    std::mutex mu_;
    int fd_ = -1;
    uint64_t size_ = 0;
    std::string buf_;
    std::atomic<bool> reopen_{false};
    std::atomic<uint64_t> rotations_{0};
};

}  // namespace sybilwatch::alerts
