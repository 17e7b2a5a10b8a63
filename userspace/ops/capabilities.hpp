// Dropping privileges once the daemon no longer needs them. Loading and attaching the BPF
// programs needs CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN (CAP_SYS_ADMIN on older kernels),
// libpcap needs CAP_NET_RAW; afterwards the ring buffer and the maps are used through file
// descriptors already open, which needs no capability. Only CAP_NET_ADMIN stays, to remove the
// TC filters at shutdown.
#pragma once

#include <string>
#include <vector>

namespace sybilwatch::ops {

// Reduces the effective, permitted and inheritable sets (and the ambient set) to `keep`
// (capability names as in capabilities(7), e.g. "cap_net_admin"), intersected with what the
// process has. Returns the names of the capabilities still effective. Throws
// std::runtime_error when the kernel refuses.
std::vector<std::string> keep_only_capabilities(const std::vector<std::string>& keep);

// The process's effective capabilities by name.
std::vector<std::string> effective_capabilities();

}  // namespace sybilwatch::ops
