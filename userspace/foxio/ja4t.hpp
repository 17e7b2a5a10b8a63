// JA4T (client SYN) and JA4TS (server SYN-ACK): window_options_mss_wscale.
// FoxIO License 1.1 (see NOTICE); this module is switched off with fingerprints.foxio: false.
#pragma once

#include "fingerprint/fixed_string.hpp"
#include "net/packet.hpp"
#include "net/tcp_options.hpp"

namespace sybilwatch::foxio {

// Option kinds in wire order joined by '-' (padding after EOL shows as further 0 kinds), "00"
// for a missing part (no options, no MSS option, no window-scale option); a window-scale option
// of 0 prints "0".
void ja4t(const net::Packet& syn, const net::TcpOptions& o, fingerprint::FixedString<200>& out);

}  // namespace sybilwatch::foxio
