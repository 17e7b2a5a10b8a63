// The interface of the default route: where sybilwatchd captures when the config names none.
// Read from /proc/net/route (IPv4) and, failing that, /proc/net/ipv6_route.
#pragma once

#include <string>
#include <string_view>

namespace sybilwatch::service {

// "" when there is no default route. The lowest metric wins among several.
std::string default_route_interface(const std::string& proc_net = "/proc/net");

// The same from the files' contents (tests).
std::string default_route_interface_v4(std::string_view route_file);
std::string default_route_interface_v6(std::string_view ipv6_route_file);

}  // namespace sybilwatch::service
