// Test helper: every frame of a capture file (pcap or pcapng, read through the project's
// libpcap-based capture::PcapFile), copied so the frames outlive the reader.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "capture/pcap_file.hpp"
#include "net/packet.hpp"

namespace sybilwatch::net::test {

struct CapturedFrame {
    LinkType link;
    uint32_t wire_len;
    std::vector<uint8_t> data;
};

class CaptureFileReader {
  public:
    // Throws std::runtime_error when the file cannot be read.
    static std::vector<CapturedFrame> read(const std::string& path) {
        std::vector<CapturedFrame> out;
        capture::PcapFile file(path);
        capture::Frame f;
        while (file.next(f))
            out.push_back({f.link, f.wire_len, std::vector<uint8_t>(f.data.begin(), f.data.end())});
        return out;
    }
};

}  // namespace sybilwatch::net::test
