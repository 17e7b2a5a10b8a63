// The one writer of a shared-memory observation ring. publish() never blocks, never waits for
// a reader and never allocates: readers that fall behind are overwritten and find out.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "fingerprint/engine.hpp"
#include "fingerprint/observation.hpp"
#include "shm/observation_record.hpp"
#include "shm/ring_layout.hpp"
#include "shm/segment.hpp"

namespace sybilwatch::shm {

struct WriterOptions {
    uint32_t capacity = kDefaultCapacity;  // records; a power of two in [2, 2^20]
    mode_t mode = 0640;                    // owner writes, its group reads (sybilwatch tail/top)
    bool unlink_on_close = true;           // see docs/shm.md, "Lifetime"
};

class Writer {
  public:
    // Creates the ring's segment. An existing segment whose writer is gone (crashed, or closed
    // without unlinking) is replaced by a fresh one; one with a live writer is left alone and
    // RingError(InUse) names that writer's pid. Also throws RingError(BadName, BadOptions,
    // System: e.g. /dev/shm too small for the ring).
    explicit Writer(std::string_view ring, const WriterOptions& opts = {});
    // Marks the ring Closed (readers see it at once), then unlinks it when
    // unlink_on_close and the name still refers to this segment.
    ~Writer();
    Writer(Writer&&) noexcept = default;
    Writer& operator=(Writer&&) = delete;
    Writer(const Writer&) = delete;
    Writer& operator=(const Writer&) = delete;

    void publish(const fingerprint::Observation& o, std::string_view account = {},
                 std::string_view user_agent = {}) {
        to_record(o, scratch_, account, user_agent);
        publish(scratch_);
    }
    void publish(const ObservationRecord& r);

    uint64_t published() const { return next_; }
    uint32_t capacity() const { return capacity_; }
    const std::string& path() const { return path_; }
    // The pid of the dead writer whose segment this one replaced, if it replaced one.
    std::optional<uint32_t> replaced_pid() const { return replaced_pid_; }

  private:
    RingHeader& header() const { return *reinterpret_cast<RingHeader*>(map_.data()); }

    std::string shm_name_;
    std::string path_;
    Fd fd_;  // held for the writer's life: its flock marks the ring as owned
    Mapping map_;
    uint32_t capacity_ = 0;
    uint64_t next_ = 0;  // the next record's sequence number (only this writer writes it)
    bool unlink_on_close_ = true;
    std::optional<uint32_t> replaced_pid_;
    ObservationRecord scratch_{};
};

// An ObservationSink that publishes to a ring: the engine's output as the daemon's stage.
class RingSink : public fingerprint::ObservationSink {
  public:
    explicit RingSink(Writer& w) : w_(w) {}
    void on_observation(const fingerprint::Observation& o) override { w_.publish(o); }

  private:
    Writer& w_;
};

}  // namespace sybilwatch::shm
