// A set of IP networks (and single addresses, as /32 or /128) answering "is this address, or
// this network, inside one of them?" with one hash probe per distinct prefix length.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "net/ip_address.hpp"

namespace sybilwatch::rules {

struct Cidr {
    net::IpAddress addr;  // host bits zero
    uint8_t prefix = 0;   // 0..32 (IPv4) or 0..128 (IPv6)
};

// "10.0.0.0/8", "2001:db8::/32", or a plain address (a host route). Host bits must be zero
// ("10.0.0.1/8" is refused: it is usually a typo). On failure returns nullopt and says why.
std::optional<Cidr> parse_cidr(std::string_view text, std::string& why);

// The address with the bits after `prefix` cleared.
net::IpAddress mask(const net::IpAddress& a, uint8_t prefix);

class CidrSet {
  public:
    void add(const Cidr& c);
    // Whether some network of the set contains the address.
    bool contains(const net::IpAddress& a) const;
    // Whether some network of the set contains the whole network `c` (prefix <= c.prefix).
    bool contains(const Cidr& c) const;
    bool empty() const { return size_ == 0; }
    bool operator==(const CidrSet&) const = default;

  private:
    struct Key {
        net::IpAddress addr;
        uint8_t prefix;
        bool operator==(const Key&) const = default;
    };
    struct KeyHash {
        size_t operator()(const Key& k) const noexcept {
            return std::hash<net::IpAddress>()(k.addr) ^ (static_cast<size_t>(k.prefix) << 1);
        }
    };
    std::unordered_set<Key, KeyHash> nets_;
    std::vector<uint8_t> lengths4_, lengths6_;  // distinct prefix lengths present, longest first
    size_t size_ = 0;
};

}  // namespace sybilwatch::rules
