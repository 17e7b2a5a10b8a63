#include "identity/datagram_source.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

#include "identity/attribution_feed.hpp"
#include "sinks.hpp"
#include "socket_test_util.hpp"

using namespace sybilwatch::identity;
using namespace sybilwatch::identity::test;

namespace {

DatagramSourceConfig config(const TempDir& dir, size_t max_line = 4096) {
    DatagramSourceConfig c;
    c.socket.path = dir.file("attribution.dgram");
    c.max_line = max_line;
    return c;
}

void send_to(int fd, std::string_view d) {
    ASSERT_EQ(::send(fd, d.data(), d.size(), 0), static_cast<ssize_t>(d.size()));
}

}  // namespace

TEST(DatagramSource, RealNginxSyslogDatagramsJoin) {
    TempDir dir;
    DatagramSource src(config(dir));
    struct stat st;
    ASSERT_EQ(::stat(dir.file("attribution.dgram").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0660u);

    Attributed joined;
    Joiner joiner(JoinerConfig{}, joined);
    AttributionFeed feed(joiner);
    const int fd = connect_unix(dir.file("attribution.dgram"), SOCK_DGRAM);
    ASSERT_GE(fd, 0);
    std::ifstream in(std::string(SW_SOURCE_DIR) +
                     "/tests/unit/identity/testdata/nginx-1.22.1-syslog-datagrams.txt");
    int sent = 0;
    for (std::string d; std::getline(in, d); ++sent)
        send_to(fd, d);
    ASSERT_EQ(sent, 2);
    EXPECT_EQ(src.poll(1000, feed), 2u);
    EXPECT_EQ(feed.parse_stats().accepted, 2u);
    // Both name the same connection with the same account: one pending record, one repeat.
    EXPECT_EQ(joiner.pending_records(), 1u);
    EXPECT_EQ(joiner.stats().repeats, 1u);
    ::close(fd);
}

TEST(DatagramSource, SeveralLinesPerDatagramAndOverlongDatagrams) {
    TempDir dir;
    DatagramSource src(config(dir, 100));
    Lines out;
    const int fd = connect_unix(dir.file("attribution.dgram"), SOCK_DGRAM);
    send_to(fd, "one\ntwo\n");
    send_to(fd, "three");  // no newline needed: a datagram ends the line
    send_to(fd, std::string(5000, 'x'));
    send_to(fd, "<14>Nov 27 09:59:47 host tag: {\"k\":1}\n");
    EXPECT_EQ(src.poll(1000, out), 4u);
    EXPECT_EQ(out.lines, (std::vector<std::string>{"one", "two", "three", "{\"k\":1}"}));
    EXPECT_EQ(out.too_long, 1);
    EXPECT_EQ(src.stats().datagrams, 4u);
    EXPECT_EQ(src.stats().too_long, 1u);
    EXPECT_EQ(src.poll(0, out), 0u);  // nothing left, and no waiting
    ::close(fd);
}
