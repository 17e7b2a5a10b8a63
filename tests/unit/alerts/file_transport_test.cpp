// File and stdout transports: whole lines, size rotation keeping N files, reopen after an
// external rotation, a closed pipe reported instead of killing the process.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "alerts/file_transport.hpp"
#include "alerts/stdout_transport.hpp"

namespace sybilwatch::alerts {
namespace {

namespace fs = std::filesystem;

class TempDir {
  public:
    TempDir() {
        char tmpl[] = "/tmp/sw-file-test.XXXXXX";
        path_ = ::mkdtemp(tmpl);
    }
    ~TempDir() { fs::remove_all(path_); }
    const std::string& path() const { return path_; }

  private:
    std::string path_;
};

std::vector<std::string> lines(const std::string& path) {
    std::ifstream in(path);
    std::vector<std::string> v;
    for (std::string l; std::getline(in, l);)
        v.push_back(l);
    return v;
}

std::string line(int i) {
    char buf[128];
    std::snprintf(buf, sizeof buf, "{\"finding_id\":\"f%04d\",\"pad\":\"%s\"}", i,
                  std::string(60, 'x').c_str());
    return buf;
}

TEST(FileTransport, AppendsWholeLines) {
    TempDir d;
    FileTransport t({.path = d.path() + "/alerts.json"});
    const std::string a = line(1), b = line(2) + "\n";
    const std::string_view p[] = {a, b};
    std::string err;
    EXPECT_EQ(t.send(p, err), 2u) << err;
    EXPECT_EQ(lines(d.path() + "/alerts.json"), (std::vector<std::string>{line(1), line(2)}));
}

TEST(FileTransport, RotatesBySizeKeepingN) {
    TempDir d;
    const std::string path = d.path() + "/alerts.json";
    FileTransportOptions o;
    o.path = path;
    o.rotate_bytes = 1000;
    o.keep = 2;
    o.sync = false;
    FileTransport t(o);
    std::vector<std::string> all;
    std::string err;
    for (int i = 0; i < 60; ++i) {
        all.push_back(line(i));
        const std::string_view p[] = {all.back()};
        ASSERT_EQ(t.send(p, err), 1u) << err;
    }
    EXPECT_TRUE(fs::exists(path + ".1"));
    EXPECT_TRUE(fs::exists(path + ".2"));
    EXPECT_FALSE(fs::exists(path + ".3"));
    EXPECT_GT(t.rotations(), 2u);
    for (auto p : {path, path + ".1", path + ".2"})
        EXPECT_LE(fs::file_size(p), o.rotate_bytes) << p;
    // Oldest to newest, the kept files hold the last lines written, whole and in order.
    std::vector<std::string> kept;
    for (auto p : {path + ".2", path + ".1", path})
        for (auto& l : lines(p))
            kept.push_back(l);
    ASSERT_FALSE(kept.empty());
    EXPECT_EQ(kept.back(), all.back());
    const std::vector<std::string> tail(all.end() - static_cast<long>(kept.size()), all.end());
    EXPECT_EQ(kept, tail);
}

TEST(FileTransport, RotatesWithinABatch) {
    TempDir d;
    const std::string path = d.path() + "/a.json";
    FileTransport t({.path = path, .rotate_bytes = 500, .keep = 10, .sync = true});
    std::vector<std::string> all;
    for (int i = 0; i < 20; ++i)
        all.push_back(line(i));
    std::vector<std::string_view> v(all.begin(), all.end());
    std::string err;
    EXPECT_EQ(t.send(v, err), 20u);
    size_t total = 0;
    for (auto& e : fs::directory_iterator(d.path())) {
        EXPECT_LE(fs::file_size(e.path()), 500u);
        total += lines(e.path()).size();
    }
    EXPECT_EQ(total, 20u);
}

TEST(FileTransport, ReopenAfterExternalRotation) {
    TempDir d;
    const std::string path = d.path() + "/alerts.json";
    FileTransport t({.path = path, .rotate_bytes = 0});
    std::string err;
    const std::string a = line(1), b = line(2);
    const std::string_view pa[] = {a}, pb[] = {b};
    ASSERT_EQ(t.send(pa, err), 1u);
    fs::rename(path, path + ".old");  // logrotate's move
    t.reopen();                       // what SIGHUP triggers
    ASSERT_EQ(t.send(pb, err), 1u);
    EXPECT_EQ(lines(path + ".old"), std::vector<std::string>{a});
    EXPECT_EQ(lines(path), std::vector<std::string>{b});
}

TEST(FileTransport, UnwritablePathIsAShortfall) {
    FileTransport t({.path = "/nonexistent-dir/alerts.json"});
    std::string err;
    const std::string a = line(1);
    const std::string_view p[] = {a};
    EXPECT_EQ(t.send(p, err), 0u);
    EXPECT_NE(err.find("/nonexistent-dir/alerts.json"), std::string::npos);
}

TEST(StdoutTransport, WritesLinesAndSurvivesAClosedReader) {
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    StdoutTransport t(fds[1]);
    const std::string a = "one", b = "two\n";
    const std::string_view p[] = {a, b};
    std::string err;
    EXPECT_EQ(t.send(p, err), 2u);
    char buf[16] = {};
    ASSERT_EQ(::read(fds[0], buf, sizeof buf), 8);
    EXPECT_EQ(std::string(buf, 8), "one\ntwo\n");
    ::close(fds[0]);
    EXPECT_EQ(t.send(p, err), 0u);  // EPIPE, and no SIGPIPE killed the test
    EXPECT_NE(err.find("pipe"), std::string::npos) << err;
    ::close(fds[1]);
}

}  // namespace
}  // namespace sybilwatch::alerts
