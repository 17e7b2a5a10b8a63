// p0f-v3-style TCP signature of a SYN or SYN-ACK ("raw_sig" in p0f's output):
//   ver:ittl+dist:olen:mss:wsize,scale:olayout:quirks:pclass
// Licence-free, so rules keep a TCP stack fingerprint when the FoxIO module is off.
#pragma once

#include <cstdint>
#include <string_view>

#include "fingerprint/fixed_string.hpp"
#include "net/packet.hpp"
#include "net/tcp_options.hpp"

namespace sybilwatch::fingerprint {

// syn_mss: on a SYN-ACK, the MSS the client's SYN announced (0 if unknown): p0f lets servers
// size their window from the peer's MSS.
void tcp_sig(const net::Packet& p, const net::TcpOptions& o, uint16_t syn_mss,
             FixedString<160>& out);

// The initial TTL a sender most likely used: the next of 32, 64, 128, 255 at or above `ttl`.
uint8_t initial_ttl(uint8_t ttl);

}  // namespace sybilwatch::fingerprint
