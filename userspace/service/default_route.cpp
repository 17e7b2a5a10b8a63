#include "service/default_route.hpp"

#include <climits>
#include <fstream>
#include <sstream>

namespace sybilwatch::service {

namespace {

std::string slurp(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

constexpr unsigned kRtfUp = 0x1;

}  // namespace

// Iface Destination Gateway Flags RefCnt Use Metric Mask MTU Window IRTT (hex, host order)
std::string default_route_interface_v4(std::string_view route_file) {
    std::istringstream in{std::string(route_file)};
    std::string line, best;
    unsigned long best_metric = ULONG_MAX;
    std::getline(in, line);  // header
    while (std::getline(in, line)) {
        std::istringstream f(line);
        std::string iface, dest, gw;
        unsigned flags = 0, refcnt = 0, use = 0;
        unsigned long metric = 0;
        std::string mask;
        if (!(f >> iface >> dest >> gw >> std::hex >> flags >> std::dec >> refcnt >> use >>
              metric >> mask))
            continue;
        if (dest != "00000000" || mask != "00000000" || !(flags & kRtfUp)) continue;
        if (metric < best_metric) {
            best_metric = metric;
            best = iface;
        }
    }
    return best;
}

// dest dest_len src src_len next_hop metric refcnt use flags iface (hex)
std::string default_route_interface_v6(std::string_view ipv6_route_file) {
    std::istringstream in{std::string(ipv6_route_file)};
    std::string line, best;
    unsigned long best_metric = ULONG_MAX;
    while (std::getline(in, line)) {
        std::istringstream f(line);
        std::string dest, dest_len, src, src_len, hop, iface;
        unsigned long metric = 0, refcnt = 0, use = 0, flags = 0;
        if (!(f >> dest >> dest_len >> src >> src_len >> hop >> std::hex >> metric >> refcnt >>
              use >> flags >> iface))
            continue;
        if (dest != std::string(32, '0') || dest_len != "00" || !(flags & kRtfUp) || iface == "lo")
            continue;
        if (metric < best_metric) {
            best_metric = metric;
            best = iface;
        }
    }
    return best;
}

std::string default_route_interface(const std::string& proc_net) {
    std::string v4 = default_route_interface_v4(slurp(proc_net + "/route"));
    if (!v4.empty()) return v4;
    return default_route_interface_v6(slurp(proc_net + "/ipv6_route"));
}

}  // namespace sybilwatch::service
