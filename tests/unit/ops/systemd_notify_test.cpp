#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "ops/systemd_notify.hpp"

using sybilwatch::ops::SystemdNotify;

namespace {

// The service manager's end of the protocol: a datagram socket named by NOTIFY_SOCKET.
struct FakeManager {
    int fd = -1;
    std::string path;
    FakeManager() {
        char tmpl[] = "/tmp/sw-notify.XXXXXX";
        path = std::string(::mkdtemp(tmpl)) + "/notify";
        fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        sockaddr_un sa{};
        sa.sun_family = AF_UNIX;
        std::snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path.c_str());
        ::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
        ::setenv("NOTIFY_SOCKET", path.c_str(), 1);
    }
    ~FakeManager() {
        ::unsetenv("NOTIFY_SOCKET");
        ::unsetenv("WATCHDOG_USEC");
        ::close(fd);
        ::unlink(path.c_str());
        ::rmdir(path.substr(0, path.rfind('/')).c_str());
    }
    std::string next() {
        char buf[512];
        const ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
        return n > 0 ? std::string(buf, n) : std::string();
    }
};

}  // namespace

TEST(SystemdNotify, SpeaksTheProtocolWhenUnderSystemd) {
    FakeManager m;
    ::setenv("WATCHDOG_USEC", "100000", 1);
    ::unsetenv("WATCHDOG_PID");
    SystemdNotify n;
    ASSERT_TRUE(n.under_systemd());
    EXPECT_EQ(n.watchdog_interval().count(), 100000);
    n.ready("watching eth0");
    EXPECT_EQ(m.next(), "READY=1\nSTATUS=watching eth0");
    n.watchdog_tick();  // just after READY: too early for a ping
    EXPECT_EQ(m.next(), "");
    ::usleep(60000);  // past half the interval
    n.watchdog_tick();
    EXPECT_EQ(m.next(), "WATCHDOG=1");
    n.reloading();
    EXPECT_EQ(m.next(), "RELOADING=1");
    n.stopping();
    EXPECT_EQ(m.next(), "STOPPING=1\nSTATUS=stopping");
}

TEST(SystemdNotify, SilentOtherwise) {
    ::unsetenv("NOTIFY_SOCKET");
    SystemdNotify n;
    EXPECT_FALSE(n.under_systemd());
    n.ready("x");  // must not fail or block
    n.watchdog_tick();
}
