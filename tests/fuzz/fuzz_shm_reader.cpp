// The ring reader against hostile segment bytes: another process's memory, validated, followed,
// copied, converted and printed. First byte: bit 0 set = the input is the whole segment (header
// validation); clear = a valid header of 2 << (bits 1-2) slots around fuzzer-made write index,
// start position and slots (the cursor and record conversion).
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "fingerprint/observation_json.hpp"
#include "shm/observation_record.hpp"
#include "shm/ring_error.hpp"
#include "shm/ring_layout.hpp"
#include "shm/ring_reader.hpp"
#include "shm/top_window.hpp"

using namespace sybilwatch;

namespace {

void read_all(const shm::RingView& view, uint64_t back) {
    shm::RingCursor cursor(view);
    cursor.seek_back(back);
    shm::ObservationRecord rec;
    fingerprint::Observation obs;
    shm::TopWindow top({60'000'000'000, 64});
    std::string out;
    uint64_t missed = 0;
    for (int i = 0; i < 64; ++i) {
        const shm::ReadResult r = cursor.next(rec);
        if (r.status == shm::ReadStatus::Empty) break;
        if (r.status == shm::ReadStatus::Overrun) {
            missed += r.missed;
            continue;
        }
        shm::to_observation(rec, obs);
        fingerprint::append_json(obs, out);
        fingerprint::append_json_string(shm::account_of(rec), out);
        fingerprint::append_json_string(shm::user_agent_of(rec), out);
        top.add(i, rec);
    }
    const std::string table = shm::render_top(top.snapshot(5), "fuzz");
    if (table.find('\x1b') != std::string::npos) __builtin_trap();  // never a raw escape
    const auto& s = cursor.stats();
    if (s.missed != missed) __builtin_trap();  // every skip is counted once
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 1) return 0;
    const uint8_t mode = data[0];
    ++data;
    --size;
    if (mode & 1) {
        std::vector<uint64_t> buf((size + 7) / 8);  // the view needs 8-byte alignment
        if (size) std::memcpy(buf.data(), data, size);
        try {
            const auto v = shm::RingView::validate(
                {reinterpret_cast<const std::byte*>(buf.data()), size}, "fuzz");
            read_all(v, UINT64_MAX);
        } catch (const shm::RingError&) {
        }
        return 0;
    }
    const uint32_t cap = 2u << ((mode >> 1) & 3);
    const uint64_t seg = shm::segment_size_for(cap);
    std::vector<uint64_t> buf(seg / 8);
    auto* bytes = reinterpret_cast<std::byte*>(buf.data());
    shm::RingHeader h{};
    h.magic = shm::kRingMagic;
    h.version = shm::kRingVersion;
    h.header_size = shm::kHeaderSize;
    h.record_size = shm::kRecordSize;
    h.capacity = cap;
    h.segment_size = seg;
    h.payload_size = sizeof(shm::ObservationRecord);
    uint64_t back = 0;
    if (size >= 16) {
        std::memcpy(&h.write_index, data, 8);
        std::memcpy(&back, data + 8, 8);
        data += 16;
        size -= 16;
    }
    std::memcpy(bytes, &h, sizeof h);
    // The rest fills the slots, seq words included: records that lie about their lengths,
    // enums, addresses and doubles, and seqs that disagree with the index.
    const size_t n = std::min<size_t>(size, seg - shm::kHeaderSize);
    if (n) std::memcpy(bytes + shm::kHeaderSize, data, n);
    const auto v = shm::RingView::validate({bytes, seg}, "fuzz");
    read_all(v, back);
    return 0;
}
