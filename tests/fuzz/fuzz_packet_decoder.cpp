// Fuzzes net::decode() / net::decode_ip(). The first input byte picks the link type (modulo the
// number of supported ones, plus decode_ip as the last choice); the rest is the frame. Beyond
// ASan/UBSan's checks, every Ok result must keep its views inside the input and be a TCP or
// UDP packet of IP version 4 or 6.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "net/packet.hpp"

namespace {

using sybilwatch::net::DecodeStatus;
using sybilwatch::net::LinkType;

constexpr LinkType kLinks[] = {LinkType::Null, LinkType::Ethernet, LinkType::Raw,
                               LinkType::Loop, LinkType::LinuxSll, LinkType::Ipv4,
                               LinkType::Ipv6, LinkType::LinuxSll2};
constexpr size_t kChoices = std::size(kLinks) + 1;  // + decode_ip

bool inside(std::span<const uint8_t> view, std::span<const uint8_t> input) {
    return view.empty() || (view.data() >= input.data() &&
                            view.data() + view.size() <= input.data() + input.size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0) return 0;
    const size_t choice = data[0] % kChoices;
    const std::span<const uint8_t> frame(data + 1, size - 1);
    sybilwatch::net::Packet p;
    const DecodeStatus s = choice < std::size(kLinks)
                               ? sybilwatch::net::decode(kLinks[choice], frame, p)
                               : sybilwatch::net::decode_ip(frame, p);
    if (sybilwatch::net::to_string(s)[0] == '\0') abort();
    if (s != DecodeStatus::Ok) return 0;
    if (!inside(p.payload, frame) || !inside(p.tcp_options, frame)) abort();
    if (p.payload.size() > p.payload_len) abort();
    if (p.ip_version != 4 && p.ip_version != 6) abort();
    if (p.src.family != p.ip_version || p.dst.family != p.ip_version) abort();
    if (!p.is_tcp() && !p.is_udp()) abort();
    if (p.tunnel_depth > 4) abort();
    return 0;
}
