#include "shm/ring_layout.hpp"

#include <cstring>
#include <string>

#include "shm/ring_error.hpp"

namespace sybilwatch::shm {

namespace {

constexpr size_t kWords = sizeof(ObservationRecord) / 8;

[[noreturn]] void fail(RingError::Code code, const char* what, const std::string& msg) {
    throw RingError(code, std::string(what) + ": " + msg);
}

}  // namespace

RingView RingView::validate(std::span<const std::byte> bytes, const char* what) {
    if (reinterpret_cast<uintptr_t>(bytes.data()) % 8 != 0)
        fail(RingError::Code::BadLayout, what, "segment is not 8-byte aligned");
    if (bytes.size() < kHeaderSize)
        fail(RingError::Code::NotReady, what,
             "segment is " + std::to_string(bytes.size()) +
                 " bytes, smaller than a ring header (being created, or not a sybilwatch ring)");
    const auto* h = reinterpret_cast<const RingHeader*>(bytes.data());
    // Acquire: the writer stores the magic last, so the fields below are complete once it shows.
    const uint64_t magic = atomic_load(h->magic, std::memory_order_acquire);
    if (magic == 0) fail(RingError::Code::NotReady, what, "ring is not initialised yet");
    if (magic != kRingMagic)
        fail(RingError::Code::BadMagic, what, "not a sybilwatch observation ring (bad magic)");
    if (h->version != kRingVersion)
        fail(RingError::Code::BadVersion, what,
             "ring layout version " + std::to_string(h->version) + ", this build reads version " +
                 std::to_string(kRingVersion));
    if (h->header_size != kHeaderSize || h->record_size != kRecordSize ||
        h->payload_size != sizeof(ObservationRecord))
        fail(RingError::Code::BadLayout, what,
             "header/record/payload sizes " + std::to_string(h->header_size) + "/" +
                 std::to_string(h->record_size) + "/" + std::to_string(h->payload_size) +
                 ", this build expects " + std::to_string(kHeaderSize) + "/" +
                 std::to_string(kRecordSize) + "/" + std::to_string(sizeof(ObservationRecord)));
    const uint32_t cap = h->capacity;
    if (cap < kMinCapacity || cap > kMaxCapacity || (cap & (cap - 1)) != 0)
        fail(RingError::Code::BadLayout, what,
             "capacity " + std::to_string(cap) + " is not a power of two in [" +
                 std::to_string(kMinCapacity) + ", " + std::to_string(kMaxCapacity) + "]");
    const uint64_t expect = segment_size_for(cap);
    if (h->segment_size != expect || bytes.size() != expect)
        fail(RingError::Code::BadLayout, what,
             "segment is " + std::to_string(bytes.size()) + " bytes, header says " +
                 std::to_string(h->segment_size) + ", capacity " + std::to_string(cap) + " needs " +
                 std::to_string(expect));
    RingView v;
    v.base_ = bytes.data();
    v.header_ = h;
    v.capacity_ = cap;
    return v;
}

void copy_from_slot(const std::byte* payload, ObservationRecord& out) {
    auto* dst = reinterpret_cast<std::byte*>(&out);
    const auto* src = reinterpret_cast<const uint64_t*>(payload);
    for (size_t i = 0; i < kWords; ++i) {
        const uint64_t w = atomic_load(src[i], std::memory_order_relaxed);
        std::memcpy(dst + 8 * i, &w, 8);
    }
}

void copy_to_slot(const ObservationRecord& in, std::byte* payload) {
    const auto* src = reinterpret_cast<const std::byte*>(&in);
    auto* dst = reinterpret_cast<uint64_t*>(payload);
    for (size_t i = 0; i < kWords; ++i) {
        uint64_t w;
        std::memcpy(&w, src + 8 * i, 8);
        atomic_store(dst[i], w, std::memory_order_relaxed);
    }
}

}  // namespace sybilwatch::shm
