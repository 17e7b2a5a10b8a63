// The shared-memory observation ring: publish() cost, and observations/s with one writer and
// three readers (the daemon's ring with `sybilwatch tail`, `top` and one more attached).
// Observations are the engine's output on a reference capture, so their strings are real size.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "capture/pcap_file.hpp"
#include "fingerprint/engine.hpp"
#include "shm/ring_reader.hpp"
#include "shm/ring_writer.hpp"

using namespace sybilwatch;

namespace {

const std::vector<fingerprint::Observation>& observations() {
    static const std::vector<fingerprint::Observation> obs = [] {
        struct Collect : fingerprint::ObservationSink {
            void on_observation(const fingerprint::Observation& o) override { seen.push_back(o); }
            std::vector<fingerprint::Observation> seen;
        } sink;
        capture::PcapFile file(std::string(SW_SOURCE_DIR) +
                               "/../shared/conformance/foxio/pcap/tls-sni.pcapng");
        fingerprint::Engine engine({}, sink);
        capture::Frame fr;
        while (file.next(fr))
            engine.on_frame(fr.link, fr.ts_ns, fr.data, fr.wire_len);
        engine.flush();
        return sink.seen;
    }();
    return obs;
}

std::string ring_name(const char* tag) {
    return std::string("swbench-") + tag + "-" + std::to_string(::getpid());
}

void BM_ToRecord(benchmark::State& state) {
    const auto& obs = observations();
    shm::ObservationRecord r{};
    size_t i = 0;
    for (auto _ : state) {
        shm::to_record(obs[i++ % obs.size()], r, "acct-1234567", "python-requests/2.31.0");
        benchmark::DoNotOptimize(r);
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ToRecord);

// publish(Observation): conversion plus the slot copy and the seqlock, no reader attached. A
// ring that fits in the cache (256 slots, 464 KiB) against the default one (16384, 29 MiB),
// whose slots are cold by the time the writer comes round again.
void BM_Publish(benchmark::State& state) {
    const auto& obs = observations();
    shm::WriterOptions wo;
    wo.capacity = static_cast<uint32_t>(state.range(0));
    shm::Writer w(ring_name("publish"), wo);
    size_t i = 0;
    for (auto _ : state)
        w.publish(obs[i++ % obs.size()], "acct-1234567");
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Publish)->Arg(256)->Arg(1 << 14);

// One publish and one read per iteration in one thread: the cost of a record end to end.
void BM_PublishThenRead(benchmark::State& state) {
    const auto& obs = observations();
    const std::string name = ring_name("pair");
    shm::Writer w(name, {});
    shm::Reader r(name);
    shm::ObservationRecord rec;
    size_t i = 0;
    for (auto _ : state) {
        w.publish(obs[i++ % obs.size()]);
        if (r.next(rec).status != shm::ReadStatus::Ok) state.SkipWithError("not read");
        benchmark::DoNotOptimize(rec);
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_PublishThenRead);

// One writer publishing as fast as it can, three reader threads following it (each its own
// read-only mapping, as separate processes would have). items_per_second is the writer's
// rate; reader_obs/s is what one reader copied out per second on average; missed_pct is the
// share of records the readers were overrun on (the writer never waits for them).
void BM_OneWriterThreeReaders(benchmark::State& state) {
    const auto& obs = observations();
    const std::string name = ring_name("w1r3");
    shm::WriterOptions wo;
    wo.capacity = static_cast<uint32_t>(state.range(0));
    shm::Writer w(name, wo);
    std::atomic<bool> stop{false};
    std::atomic<uint64_t> delivered{0}, missed{0};
    std::atomic<int> ready{0};
    std::vector<std::thread> readers;
    for (int t = 0; t < 3; ++t) {
        readers.emplace_back([&] {
            shm::Reader r(name);
            ++ready;
            uint64_t sum = 0;
            while (!stop.load(std::memory_order_relaxed)) {
                const shm::PollResult p =
                    r.poll(256, [&](const shm::ObservationRecord& rec, uint64_t) {
                        sum += static_cast<uint64_t>(rec.ts_ns) + rec.ja4.len;  // touch the copy
                    });
                if (!p.delivered) std::this_thread::yield();
            }
            r.poll(SIZE_MAX, [&](const shm::ObservationRecord&, uint64_t) {});
            benchmark::DoNotOptimize(sum);
            delivered += r.stats().delivered;
            missed += r.stats().missed;
        });
    }
    while (ready < 3)
        std::this_thread::yield();
    size_t i = 0;
    for (auto _ : state) {
        for (int k = 0; k < 1024; ++k)
            w.publish(obs[i++ % obs.size()]);
    }
    stop = true;
    for (auto& t : readers)
        t.join();
    const double published = static_cast<double>(w.published());
    state.SetItemsProcessed(static_cast<int64_t>(w.published()));
    state.counters["reader_obs/s"] =
        benchmark::Counter(static_cast<double>(delivered.load()) / 3, benchmark::Counter::kIsRate);
    state.counters["missed_pct"] = 100.0 * static_cast<double>(missed.load()) / (3 * published);
}
BENCHMARK(BM_OneWriterThreeReaders)->Arg(1 << 14)->Arg(1 << 17)->UseRealTime()->MinTime(2.0);

// The same with the writer paced at `range(0)` observations/s (a busy edge host makes well
// under 100k connections/s): do the readers keep up without loss?
void BM_PacedWriterThreeReaders(benchmark::State& state) {
    const auto& obs = observations();
    const std::string name = ring_name("paced");
    shm::Writer w(name, {});
    std::atomic<bool> stop{false};
    std::atomic<uint64_t> delivered{0}, missed{0};
    std::atomic<int> ready{0};
    std::vector<std::thread> readers;
    for (int t = 0; t < 3; ++t) {
        readers.emplace_back([&] {
            shm::Reader r(name);
            ++ready;
            while (!stop.load(std::memory_order_relaxed)) {
                const shm::PollResult p =
                    r.poll(256, [](const shm::ObservationRecord&, uint64_t) {});
                // Sleep like `sybilwatch tail` does when idle.
                if (!p.delivered) std::this_thread::sleep_for(std::chrono::milliseconds(20));
            }
            r.poll(SIZE_MAX, [](const shm::ObservationRecord&, uint64_t) {});
            delivered += r.stats().delivered;
            missed += r.stats().missed;
        });
    }
    while (ready < 3)
        std::this_thread::yield();
    const auto per = std::chrono::nanoseconds(1'000'000'000 / state.range(0));
    auto next = std::chrono::steady_clock::now();
    size_t i = 0;
    for (auto _ : state) {
        for (int k = 0; k < 1000; ++k) {
            w.publish(obs[i++ % obs.size()]);
            next += per;
        }
        while (std::chrono::steady_clock::now() < next)
            std::this_thread::yield();
    }
    stop = true;
    for (auto& t : readers)
        t.join();
    state.SetItemsProcessed(static_cast<int64_t>(w.published()));
    state.counters["missed_pct"] =
        100.0 * static_cast<double>(missed.load()) / (3.0 * static_cast<double>(w.published()));
    state.counters["delivered_pct"] =
        100.0 * static_cast<double>(delivered.load()) / (3.0 * static_cast<double>(w.published()));
}
BENCHMARK(BM_PacedWriterThreeReaders)->Arg(100'000)->Arg(1'000'000)->UseRealTime()->MinTime(2.0);

}  // namespace
