// Nanoseconds per packet of the TC programs, measured by the kernel (BPF_PROG_TEST_RUN), beside
// an empty TC program measured in the same run. Needs root.
//
// Paths that stay the same when one packet repeats (an unmonitored port, a data segment of an
// established flow, a retransmitted SYN) run with repeat = 1e6. A first SYN and a ClientHello
// segment change the flow's state, so they run once each on 2000 fresh flows (repeat = 1); the
// kernel's timer then adds its own overhead, which the empty program's repeat = 1 figure shows.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "../tests/unit/net/packet_builder.hpp"  // bench/ has no test include root
#include "capture/ebpf_capture.hpp"
#include "capture/ebpf_test_run.hpp"

namespace {

namespace nb = sybilwatch::net::test;
using sybilwatch::capture::bpf_test_run;
using sybilwatch::capture::EbpfCapture;
using sybilwatch::capture::EbpfConfig;
using sybilwatch::capture::EmptyTcProgram;

constexpr uint32_t kRepeat = 1'000'000;
constexpr int kFreshFlows = 2000;

struct Programs {
    std::unique_ptr<EbpfCapture> cap;
    std::unique_ptr<EmptyTcProgram> empty;
};

// One loaded instance for all benchmarks, with a ring large enough that the SYN benchmark's
// million events never find it full (a full ring would measure the cheaper drop path).
Programs& programs() {
    static Programs p = [] {
        Programs q;
        EbpfConfig cfg;
        cfg.ring_bytes = 512u << 20;
        cfg.max_flows = 8192;
        q.cap = std::make_unique<EbpfCapture>(cfg);
        q.empty = std::make_unique<EmptyTcProgram>();
        return q;
    }();
    return p;
}

nb::Frame tcp_frame(bool from_client, uint16_t client_port, uint8_t flags, uint32_t seq,
                    const nb::Frame& payload = {}) {
    const uint16_t sp = from_client ? client_port : 443, dp = from_client ? 443 : client_port;
    const auto src = from_client ? "192.0.2.1" : "198.51.100.2";
    const auto dst = from_client ? "198.51.100.2" : "192.0.2.1";
    const nb::Frame opts =
        flags & 0x02 ? nb::Frame{0x02, 0x04, 0x05, 0xb4, 0x04, 0x02, 0x08, 0x0a, 0,    0,
                                 0,    1,    0,    0,    0,    0,    0x01, 0x03, 0x03, 0x07}
                     : nb::Frame{};
    return nb::eth(0x0800, nb::ipv4({.src = src, .dst = dst}, nb::tcp({.sport = sp,
                                                                       .dport = dp,
                                                                       .seq = seq,
                                                                       .ack = 1,
                                                                       .flags = flags,
                                                                       .options = opts,
                                                                       .payload = payload})));
}

// A ClientHello-sized first segment: a handshake record header announcing 512 bytes.
nb::Frame hello_payload() {
    nb::Frame h = nb::zeros(517);
    const uint8_t head[] = {0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc};
    std::copy(std::begin(head), std::end(head), h.begin());
    return h;
}

void drain() {
    struct Null : sybilwatch::capture::EbpfEventSink {
        void on_packet(const sybilwatch::capture::EbpfPacket&) override {}
        void on_flow_end(const sybilwatch::capture::EbpfFlowEnd&) override {}
    } sink;
    programs().cap->consume(sink);
}

bool need_root(benchmark::State& state) {
    if (geteuid() == 0) return true;
    state.SkipWithError("BPF_PROG_TEST_RUN needs root");
    return false;
}

// ns_per_packet is the best iteration's mean: other load on the machine only ever adds to it.
void run_repeated(benchmark::State& state, int fd, const nb::Frame& frame) {
    uint32_t best = UINT32_MAX;
    for (auto _ : state) {
        const auto r = bpf_test_run(fd, frame, kRepeat);
        if (r.error) {
            state.SkipWithError(("test run failed: " + std::to_string(r.error)).c_str());
            return;
        }
        state.SetIterationTime(double(r.duration_ns) * kRepeat / 1e9);
        best = std::min(best, r.duration_ns);
    }
    state.counters["ns_per_packet"] = best;
    drain();
}

void BM_EmptyProgram(benchmark::State& state) {
    if (!need_root(state)) return;
    run_repeated(state, programs().empty->fd(), tcp_frame(true, 50000, 0x10, 1));
}

void BM_UnmonitoredPort(benchmark::State& state) {
    if (!need_root(state)) return;
    nb::Frame f = nb::eth(
        0x0800, nb::ipv4({}, nb::tcp({.sport = 50000, .dport = 80, .payload = nb::zeros(100)})));
    run_repeated(state, programs().cap->ingress_fd(), f);
}

void BM_EstablishedData(benchmark::State& state) {
    if (!need_root(state)) return;
    auto& p = programs();
    const uint16_t port = 40001;
    bpf_test_run(p.cap->ingress_fd(), tcp_frame(true, port, 0x02, 1000));
    bpf_test_run(p.cap->egress_fd(), tcp_frame(false, port, 0x12, 9000));
    bpf_test_run(p.cap->ingress_fd(), tcp_frame(true, port, 0x10, 1001));
    bpf_test_run(p.cap->ingress_fd(), tcp_frame(true, port, 0x18, 1001, hello_payload()));
    drain();
    // A request segment well past the hello: cadence only, no event.
    run_repeated(state, p.cap->ingress_fd(),
                 tcp_frame(true, port, 0x18, 1001 + 5000, nb::zeros(1000)));
}

void BM_SynRetransmitted(benchmark::State& state) {
    if (!need_root(state)) return;
    // Every run after the first is a retransmission of the same SYN: flow lookup + event.
    run_repeated(state, programs().cap->ingress_fd(), tcp_frame(true, 40002, 0x02, 1000));
}

// Runs a frame once on each of kFreshFlows fresh flows (prepared by `prepare`); reports the
// kernel's mean time per frame, best iteration.
template <typename Prepare, typename Frame>
void run_fresh(benchmark::State& state, int fd, Prepare prepare, Frame frame_of) {
    double best = 1e18;
    uint16_t base = 10000;
    for (auto _ : state) {
        state.PauseTiming();
        std::vector<nb::Frame> frames;
        for (int i = 0; i < kFreshFlows; ++i) {
            prepare(static_cast<uint16_t>(base + i));
            frames.push_back(frame_of(static_cast<uint16_t>(base + i)));
        }
        drain();
        state.ResumeTiming();
        uint64_t sum = 0;
        for (const auto& f : frames)
            sum += bpf_test_run(fd, f, 1).duration_ns;
        state.SetIterationTime(double(sum) / 1e9);
        best = std::min(best, double(sum) / kFreshFlows);
        base = static_cast<uint16_t>(base + kFreshFlows);
        drain();
    }
    state.counters["ns_per_packet"] = best;
}

void BM_EmptyProgramOnce(benchmark::State& state) {
    if (!need_root(state)) return;
    run_fresh(
        state, programs().empty->fd(), [](uint16_t) {},
        [](uint16_t port) { return tcp_frame(true, port, 0x02, 1000); });
}

void BM_SynNewFlow(benchmark::State& state) {
    if (!need_root(state)) return;
    run_fresh(
        state, programs().cap->ingress_fd(), [](uint16_t) {},
        [](uint16_t port) { return tcp_frame(true, port, 0x02, 1000); });
}

void BM_ClientHelloSegment(benchmark::State& state) {
    if (!need_root(state)) return;
    auto& p = programs();
    run_fresh(
        state, p.cap->ingress_fd(),
        [&](uint16_t port) {
            bpf_test_run(p.cap->ingress_fd(), tcp_frame(true, port, 0x02, 5000));
            bpf_test_run(p.cap->egress_fd(), tcp_frame(false, port, 0x12, 9000));
            bpf_test_run(p.cap->ingress_fd(), tcp_frame(true, port, 0x10, 5001));
        },
        [](uint16_t port) { return tcp_frame(true, port, 0x18, 5001, hello_payload()); });
}

// Events per second the userspace consumer takes out of the ring (callback doing nothing).
void BM_ConsumerEventsPerSecond(benchmark::State& state) {
    if (!need_root(state)) return;
    auto& p = programs();
    drain();
    const nb::Frame syn = tcp_frame(true, 40003, 0x02, 1000);
    uint64_t events = 0;
    for (auto _ : state) {
        state.PauseTiming();
        bpf_test_run(p.cap->ingress_fd(), syn, 100'000);  // 100k events into the ring
        state.ResumeTiming();
        struct Count : sybilwatch::capture::EbpfEventSink {
            uint64_t n = 0;
            void on_packet(const sybilwatch::capture::EbpfPacket& e) override {
                n += e.bytes.size() > 0;
            }
            void on_flow_end(const sybilwatch::capture::EbpfFlowEnd&) override { ++n; }
        } sink;
        p.cap->consume(sink);
        events += sink.n;
    }
    state.counters["events_per_s"] =
        benchmark::Counter(double(events), benchmark::Counter::kIsRate);
}

BENCHMARK(BM_EmptyProgram)->UseManualTime()->Iterations(10);
BENCHMARK(BM_UnmonitoredPort)->UseManualTime()->Iterations(10);
BENCHMARK(BM_EstablishedData)->UseManualTime()->Iterations(10);
BENCHMARK(BM_SynRetransmitted)->UseManualTime()->Iterations(3);
BENCHMARK(BM_EmptyProgramOnce)->UseManualTime()->Iterations(3);
BENCHMARK(BM_SynNewFlow)->UseManualTime()->Iterations(3);
BENCHMARK(BM_ClientHelloSegment)->UseManualTime()->Iterations(3);
BENCHMARK(BM_ConsumerEventsPerSecond)->Iterations(10);

}  // namespace
