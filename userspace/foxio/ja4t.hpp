// JA4T (client SYN) and JA4TS (server SYN-ACK): window_options_mss_wscale.
// FoxIO License 1.1 (see NOTICE); this module is switched off with fingerprints.foxio: false.
#pragma once

#include "fingerprint/fixed_string.hpp"
#include "net/packet.hpp"
#include "net/tcp_options.hpp"

namespace sybilwatch::foxio {

// Option kinds in wire order joined by '-', "00" for a missing part (no options, no MSS, no
// window scale or a zero scale), as the JA4T specification prints them.
void ja4t(const net::Packet& syn, const net::TcpOptions& o, fingerprint::FixedString<200>& out);

}  // namespace sybilwatch::foxio
