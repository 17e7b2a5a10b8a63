// Attaching to a real interface: a veth pair made for the test, frames injected with an
// AF_PACKET socket so they cross the attached side's TC hooks (sent on the peer: ingress; sent
// on the attached side: egress). Checks the filters appear once, a second loader replaces them
// instead of adding more, and detaching leaves the interface as it was.
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <sys/socket.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <thread>

#include "bpf_test_util.hpp"

namespace sybilwatch::capture::test {
namespace {

// Runs a shell command; its standard output.
std::string sh(const std::string& cmd) {
    std::string out;
    FILE* p = popen(cmd.c_str(), "r");
    if (!p) return out;
    std::array<char, 512> buf;
    while (fgets(buf.data(), buf.size(), p))
        out += buf.data();
    pclose(p);
    return out;
}

size_t count(const std::string& text, const std::string& what) {
    size_t n = 0;
    for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1))
        ++n;
    return n;
}

class Attach : public BpfTest {
  protected:
    void SetUp() override {
        BpfTest::SetUp();
        if (IsSkipped() || HasFatalFailure()) return;
        const std::string id = std::to_string(getpid() % 100000);
        a_ = "swa" + id;  // attached side
        b_ = "swb" + id;  // its peer
        sh("ip link del " + a_ + " 2>/dev/null");
        ASSERT_EQ(std::system(("ip link add " + a_ + " type veth peer name " + b_ +
                               " && ip link set " + a_ + " up && ip link set " + b_ + " up")
                                  .c_str()),
                  0)
            << "cannot create a veth pair (iproute2 and root needed)";
    }
    void TearDown() override {
        if (!a_.empty()) sh("ip link del " + a_ + " 2>/dev/null");
    }

    // Sends a raw Ethernet frame out of `ifname`.
    static void inject(const std::string& ifname, const Frame& frame) {
        const int fd = socket(AF_PACKET, SOCK_RAW, 0);
        ASSERT_GE(fd, 0);
        sockaddr_ll to{};
        to.sll_family = AF_PACKET;
        to.sll_ifindex = static_cast<int>(if_nametoindex(ifname.c_str()));
        to.sll_halen = 6;
        const ssize_t n =
            sendto(fd, frame.data(), frame.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof(to));
        close(fd);
        ASSERT_EQ(n, static_cast<ssize_t>(frame.size()));
    }

    // Polls until `want` packet events arrived or a second passed.
    Recorder collect(EbpfCapture& cap, size_t want) {
        Recorder rec;
        const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(1);
        while (rec.packets.size() < want && std::chrono::steady_clock::now() < until)
            cap.poll(50, rec);
        return rec;
    }

    // Our filters (fixed handle) on one hook: "ingress" or "egress".
    size_t ours(const std::string& hook) const {
        return count(sh("tc filter show dev " + a_ + " " + hook), "handle 0x5357");
    }

    std::string a_, b_;
};

TEST_F(Attach, SeesBothDirectionsAndDetachesCleanly) {
    EbpfConfig cfg;
    cfg.interface = a_;
    {
        EbpfCapture cap(cfg);
        EXPECT_GT(cap.ifindex(), 0);
        EXPECT_EQ(ours("ingress"), 1u);
        EXPECT_EQ(ours("egress"), 1u);

        const Conn c;
        inject(b_, c.syn());      // arrives on a_: ingress
        inject(a_, c.syn_ack());  // leaves a_: egress
        const Recorder r = collect(cap, 2);
        ASSERT_EQ(r.packets.size(), 2u);
        EXPECT_TRUE(r.packets[0].from_client);
        EXPECT_EQ(r.packets[0].bytes, from_ip(c, c.syn()));
        EXPECT_FALSE(r.packets[1].from_client);
        EXPECT_EQ(r.packets[1].bytes, from_ip(c, c.syn_ack()));
    }
    EXPECT_EQ(ours("ingress") + ours("egress"), 0u);
    EXPECT_EQ(count(sh("tc qdisc show dev " + a_), "clsact"), 0u)
        << "we created clsact: we remove it";
}

TEST_F(Attach, StaleFiltersAreReplacedNotDuplicated) {
    EbpfConfig cfg;
    cfg.interface = a_;
    auto first = std::make_unique<EbpfCapture>(cfg);
    // A second loader on the same interface, as after a crash that left the first's filters.
    EbpfCapture second(cfg);
    EXPECT_EQ(ours("ingress"), 1u);
    EXPECT_EQ(ours("egress"), 1u);
    // The filters are the second loader's: its ring gets the events.
    const Conn c;
    inject(b_, c.syn());
    EXPECT_EQ(collect(second, 1).packets.size(), 1u);
}

TEST_F(Attach, ExistingClsactIsKept) {
    ASSERT_EQ(std::system(("tc qdisc add dev " + a_ + " clsact").c_str()), 0);
    {
        EbpfConfig cfg;
        cfg.interface = a_;
        EbpfCapture cap(cfg);
        EXPECT_EQ(ours("ingress") + ours("egress"), 2u);
    }
    EXPECT_EQ(ours("ingress") + ours("egress"), 0u);
    EXPECT_EQ(count(sh("tc qdisc show dev " + a_), "clsact"), 1u) << "someone else's qdisc stays";
}

TEST_F(Attach, MissingInterfaceIsAClearError) {
    EbpfConfig cfg;
    cfg.interface = "sw-no-such-if";
    try {
        EbpfCapture cap(cfg);
        FAIL() << "attached to a missing interface";
    } catch (const EbpfError& e) {
        EXPECT_NE(std::string(e.what()).find("sw-no-such-if"), std::string::npos) << e.what();
    }
}

}  // namespace
}  // namespace sybilwatch::capture::test
