// Conversions from the kernel's event and map layouts (bpf/sybilwatch.h) to the userspace
// types the engine takes: the flow key and the cadence summary.
#pragma once

#include <linux/types.h>

#include "fingerprint/observation.hpp"
#include "net/flow_key.hpp"
#include "sybilwatch.h"

namespace sybilwatch::capture {

// The engine's canonical (direction-free) key of the kernel's client/server key.
net::FlowKey flow_key_from(const sw_flow_key& k);

// The engine's cadence from the kernel's sums: Welford's mean and M2 from the sum and the
// 128-bit sum of squares; a client burst still open is closed as the engine does at the end.
fingerprint::Cadence cadence_from(const sw_cadence& c);

fingerprint::EndReason end_reason_from(uint32_t reason);

}  // namespace sybilwatch::capture
