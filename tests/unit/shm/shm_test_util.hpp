// Helpers for the ring tests: unique ring names, records derived from one counter (so a torn
// copy is visible), real observations from the reference captures, and raw pokes into a
// segment (to play a broken or crashed writer).
#pragma once

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <string>
#include <vector>

#include "capture/pcap_file.hpp"
#include "fingerprint/engine.hpp"
#include "shm/observation_record.hpp"
#include "shm/ring_layout.hpp"
#include "shm/segment.hpp"

namespace sybilwatch::shm::test {

// A ring name no other test process uses (engineers run tests side by side).
inline std::string unique_ring(const char* tag) {
    static std::atomic<int> n{0};
    return std::string("swtest-") + tag + "-" + std::to_string(::getpid()) + "-" +
           std::to_string(n++);
}

// Record k: every field a function of k, strings of k-dependent length and content. A copy
// mixing two records fails consistent().
inline ObservationRecord counter_record(uint64_t k) {
    ObservationRecord r{};
    const auto i64 = static_cast<int64_t>(k);
    r.ts_ns = i64;
    r.syn_ns = i64 * 3;
    r.synack_ns = i64 * 5;
    r.ack_ns = i64 * 7;
    r.rtt_us = i64 * 11;
    r.client_bytes = k * 13;
    r.server_bytes = k * 17;
    r.gap_mean_us_bits = k * 19;
    r.gap_m2_bits = k * 23;
    r.gap_min_us = k * 29;
    r.gap_max_us = k * 31;
    r.duration_us = i64 * 37;
    r.requests = static_cast<uint32_t>(k);
    r.responses = static_cast<uint32_t>(k >> 3);
    r.max_request_bytes = static_cast<uint32_t>(k * 41);
    r.min_request_bytes = static_cast<uint32_t>(k * 43);
    r.gap_count = static_cast<uint32_t>(k * 47);
    r.src_port = static_cast<uint16_t>(k);
    r.dst_port = static_cast<uint16_t>(k >> 16);
    r.tls_version = static_cast<uint16_t>(k * 53);
    r.client_ttl = static_cast<uint8_t>(k);
    r.server_ttl = static_cast<uint8_t>(k >> 8);
    for (int b = 0; b < 16; ++b) {
        r.src_addr[b] = static_cast<uint8_t>(k >> (b % 8));
        r.dst_addr[b] = static_cast<uint8_t>(k * 59 >> (b % 8));
    }
    auto fill = [k](auto& s, uint64_t salt) {
        constexpr size_t cap = std::remove_reference_t<decltype(s)>::capacity;
        s.len = static_cast<uint16_t>((k + salt) % (cap + 1));
        for (size_t i = 0; i < cap; ++i)
            s.data[i] = static_cast<char>('a' + (k + salt + i) % 26);
    };
    fill(r.sni, 1);
    fill(r.alpn, 2);
    fill(r.ja4, 3);
    fill(r.ja4_o, 4);
    fill(r.ja3, 5);
    fill(r.ja4s, 6);
    fill(r.ja4t, 7);
    fill(r.ja4ts, 8);
    fill(r.ja4l_c, 9);
    fill(r.ja4l_s, 10);
    fill(r.tcp_sig, 11);
    fill(r.account, 12);
    fill(r.user_agent, 13);
    return r;
}

inline bool consistent(const ObservationRecord& r) {
    const ObservationRecord expect = counter_record(static_cast<uint64_t>(r.ts_ns));
    return std::memcmp(&r, &expect, sizeof r) == 0;
}

// Every observation the engine makes of a reference capture.
inline std::vector<fingerprint::Observation> observations_of(const std::string& path) {
    struct Collect : fingerprint::ObservationSink {
        void on_observation(const fingerprint::Observation& o) override { seen.push_back(o); }
        std::vector<fingerprint::Observation> seen;
    } sink;
    capture::PcapFile file(path);
    fingerprint::Engine engine({}, sink);
    capture::Frame fr;
    while (file.next(fr))
        engine.on_frame(fr.link, fr.ts_ns, fr.data, fr.wire_len);
    engine.flush();
    return sink.seen;
}

inline std::string foxio_pcap(const std::string& name) {
    return std::string(SW_SHARED_DIR) + "/conformance/foxio/pcap/" + name;
}

// A read-write mapping of a ring's segment, as a broken or malicious writer would hold.
class RawSegment {
  public:
    explicit RawSegment(const std::string& ring) {
        Fd fd(::shm_open(ring_shm_name(ring).c_str(), O_RDWR, 0));
        if (!fd) return;
        const off_t size = ::lseek(fd.get(), 0, SEEK_END);
        map_ = Mapping(fd.get(), static_cast<size_t>(size), true, false, ring);
    }
    bool ok() const { return map_.data() != nullptr; }
    RingHeader& header() { return *reinterpret_cast<RingHeader*>(map_.data()); }
    uint64_t& seq(uint64_t n) {
        const uint32_t cap = header().capacity;
        return *reinterpret_cast<uint64_t*>(map_.data() + kHeaderSize +
                                            (n & (cap - 1)) * size_t{kRecordSize});
    }

  private:
    Mapping map_;
};

}  // namespace sybilwatch::shm::test
