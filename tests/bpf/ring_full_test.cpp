// A full ring buffer loses events, and every lost one is counted: with a one-page ring and no
// consumer, the drop counter equals exactly the events that never arrived.
#include "bpf_test_util.hpp"

namespace sybilwatch::capture::test {
namespace {

class RingFull : public BpfTest {
  protected:
    uint32_t ring_bytes() const override { return 4096; }
};

TEST_F(RingFull, DropsAreCountedExactly) {
    constexpr int kSyns = 60;
    for (int i = 0; i < kSyns; ++i) {
        Conn c;
        c.client_port = static_cast<uint16_t>(40000 + i);
        const TestRunResult r = bpf_test_run(cap_->ingress_fd(), c.syn());
        ASSERT_EQ(r.error, 0);
        ASSERT_EQ(r.retval, kTcActUnspec);
    }
    Recorder rec;
    cap_->consume(rec);
    const EbpfCounters n = cap_->counters();
    EXPECT_GT(n.packet_drops, 0u) << "a 4 KiB ring holds far fewer than 60 SYN records";
    EXPECT_GT(rec.packets.size(), 0u);
    EXPECT_EQ(rec.packets.size() + n.packet_drops, static_cast<size_t>(kSyns));
    EXPECT_EQ(n.packet_events, rec.packets.size());
    EXPECT_EQ(n.flows_created, static_cast<uint64_t>(kSyns))
        << "flows are followed even when events drop";

    // Drained, the ring takes events again.
    Conn c;
    c.client_port = 39999;
    const Recorder after = client(c.syn());
    EXPECT_EQ(after.packets.size(), 1u);
}

}  // namespace
}  // namespace sybilwatch::capture::test
