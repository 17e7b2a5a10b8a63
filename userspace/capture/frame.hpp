// One captured frame as every capture source yields it.
#pragma once

#include <cstdint>
#include <span>

#include "net/packet.hpp"

namespace sybilwatch::capture {

struct Frame {
    int64_t ts_ns = 0;
    net::LinkType link = net::LinkType::Ethernet;
    std::span<const uint8_t> data;  // valid until the source's next call
    uint32_t wire_len = 0;
};

}  // namespace sybilwatch::capture
