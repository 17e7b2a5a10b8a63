// `sybilwatch tail` and `sybilwatch top` against a ring this test publishes. They run the
// sybilwatch binary built next to this test (skipped when it has not been built).
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "fingerprint/observation_json.hpp"
#include "shm/ring_writer.hpp"
#include "shm_test_util.hpp"

namespace sybilwatch::shm {
namespace {

std::string sybilwatch_binary() {
    char buf[4096];
    const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n <= 0) return {};
    std::string path(buf, static_cast<size_t>(n));
    path = path.substr(0, path.rfind('/')) + "/sybilwatch";
    return ::access(path.c_str(), X_OK) == 0 ? path : std::string();
}

struct CmdResult {
    int rc = -1;
    std::string out;
};

CmdResult run(const std::string& cmd) {
    CmdResult r;
    FILE* p = ::popen(cmd.c_str(), "r");
    if (!p) return r;
    char buf[4096];
    for (size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;)
        r.out.append(buf, n);
    const int status = ::pclose(p);
    r.rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return r;
}

std::vector<std::string> lines(const std::string& s) {
    std::vector<std::string> v;
    std::istringstream in(s);
    for (std::string l; std::getline(in, l);)
        v.push_back(l);
    return v;
}

// The line tail must print for an observation published with an account: the fingerprint
// JSON of what the record carries, with the account before the closing brace.
std::string expected_line(const fingerprint::Observation& o, const std::string& account) {
    ObservationRecord r{};
    to_record(o, r, account);
    fingerprint::Observation back;
    to_observation(r, back);
    std::string s;
    fingerprint::append_json(back, s);
    s.resize(s.size() - 2);
    s += ",\"account\":\"" + account + "\"}";
    return s;
}

class Cli : public ::testing::Test {
  protected:
    void SetUp() override {
        bin_ = sybilwatch_binary();
        if (bin_.empty()) GTEST_SKIP() << "sybilwatch not built next to this test";
        obs_ = test::observations_of(test::foxio_pcap("tls-sni.pcapng"));
        ASSERT_GE(obs_.size(), 5u);
        obs_.resize(5);
    }
    std::string bin_;
    std::vector<fingerprint::Observation> obs_;
};

TEST_F(Cli, TailPrintsTheLastRecordsAsJsonLines) {
    const std::string name = test::unique_ring("tail");
    Writer w(name, {});
    for (size_t i = 0; i < obs_.size(); ++i)
        w.publish(obs_[i], "acct-" + std::to_string(i));

    CmdResult r = run(bin_ + " tail --ring " + name + " --count 3");
    EXPECT_EQ(r.rc, 0);
    auto got = lines(r.out);
    ASSERT_EQ(got.size(), 3u) << r.out;
    for (size_t j = 0; j < 3; ++j)
        EXPECT_EQ(got[j], expected_line(obs_[2 + j], "acct-" + std::to_string(2 + j)));

    r = run(bin_ + " tail --ring " + name + " --from-start");
    EXPECT_EQ(r.rc, 0);
    got = lines(r.out);
    ASSERT_EQ(got.size(), 5u);
    EXPECT_EQ(got[0], expected_line(obs_[0], "acct-0"));
}

TEST_F(Cli, TailOnAMissingRingFailsClearly) {
    const CmdResult r = run(bin_ + " tail --ring " + test::unique_ring("absent") + " 2>&1");
    EXPECT_EQ(r.rc, 1);
    EXPECT_NE(r.out.find("no such ring"), std::string::npos) << r.out;
    EXPECT_EQ(run(bin_ + " tail --count 1 --from-start 2>/dev/null").rc, 64);
}

// A follower overrun by a burst says how many it missed, and the count is exact: what it
// printed plus what it missed is what was published.
TEST_F(Cli, FollowingTailReportsWhatItMissed) {
    const std::string name = test::unique_ring("follow");
    WriterOptions small;
    small.capacity = 4;
    Writer w(name, small);
    CmdResult r;
    std::thread t(
        [&] { r = run(bin_ + " tail --ring " + name + " --count 0 --follow --seconds 3 2>&1"); });
    std::this_thread::sleep_for(std::chrono::milliseconds(1000));  // attached, idle
    for (int k = 0; k < 100; ++k)
        w.publish(obs_[k % 5], "acct-" + std::to_string(k));
    t.join();
    EXPECT_EQ(r.rc, 0);
    uint64_t printed = 0, missed = 0;
    for (const std::string& l : lines(r.out)) {
        unsigned long long n = 0;
        if (std::sscanf(l.c_str(), "sybilwatch tail: missed %llu observations", &n) == 1)
            missed += n;
        else if (!l.empty() && l[0] == '{')
            ++printed;
    }
    EXPECT_GT(missed, 0u) << r.out;
    EXPECT_EQ(printed + missed, 100u) << r.out;
}

TEST_F(Cli, TopOnceShowsTheBusiestKeys) {
    const std::string name = test::unique_ring("top");
    Writer w(name, {});
    for (int k = 0; k < 12; ++k)
        w.publish(obs_[0], "acct-" + std::to_string(k % 4));
    const CmdResult r = run(bin_ + " top --once --ring " + name);
    EXPECT_EQ(r.rc, 0);
    EXPECT_EQ(r.out.find('\x1b'), std::string::npos);  // --once: no screen control
    ASSERT_FALSE(obs_[0].ja4.empty());
    const std::string row(obs_[0].ja4.view());
    // The JA4 row: 12 observations over 4 accounts from one network.
    const auto at = r.out.find(row);
    ASSERT_NE(at, std::string::npos) << r.out;
    std::istringstream fields(r.out.substr(at + row.size()));
    uint64_t obs = 0, accounts = 0, nets = 0;
    fields >> obs >> accounts >> nets;
    EXPECT_EQ(obs, 12u);
    EXPECT_EQ(accounts, 4u);
    EXPECT_EQ(nets, 1u);
    EXPECT_NE(r.out.find("12 published"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace sybilwatch::shm
