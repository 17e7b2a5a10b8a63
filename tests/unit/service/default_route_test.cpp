#include "service/default_route.hpp"

#include <gtest/gtest.h>

using namespace sybilwatch::service;

TEST(DefaultRoute, PicksTheLowestMetricDefaultRouteThatIsUp) {
    // /proc/net/route as the kernel prints it (tabs, hex, host byte order).
    const char* route =
        "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
        "eth1\t00000000\t0102A8C0\t0003\t0\t0\t200\t00000000\t0\t0\t0\n"
        "eth0\t00000000\t010200C0\t0003\t0\t0\t100\t00000000\t0\t0\t0\n"
        "down0\t00000000\t010200C0\t0002\t0\t0\t0\t00000000\t0\t0\t0\n"
        "eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n";
    EXPECT_EQ(default_route_interface_v4(route), "eth0");
    EXPECT_EQ(
        default_route_interface_v4("Iface\tDestination\tGateway\n"
                                   "eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n"),
        "");
}

TEST(DefaultRoute, Ipv6OnlyHosts) {
    const std::string zero(32, '0');
    const std::string file =
        zero + " 00 " + zero +
        " 00 fe800000000000000000000000000001 00000400 00000001 00000000 00000003 ens5\n" +
        "20010db8000000000000000000000000 40 " + zero + " 00 " + zero +
        " 00000100 00000001 00000000 00000001 ens5\n" + zero + " 00 " + zero + " 00 " + zero +
        " ffffffff 00000001 00000000 00200200 lo\n";
    EXPECT_EQ(default_route_interface_v6(file), "ens5");
}

TEST(DefaultRoute, ThisMachineHasOneOrSaysSo) {
    // Whatever the host: either an interface that exists, or "" (the daemon then asks for one).
    const std::string name = default_route_interface();
    if (!name.empty()) {
        EXPECT_LT(name.size(), 16u);
    }
}
