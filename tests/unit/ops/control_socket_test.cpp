#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <string>
#include <thread>

#include "ops/control_socket.hpp"

using namespace sybilwatch::ops;

namespace {

std::string temp_dir() {
    char tmpl[] = "/tmp/sw-ctl.XXXXXX";
    return ::mkdtemp(tmpl);
}

struct Serving {
    ControlServer& s;
    std::atomic<bool> stop{false};
    std::thread t;
    explicit Serving(ControlServer& c)
        : s(c), t([this] {
              while (!stop)
                  s.poll(20);
          }) {}
    ~Serving() {
        stop = true;
        t.join();
    }
};

}  // namespace

TEST(ControlSocket, RequestAndReply) {
    const std::string dir = temp_dir();
    const std::string path = dir + "/control.sock";
    {
        ControlServer server(path, 0660, [](std::string_view cmd) {
            return "{\"got\":\"" + std::string(cmd) + "\"}\n";
        });
        struct stat st;
        ASSERT_EQ(::stat(path.c_str(), &st), 0);
        EXPECT_EQ(st.st_mode & 0777, 0660u);
        Serving serving(server);
        EXPECT_EQ(control_request(path, "status"), "{\"got\":\"status\"}\n");
        EXPECT_EQ(control_request(path, "reload"), "{\"got\":\"reload\"}\n");
        // A second daemon on the same socket is refused while the first lives.
        EXPECT_THROW(ControlServer(path, 0660, [](std::string_view) { return std::string(); }),
                     std::runtime_error);
    }
    // Gone with its server.
    EXPECT_NE(::access(path.c_str(), F_OK), 0);
    ::rmdir(dir.c_str());
}

TEST(ControlSocket, ReplacesAStaleSocketFile) {
    const std::string dir = temp_dir();
    const std::string path = dir + "/control.sock";
    {
        // What a killed daemon leaves: a socket file nobody listens on.
        int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
        sockaddr_un sa{};
        sa.sun_family = AF_UNIX;
        std::snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path.c_str());
        ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
        ::close(fd);
    }
    ControlServer server(path, 0660, [](std::string_view) { return std::string("ok\n"); });
    Serving serving(server);
    EXPECT_EQ(control_request(path, "status"), "ok\n");
    ::unlink(path.c_str());
    ::rmdir(dir.c_str());
}

TEST(ControlSocket, ClientSaysWhenNoDaemonRuns) {
    try {
        control_request("/tmp/sw-no-such-dir/control.sock", "status");
        FAIL() << "expected an error";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("is sybilwatchd running?"), std::string::npos)
            << e.what();
    }
}
