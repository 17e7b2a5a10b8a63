#include "config/listen_address.hpp"

#include <gtest/gtest.h>

namespace sybilwatch::config {
namespace {

TEST(ListenAddress, Loopbacks) {
    std::string why;
    for (const char* s : {"127.0.0.1:9967", "127.1.2.3:1", "[::1]:9967", "localhost:80",
                          "[::ffff:127.0.0.1]:9967"}) {
        const auto a = parse_listen_address(s, why);
        ASSERT_TRUE(a) << s << ": " << why;
        EXPECT_TRUE(a->loopback) << s;
    }
    const auto a = parse_listen_address("[::1]:9967", why);
    ASSERT_TRUE(a);
    EXPECT_EQ(a->host, "::1");
    EXPECT_EQ(a->port, 9967);
    EXPECT_TRUE(a->ipv6);
}

TEST(ListenAddress, NonLoopbacks) {
    std::string why;
    for (const char* s : {"0.0.0.0:9967", "10.0.0.1:9967", "[::]:9967", "[2001:db8::1]:443",
                          "[::ffff:10.0.0.1]:1"}) {
        const auto a = parse_listen_address(s, why);
        ASSERT_TRUE(a) << s << ": " << why;
        EXPECT_FALSE(a->loopback) << s;
    }
}

TEST(ListenAddress, Malformed) {
    std::string why;
    for (const char* s : {"", "127.0.0.1", "127.0.0.1:", "127.0.0.1:0", "127.0.0.1:65536",
                          "127.0.0.1:99999999999", "::1:9967", "[::1]9967", "[::1", "[1.2.3.4]:80",
                          "example.com:80", "256.0.0.1:80", "127.0.0.1:8a"}) {
        why.clear();
        EXPECT_FALSE(parse_listen_address(s, why)) << s;
        EXPECT_FALSE(why.empty()) << s;
    }
}

}  // namespace
}  // namespace sybilwatch::config
