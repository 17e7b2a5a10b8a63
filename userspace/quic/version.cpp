#include "quic/version.hpp"

namespace sybilwatch::quic {

namespace {

constexpr VersionParams kVersions[] = {
    {kVersion1,
     {0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17,
      0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad, 0xcc, 0xbb, 0x7f, 0x0a},
     "quic key",
     "quic iv",
     "quic hp",
     false},
    {kVersion2,
     {0x0d, 0xed, 0xe3, 0xde, 0xf7, 0x00, 0xa6, 0xdb, 0x81, 0x93,
      0x81, 0xbe, 0x6e, 0x26, 0x9d, 0xcb, 0xf9, 0xbd, 0x2e, 0xd9},
     "quicv2 key",
     "quicv2 iv",
     "quicv2 hp",
     true},
    {kVersionDraft29,
     {0xaf, 0xbf, 0xec, 0x28, 0x99, 0x93, 0xd2, 0x4c, 0x9e, 0x97,
      0x86, 0xf1, 0x9c, 0x61, 0x11, 0xe0, 0x43, 0x90, 0xa8, 0x99},
     "quic key",
     "quic iv",
     "quic hp",
     false},
};

}  // namespace

const VersionParams* find_version(uint32_t version) {
    for (const auto& v : kVersions) {
        if (v.version == version) return &v;
    }
    return nullptr;
}

const char* to_string(PacketType t) {
    switch (t) {
        case PacketType::Initial:
            return "Initial";
        case PacketType::ZeroRtt:
            return "0-RTT";
        case PacketType::Handshake:
            return "Handshake";
        case PacketType::Retry:
            return "Retry";
    }
    return "?";
}

}  // namespace sybilwatch::quic
