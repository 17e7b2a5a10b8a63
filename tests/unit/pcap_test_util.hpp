// Test helper: the decoded packets of a capture file.
#pragma once

#include <string>
#include <vector>

#include "capture/pcap_file.hpp"
#include "net/packet.hpp"

namespace sybilwatch::testing {

// A decoded packet whose views point into `bytes` (kept alive with it).
struct OwnedPacket {
    std::vector<uint8_t> bytes;
    net::Packet packet;
    net::DecodeStatus status;
};

inline std::vector<OwnedPacket> read_capture(const std::string& path) {
    std::vector<OwnedPacket> out;
    capture::PcapFile f(path);
    capture::Frame fr;
    while (f.next(fr)) {
        out.emplace_back();
        OwnedPacket& p = out.back();
        p.bytes.assign(fr.data.begin(), fr.data.end());
        p.status = net::decode(fr.link, p.bytes, p.packet);
        p.packet.ts_ns = fr.ts_ns;
    }
    return out;
}

inline std::string shared_pcap(const std::string& name) {
    return std::string(SW_SHARED_DIR) + "/conformance/foxio/pcap/" + name;
}

}  // namespace sybilwatch::testing
