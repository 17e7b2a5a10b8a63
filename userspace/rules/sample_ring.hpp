// SampleRing: the latest connections the engine has seen, for the sample connections a finding
// carries (the most recent ones of its accounts). Every observation is written here, so a slot
// is one flat record (time, addresses, ports, then the texts back to back) filled with short
// inline copies, where seven std::strings assigned in turn cost a call each and reached three
// heap buffers. A finding, rare, rebuilds SampleConnections from its slots. A text longer than
// its share of the slot is cut there (kLimits: the capacities of the observation's fields, so
// only an account name or user agent beyond 256 bytes is cut; the account table cuts names
// there too). The slots' account ids are kept apart, 4 B each, for a finding to scan all of
// them without touching the slots.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "identity/attributed_observation.hpp"
#include "net/ip_address.hpp"
#include "rules/finding.hpp"

namespace sybilwatch::rules {

class SampleRing {
  public:
    static constexpr size_t kSlots = 4096;  // a power of two
    static constexpr uint32_t kNoAccount = UINT32_MAX;

    SampleRing();

    // Starts loading (for writing) the slot the n-th next push() fills, 0 = the next.
    void prefetch(size_t n) const;
    void push(const identity::AttributedObservation& a, uint32_t account);

    // By age, 0 = the newest push: the account (kNoAccount for a slot never written or an
    // unattributed connection) and the connection.
    uint32_t account(size_t age) const { return accounts_[index(age)]; }
    SampleConnection connection(size_t age) const;
    size_t memory_bytes() const {
        return slots_.capacity() * sizeof(Slot) + accounts_.capacity() * 4;
    }

  private:
    // account, sni, ja4, ja3, ja4t, tcp_sig, user_agent.
    static constexpr std::array<uint16_t, 7> kLimits = {256, 255, 40, 32, 200, 160, 256};
    static constexpr size_t kTextBytes = 1200;  // the sum of kLimits, rounded up to 8
    struct Slot {
        int64_t ts_ns = 0;
        net::IpAddress src, dst;
        uint16_t src_port = 0, dst_port = 0;
        std::array<uint16_t, 7> len{};
        char text[kTextBytes];
    };
    size_t index(size_t age) const { return (next_ + kSlots - 1 - age) & (kSlots - 1); }

    std::vector<Slot> slots_;
    std::vector<uint32_t> accounts_;
    size_t next_ = 0;
};

}  // namespace sybilwatch::rules
