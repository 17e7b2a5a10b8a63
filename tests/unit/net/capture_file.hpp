// Test helper: reads every frame of a pcap or pcapng file into memory. The net module must
// not depend on libpcap and unit_net does not link it, so the decoder tests read the reference
// captures with this small reader (classic pcap in either byte order and time resolution;
// pcapng sections with their own byte order, interfaces, enhanced/simple/obsolete packets).
#pragma once

#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

#include "net/packet.hpp"

namespace sybilwatch::net::test {

struct CapturedFrame {
    LinkType link;
    uint32_t wire_len;
    std::vector<uint8_t> data;
};

class CaptureFileReader {
  public:
    static std::vector<CapturedFrame> read(const std::string& path) {
        std::ifstream in(path, std::ios::binary);
        if (!in) throw std::runtime_error("cannot open " + path);
        CaptureFileReader r{std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {})};
        if (r.buf_.size() < 4) throw std::runtime_error("too short: " + path);
        const uint32_t magic = r.u32(0);
        if (magic == 0x0A0D0D0A) {
            r.read_pcapng();
        } else {
            r.read_pcap();
        }
        return std::move(r.frames_);
    }

  private:
    explicit CaptureFileReader(std::vector<uint8_t> buf) : buf_(std::move(buf)) {}

    void need(size_t off, size_t n) const {
        if (off > buf_.size() || buf_.size() - off < n) throw std::runtime_error("truncated file");
    }
    uint16_t u16(size_t off) const {
        need(off, 2);
        uint16_t v;
        std::memcpy(&v, &buf_[off], 2);
        return swap_ ? static_cast<uint16_t>((v >> 8) | (v << 8)) : v;
    }
    uint32_t u32(size_t off) const {
        need(off, 4);
        uint32_t v;
        std::memcpy(&v, &buf_[off], 4);
        return swap_ ? __builtin_bswap32(v) : v;
    }
    void add(uint32_t link, size_t off, size_t caplen, uint32_t wire_len) {
        need(off, caplen);
        frames_.push_back(
            {static_cast<LinkType>(link & 0xffff), wire_len,
             std::vector<uint8_t>(buf_.begin() + static_cast<ptrdiff_t>(off),
                                  buf_.begin() + static_cast<ptrdiff_t>(off + caplen))});
    }

    void read_pcap() {
        const uint32_t magic = u32(0);
        if (magic == 0xD4C3B2A1 || magic == 0x4D3CB2A1) {
            swap_ = true;
        } else if (magic != 0xA1B2C3D4 && magic != 0xA1B23C4D) {
            throw std::runtime_error("not a pcap or pcapng file");
        }
        const uint32_t link = u32(20);
        for (size_t off = 24; off < buf_.size();) {
            const uint32_t caplen = u32(off + 8);
            const uint32_t wire_len = u32(off + 12);
            add(link, off + 16, caplen, wire_len);
            off += 16 + size_t{caplen};
        }
    }

    void read_pcapng() {
        std::vector<uint32_t> interfaces;  // link type per interface, per section
        for (size_t off = 0; off < buf_.size();) {
            swap_ = false;
            uint32_t type = u32(off);
            if (type == 0x0A0D0D0A) {  // section header: byte order of what follows
                swap_ = u32(off + 8) != 0x1A2B3C4D;
                interfaces.clear();
            }
            const uint32_t len = u32(off + 4);
            if (len < 12 || len % 4 != 0) throw std::runtime_error("bad pcapng block");
            need(off, len);
            const size_t body = off + 8;
            switch (type) {
                case 1:
                    interfaces.push_back(u16(body));
                    break;
                case 6: {  // enhanced packet
                    const uint32_t ifc = u32(body);
                    if (ifc >= interfaces.size()) throw std::runtime_error("bad interface");
                    add(interfaces[ifc], body + 20, u32(body + 12), u32(body + 16));
                    break;
                }
                case 3: {  // simple packet: caplen is what the block holds
                    if (interfaces.empty()) throw std::runtime_error("no interface");
                    const uint32_t wire = u32(body);
                    add(interfaces[0], body + 4, std::min<size_t>(wire, len - 16), wire);
                    break;
                }
                case 2: {  // obsolete packet block
                    const uint16_t ifc = u16(body);
                    if (ifc >= interfaces.size()) throw std::runtime_error("bad interface");
                    add(interfaces[ifc], body + 20, u32(body + 12), u32(body + 16));
                    break;
                }
                default:
                    break;
            }
            off += len;
        }
    }

    std::vector<uint8_t> buf_;
    std::vector<CapturedFrame> frames_;
    bool swap_ = false;
};

}  // namespace sybilwatch::net::test
