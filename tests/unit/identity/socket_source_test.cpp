#include "identity/socket_source.hpp"

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/stat.h>

#include <fstream>
#include <random>

#include "identity/attribution_feed.hpp"
#include "sinks.hpp"
#include "socket_test_util.hpp"

using namespace sybilwatch::identity;
using namespace sybilwatch::identity::test;

namespace {

SocketSourceConfig config(const TempDir& dir, uint32_t max_clients = 8, size_t max_line = 4096) {
    SocketSourceConfig c;
    c.socket.path = dir.file("attribution.sock");
    c.max_clients = max_clients;
    c.max_line = max_line;
    return c;
}

// Polls until `done` or about two seconds have passed.
template <typename Done>
void poll_until(SocketSource& src, LineSink& sink, Done done) {
    for (int i = 0; i < 200 && !done(); ++i)
        src.poll(10, sink);
}

}  // namespace

TEST(SocketSource, SocketFileModeAndRemoval) {
    TempDir dir;
    {
        SocketSource src(config(dir));
        struct stat st;
        ASSERT_EQ(::stat(src.path().c_str(), &st), 0);
        EXPECT_TRUE(S_ISSOCK(st.st_mode));
        EXPECT_EQ(st.st_mode & 0777, 0660u);
    }
    struct stat st;
    EXPECT_NE(::stat(dir.file("attribution.sock").c_str(), &st), 0);  // removed on destruction

    auto c = config(dir);
    c.socket.mode = 0600;
    SocketSource src(c);
    ASSERT_EQ(::stat(src.path().c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST(SocketSource, StaleSocketReplacedLiveOneAndRegularFileRefused) {
    TempDir dir;
    auto c = config(dir);
    {
        // A stale socket file, as a crashed daemon leaves it.
        Fd stale = bind_unix_socket(c.socket, SOCK_STREAM);
    }
    struct stat st;
    ASSERT_EQ(::stat(c.socket.path.c_str(), &st), 0);
    SocketSource first(c);                                     // replaces the stale one
    EXPECT_THROW(SocketSource second(c), std::runtime_error);  // someone is listening

    auto other = config(dir);
    other.socket.path = dir.file("regular");
    std::ofstream(other.socket.path) << "not a socket";
    EXPECT_THROW(SocketSource s(other), std::runtime_error);
    std::ifstream in(other.socket.path);
    std::string content;
    std::getline(in, content);
    EXPECT_EQ(content, "not a socket");  // left alone

    other.socket.path = dir.file("missing-dir/sock");
    EXPECT_THROW(SocketSource s(other), std::runtime_error);
    other.socket.path = dir.file(std::string(120, 'x'));
    EXPECT_THROW(SocketSource s(other), std::runtime_error);
}

TEST(SocketSource, SeveralClientsPartialWritesSplitAtEveryByte) {
    TempDir dir;
    SocketSource src(config(dir));
    Lines out;
    const std::string line =
        R"({"ts":1795773579.284,"client_ip":"127.0.0.1","client_port":55808,"account":"alice"})";
    constexpr int kClients = 4;
    int fds[kClients];
    for (int& fd : fds)
        ASSERT_GE(fd = connect_unix(src.path()), 0);
    poll_until(src, out, [&] { return src.clients() == kClients; });
    ASSERT_EQ(src.clients(), uint32_t(kClients));

    // Every client writes the line in two pieces, cut at every byte, interleaved with the others:
    // each must still arrive whole, exactly once.
    size_t expected = 0;
    for (size_t cut = 1; cut < line.size(); ++cut) {
        for (int i = 0; i < kClients; ++i)
            write_all(fds[i], std::string_view(line).substr(0, cut));
        src.poll(0, out);
        for (int i = 0; i < kClients; ++i)
            write_all(fds[i], line.substr(cut) + "\n");
        expected += kClients;
        poll_until(src, out, [&] { return out.lines.size() == expected; });
        ASSERT_EQ(out.lines.size(), expected) << cut;
    }
    for (const auto& l : out.lines)
        ASSERT_EQ(l, line);
    EXPECT_EQ(src.stats().lines, expected);
    for (int fd : fds)
        ::close(fd);
    poll_until(src, out, [&] { return src.clients() == 0; });
    EXPECT_EQ(src.stats().disconnected, uint64_t(kClients));
}

TEST(SocketSource, OverlongLineDroppedConnectionKept) {
    TempDir dir;
    SocketSource src(config(dir, 8, 1024));
    Lines out;
    const int fd = connect_unix(src.path());
    ASSERT_GE(fd, 0);
    write_all(fd, std::string(5000, 'x'));  // over the cap before any newline
    write_all(fd, "\n{\"after\":1}\n");
    poll_until(src, out, [&] { return out.lines.size() == 1; });
    ASSERT_EQ(out.lines.size(), 1u);
    EXPECT_EQ(out.lines[0], "{\"after\":1}");
    EXPECT_EQ(out.too_long, 1);
    EXPECT_EQ(src.stats().too_long, 1u);
    EXPECT_EQ(src.clients(), 1u);
    ::close(fd);
}

TEST(SocketSource, LastLineWithoutNewlineDeliveredOnClose) {
    TempDir dir;
    SocketSource src(config(dir));
    Lines out;
    const int fd = connect_unix(src.path());
    write_all(fd, "first\nsecond");
    ::close(fd);
    poll_until(src, out, [&] { return out.lines.size() == 2; });
    EXPECT_EQ(out.lines, (std::vector<std::string>{"first", "second"}));
}

TEST(SocketSource, TooManyClientsRefused) {
    TempDir dir;
    SocketSource src(config(dir, 2));
    Lines out;
    const int a = connect_unix(src.path()), b = connect_unix(src.path());
    poll_until(src, out, [&] { return src.clients() == 2; });
    const int c = connect_unix(src.path());  // the kernel accepts into the backlog...
    ASSERT_GE(c, 0);
    poll_until(src, out, [&] { return src.stats().refused == 1; });
    EXPECT_EQ(src.stats().refused, 1u);
    EXPECT_EQ(src.clients(), 2u);
    char byte;
    EXPECT_EQ(::read(c, &byte, 1), 0);  // ...and we close it: the client sees EOF at once
    // The others still work, and a slot freed is usable again.
    write_all(a, "from a\n");
    poll_until(src, out, [&] { return out.lines.size() == 1; });
    EXPECT_EQ(out.lines.at(0), "from a");
    ::close(a);
    poll_until(src, out, [&] { return src.clients() == 1; });
    const int d = connect_unix(src.path());
    write_all(d, "from d\n");
    poll_until(src, out, [&] { return out.lines.size() == 2; });
    EXPECT_EQ(out.lines.at(1), "from d");
    EXPECT_EQ(src.stats().accepted, 3u);
    for (int fd : {b, c, d})
        ::close(fd);
}

TEST(SocketSource, GarbageIsCountedAndValidLinesStillJoin) {
    TempDir dir;
    SocketSource src(config(dir, 8, 2048));
    Attributed joined;
    Joiner joiner(JoinerConfig{}, joined);
    AttributionFeed feed(joiner, 2048);
    const int fd = connect_unix(src.path());
    std::mt19937 rng(7);
    std::string garbage(64 * 1024, '\0');
    for (char& ch : garbage)
        ch = static_cast<char>(rng());
    write_all(fd, garbage);
    write_all(fd,
              "\n{\"ts\":1,\"client_ip\":\"10.0.0.1\",\"client_port\":4242,\"account\":\"a\"}\n");
    ::close(fd);
    poll_until(src, feed, [&] { return src.clients() == 0 && src.stats().accepted == 1; });
    const ParseStats& ps = feed.parse_stats();
    EXPECT_EQ(ps.accepted, 1u);
    EXPECT_EQ(ps.accepted + ps.rejected_total(), src.stats().lines + src.stats().too_long);
    EXPECT_GT(ps.rejected_total(), 0u);
    EXPECT_EQ(joiner.stats().records, 1u);
    EXPECT_EQ(joiner.pending_records(), 1u);
}

TEST(SocketSource, FdIsReadableWhenThereIsWork) {
    TempDir dir;
    SocketSource src(config(dir));
    Lines out;
    pollfd p{src.fd(), POLLIN, 0};
    EXPECT_EQ(::poll(&p, 1, 0), 0);
    const int fd = connect_unix(src.path());
    EXPECT_EQ(::poll(&p, 1, 1000), 1);
    src.poll(0, out);
    write_all(fd, "x\n");
    EXPECT_EQ(::poll(&p, 1, 1000), 1);
    src.poll(0, out);
    EXPECT_EQ(out.lines.size(), 1u);
    ::close(fd);
}
