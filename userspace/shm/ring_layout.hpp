// The shared-memory ring's binary layout (docs/shm.md): a 128-byte header, then `capacity`
// slots of kRecordSize bytes. Host byte order: the ring never leaves the host.
//
// Slot protocol (a seqlock per slot, one writer): record n lives in slot n % capacity. The
// writer sets the slot's seq to 2n+1, writes the record, sets seq to 2n+2 (release), then the
// header's write_index to n+1 (release). A reader wanting record n checks seq == 2n+2, copies,
// and checks seq again: any change means the writer lapped it during the copy.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <span>

#include "shm/observation_record.hpp"

namespace sybilwatch::shm {

inline constexpr uint64_t kRingMagic = 0x474E495257425953ull;  // "SYBWRING" in memory order
inline constexpr uint32_t kRingVersion = 1;
inline constexpr uint32_t kHeaderSize = 128;
inline constexpr uint32_t kSlotSeqSize = 8;
// Whole cache lines per slot, so a slot being written never shares a line with its neighbour.
inline constexpr uint32_t kRecordSize = (kSlotSeqSize + sizeof(ObservationRecord) + 63) / 64 * 64;
inline constexpr uint32_t kMinCapacity = 2;
inline constexpr uint32_t kMaxCapacity = 1u << 20;  // 1.8 GiB of /dev/shm at most
inline constexpr uint32_t kDefaultCapacity = 1u << 14;

enum class RingState : uint32_t { Live = 1, Closed = 2 };

// Every field is written once before `magic` (release) except those marked atomic. The first
// 64 bytes keep their meaning in every version, so any build can say who owns a ring.
struct RingHeader {
    uint64_t magic;         // 0   kRingMagic; written last by the writer
    uint32_t version;       // 8   kRingVersion
    uint32_t header_size;   // 12  kHeaderSize
    uint32_t record_size;   // 16  bytes per slot
    uint32_t capacity;      // 20  slots, a power of two
    uint64_t segment_size;  // 24  header_size + capacity * record_size
    int64_t created_ns;     // 32  CLOCK_REALTIME when the writer created the ring
    uint32_t writer_pid;    // 40
    uint32_t state;         // 44  RingState (atomic): Closed once the writer shut down
    uint64_t writer_start;  // 48  the writer's start time (/proc/PID/stat field 22), 0 unknown
    uint32_t payload_size;  // 56  sizeof(ObservationRecord)
    uint32_t reserved0;     // 60
    uint64_t write_index;   // 64  atomic: records published; its own cache line
    uint8_t reserved[56];   // 72
};
static_assert(sizeof(RingHeader) == kHeaderSize);
static_assert(offsetof(RingHeader, write_index) == 64);

static_assert(std::atomic_ref<uint64_t>::is_always_lock_free,
              "the ring needs address-free 64-bit atomics (shared between processes)");
static_assert(std::atomic_ref<uint32_t>::is_always_lock_free);

// Atomic access to fields of the mapped segment. Readers map it read-only; an atomic load
// never writes, so the const_cast only satisfies atomic_ref's C++20 signature.
template <typename T>
inline T atomic_load(const T& field, std::memory_order mo) {
    return std::atomic_ref<T>(const_cast<T&>(field)).load(mo);
}
template <typename T>
inline void atomic_store(T& field, T v, std::memory_order mo) {
    std::atomic_ref<T>(field).store(v, mo);
}

// Segment bytes for a capacity (capacity <= kMaxCapacity: no overflow).
constexpr uint64_t segment_size_for(uint32_t capacity) {
    return kHeaderSize + uint64_t{capacity} * kRecordSize;
}

// A validated view of a ring segment (mapped memory, or any bytes: the fuzz target). The
// geometry is copied out of the header once, at validation, and never re-read: the writer is
// another process, and a header changed later must not move any index out of bounds.
class RingView {
  public:
    // Checks the header against this build and the byte count; throws RingError (NotReady,
    // BadMagic, BadVersion, BadLayout) naming `what` (the path) on failure. `bytes` must be
    // 8-byte aligned and outlive the view.
    static RingView validate(std::span<const std::byte> bytes, const char* what);

    const RingHeader& header() const { return *header_; }
    uint32_t capacity() const { return capacity_; }
    uint64_t write_index() const {
        return atomic_load(header_->write_index, std::memory_order_acquire);
    }
    uint32_t writer_pid() const {
        return atomic_load(header_->writer_pid, std::memory_order_relaxed);
    }
    RingState state() const {
        return static_cast<RingState>(atomic_load(header_->state, std::memory_order_acquire));
    }

    // The slot of record n: its seq word and its payload (8-byte words).
    const uint64_t& seq(uint64_t n) const { return *reinterpret_cast<const uint64_t*>(slot(n)); }
    const std::byte* payload(uint64_t n) const { return slot(n) + kSlotSeqSize; }

  private:
    const std::byte* slot(uint64_t n) const {
        return base_ + kHeaderSize + (n & (capacity_ - 1)) * size_t{kRecordSize};
    }
    const std::byte* base_ = nullptr;
    const RingHeader* header_ = nullptr;
    uint32_t capacity_ = 0;
};

// Copies a record between a slot and private memory in 8-byte relaxed atomic words: the
// seqlock's data accesses are then not data races (Boehm, "Can seqlocks get along with
// programming language memory models?", 2012). On x86-64 and arm64 these are plain moves.
void copy_from_slot(const std::byte* payload, ObservationRecord& out);
void copy_to_slot(const ObservationRecord& in, std::byte* payload);

}  // namespace sybilwatch::shm
