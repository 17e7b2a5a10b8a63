// The ring through real /dev/shm segments: round trips, readers joining mid-run, overruns
// counted exactly, torn copies never accepted, broken headers refused, stale rings replaced,
// and a reader in another process.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <optional>
#include <thread>
#include <vector>

#include "fingerprint/observation_json.hpp"
#include "shm/ring_error.hpp"
#include "shm/ring_reader.hpp"
#include "shm/ring_writer.hpp"
#include "shm_test_util.hpp"

namespace sybilwatch::shm {
namespace {

using test::counter_record;
using test::unique_ring;

WriterOptions cap(uint32_t capacity) {
    WriterOptions o;
    o.capacity = capacity;
    return o;
}

template <typename F>
RingError::Code error_code(F&& f) {
    try {
        f();
    } catch (const RingError& e) {
        return e.code();
    }
    ADD_FAILURE() << "no RingError";
    return RingError::Code::System;
}

template <typename F>
std::string error_text(F&& f) {
    try {
        f();
    } catch (const RingError& e) {
        return e.what();
    }
    return "(no error)";
}

bool segment_exists(const std::string& ring) {
    Fd fd(::shm_open(ring_shm_name(ring).c_str(), O_RDONLY, 0));
    return static_cast<bool>(fd);
}

TEST(Ring, SegmentLayoutIsTheDocumentedOne) {
    const std::string name = unique_ring("layout");
    Writer w(name, cap(16));
    EXPECT_EQ(w.path(), "/dev/shm/" + name + "-observations");
    struct stat st {};
    ASSERT_EQ(::stat(w.path().c_str(), &st), 0);
    EXPECT_EQ(static_cast<uint64_t>(st.st_size), 128u + 16u * 1856u);
    EXPECT_EQ(st.st_mode & 0777, 0640u);
    test::RawSegment raw(name);
    ASSERT_TRUE(raw.ok());
    const RingHeader& h = raw.header();
    EXPECT_EQ(std::memcmp(&h.magic, "SYBWRING", 8), 0);
    EXPECT_EQ(h.version, 1u);
    EXPECT_EQ(h.capacity, 16u);
    EXPECT_EQ(h.record_size, 1856u);
    EXPECT_EQ(h.writer_pid, static_cast<uint32_t>(::getpid()));
    EXPECT_EQ(h.writer_start, process_start_ticks(::getpid()));
    EXPECT_NE(h.writer_start, 0u);
    w.publish(counter_record(5));
    EXPECT_EQ(h.write_index, 1u);
    EXPECT_EQ(raw.seq(0), 2u);  // record 0 complete: 2n+2
}

TEST(Ring, ObservationsRoundTripThroughTheRing) {
    const std::string name = unique_ring("rt");
    Writer w(name, cap(1024));
    Reader r(name);
    const auto obs = test::observations_of(test::foxio_pcap("tls-handshake.pcapng"));
    ASSERT_FALSE(obs.empty());
    ASSERT_LE(obs.size(), 1024u);
    for (size_t i = 0; i < obs.size(); ++i)
        w.publish(obs[i], "acct-" + std::to_string(i), "ua");
    ObservationRecord rec;
    for (size_t i = 0; i < obs.size(); ++i) {
        const ReadResult x = r.next(rec);
        ASSERT_EQ(x.status, ReadStatus::Ok);
        EXPECT_EQ(x.sequence, i);
        fingerprint::Observation back, want = obs[i];
        EXPECT_TRUE(to_observation(rec, back));
        want.ja4_r.clear();
        want.ja4_ro.clear();
        want.ja3_full.clear();
        want.ja4s_r.clear();
        std::string a, b;
        fingerprint::append_json(want, a);
        fingerprint::append_json(back, b);
        EXPECT_EQ(a, b);
        EXPECT_EQ(account_of(rec), "acct-" + std::to_string(i));
    }
    EXPECT_EQ(r.next(rec).status, ReadStatus::Empty);
}

// The acceptance test's "a reader of the ring started mid-run sees the same records".
TEST(Ring, ReaderStartedMidRunSeesWhatIsPublishedFromThen) {
    const std::string name = unique_ring("mid");
    Writer w(name, cap(256));
    for (uint64_t k = 0; k < 100; ++k)
        w.publish(counter_record(k));
    Reader r(name);  // Start::Newest
    EXPECT_EQ(r.lag(), 0u);
    for (uint64_t k = 100; k < 150; ++k)
        w.publish(counter_record(k));
    EXPECT_EQ(r.lag(), 50u);
    ObservationRecord rec;
    for (uint64_t k = 100; k < 150; ++k) {
        const ReadResult x = r.next(rec);
        ASSERT_EQ(x.status, ReadStatus::Ok);
        EXPECT_EQ(x.sequence, k);
        const ObservationRecord want = counter_record(k);
        EXPECT_EQ(std::memcmp(&rec, &want, sizeof rec), 0) << k;
    }
    EXPECT_EQ(r.next(rec).status, ReadStatus::Empty);
    EXPECT_EQ(r.stats().delivered, 50u);
    EXPECT_EQ(r.stats().missed, 0u);

    Reader oldest(name, Start::Oldest);
    EXPECT_EQ(oldest.cursor().position(), 0u);  // 150 records fit in 256 slots
    oldest.cursor().seek_back(3);
    ASSERT_EQ(oldest.next(rec).status, ReadStatus::Ok);
    EXPECT_EQ(rec.ts_ns, 147);
}

TEST(Ring, OverrunReportsExactlyHowManyWereMissed) {
    const std::string name = unique_ring("over");
    Writer w(name, cap(8));
    Reader r(name);
    for (uint64_t k = 0; k < 100; ++k)
        w.publish(counter_record(k));
    ObservationRecord rec;
    ReadResult x = r.next(rec);
    ASSERT_EQ(x.status, ReadStatus::Overrun);
    EXPECT_EQ(x.missed, 92u);  // 100 published, the newest 8 still there
    for (uint64_t k = 92; k < 100; ++k) {
        x = r.next(rec);
        ASSERT_EQ(x.status, ReadStatus::Ok);
        EXPECT_EQ(x.sequence, k);
        EXPECT_TRUE(test::consistent(rec));
        EXPECT_EQ(rec.ts_ns, static_cast<int64_t>(k));
    }
    EXPECT_EQ(r.next(rec).status, ReadStatus::Empty);

    // Behind by exactly the capacity is not an overrun; one more is.
    for (uint64_t k = 100; k < 108; ++k)
        w.publish(counter_record(k));
    EXPECT_EQ(r.next(rec).status, ReadStatus::Ok);
    EXPECT_EQ(rec.ts_ns, 100);
    for (uint64_t k = 108; k < 110; ++k)
        w.publish(counter_record(k));
    x = r.next(rec);
    ASSERT_EQ(x.status, ReadStatus::Overrun);
    EXPECT_EQ(x.missed, 1u);  // record 101 was overwritten by 109
    EXPECT_EQ(r.stats().missed, 93u);
    EXPECT_EQ(r.stats().overruns, 2u);

    // poll() sums the overruns on its way.
    for (uint64_t k = 110; k < 130; ++k)
        w.publish(counter_record(k));
    std::vector<int64_t> seen;
    const PollResult p = r.poll(100, [&](const ObservationRecord& rr, uint64_t seq) {
        EXPECT_EQ(rr.ts_ns, static_cast<int64_t>(seq));
        seen.push_back(rr.ts_ns);
    });
    EXPECT_EQ(p.delivered, 8u);
    EXPECT_EQ(p.missed, 130u - 8u - 102u);
    EXPECT_EQ(seen.front(), 122);
    EXPECT_EQ(seen.back(), 129);
}

// The writer is rewriting the slot the reader wants (its seq is odd and a lap ahead), before
// the index shows it: the reader must not take the slot, and skips to what is surely whole.
TEST(Ring, SlotBeingRewrittenIsNotRead) {
    const std::string name = unique_ring("torn");
    Writer w(name, cap(4));
    Reader r(name);
    for (uint64_t k = 0; k < 4; ++k)
        w.publish(counter_record(k));
    test::RawSegment raw(name);
    ASSERT_TRUE(raw.ok());
    raw.seq(0) = 2 * 4 + 1;  // record 4 going into slot 0
    ObservationRecord rec;
    ReadResult x = r.next(rec);
    ASSERT_EQ(x.status, ReadStatus::Overrun);
    EXPECT_EQ(x.missed, 1u);
    x = r.next(rec);
    ASSERT_EQ(x.status, ReadStatus::Ok);
    EXPECT_EQ(x.sequence, 1u);
    EXPECT_EQ(rec.ts_ns, 1);
}

// A writer that publishes the index before the slot is broken; the reader skips the record
// and counts it rather than wait forever or deliver garbage.
TEST(Ring, IndexAheadOfSlotIsSkipped) {
    const std::string name = unique_ring("ahead");
    Writer w(name, cap(8));
    Reader r(name);
    w.publish(counter_record(0));
    w.publish(counter_record(1));
    test::RawSegment raw(name);
    raw.seq(0) = 0;  // never written, yet write_index says 2
    ObservationRecord rec;
    const ReadResult x = r.next(rec);
    EXPECT_EQ(x.status, ReadStatus::Overrun);
    EXPECT_EQ(x.missed, 1u);
    EXPECT_EQ(r.next(rec).status, ReadStatus::Ok);
    EXPECT_EQ(rec.ts_ns, 1);
    // An index that goes backwards (corrupt ring): resync, no wait, no out-of-bounds.
    raw.header().write_index = 1;
    EXPECT_EQ(r.next(rec).status, ReadStatus::Empty);
    EXPECT_EQ(r.stats().resets, 1u);
    raw.header().write_index = ~0ull;  // absurd: far ahead
    EXPECT_EQ(r.next(rec).status, ReadStatus::Overrun);
}

// A writer hammering a small ring while three readers copy: every record a reader accepts is
// one whole record (all fields from one counter), in order, and delivered + missed accounts
// for every record published.
TEST(Ring, ConcurrentReadersNeverAcceptATornRecord) {
    const std::string name = unique_ring("hammer");
    Writer w(name, cap(8));
    constexpr uint64_t kRecords = 300'000;
    std::atomic<bool> writer_done{false};
    struct Result {
        uint64_t delivered = 0, missed = 0, torn = 0, bad = 0, out_of_order = 0;
    };
    std::vector<Result> results(3);
    std::vector<std::thread> readers;
    std::atomic<int> ready{0};
    for (int i = 0; i < 3; ++i) {
        readers.emplace_back([&, i] {
            Reader r(name, Start::Oldest);
            ready++;
            ObservationRecord rec;
            Result& res = results[i];
            int64_t last = -1;
            for (;;) {
                const bool done = writer_done.load();
                const ReadResult x = r.next(rec);
                if (x.status == ReadStatus::Ok) {
                    if (!test::consistent(rec) || rec.ts_ns != static_cast<int64_t>(x.sequence))
                        ++res.bad;
                    if (rec.ts_ns <= last) ++res.out_of_order;
                    last = rec.ts_ns;
                } else if (x.status == ReadStatus::Empty && done) {
                    break;
                }
            }
            res.delivered = r.stats().delivered;
            res.missed = r.stats().missed;
            res.torn = r.stats().torn;
        });
    }
    while (ready < 3)
        std::this_thread::yield();
    for (uint64_t k = 0; k < kRecords; ++k)
        w.publish(counter_record(k));
    writer_done = true;
    for (auto& t : readers)
        t.join();
    for (const Result& res : results) {
        EXPECT_EQ(res.bad, 0u);
        EXPECT_EQ(res.out_of_order, 0u);
        EXPECT_EQ(res.delivered + res.missed, kRecords);
        EXPECT_GT(res.delivered, 0u);
        std::printf("reader: delivered %llu missed %llu torn copies rejected %llu\n",
                    (unsigned long long)res.delivered, (unsigned long long)res.missed,
                    (unsigned long long)res.torn);
    }
}

TEST(Ring, ReaderInAnotherProcessSeesTheRecords) {
    const std::string name = unique_ring("fork");
    Writer w(name, cap(256));
    for (uint64_t k = 0; k < 10; ++k)
        w.publish(counter_record(k));  // before the reader
    int ready[2];
    ASSERT_EQ(::pipe(ready), 0);
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        // The child: a separate process with its own read-only mapping. Exit codes, not gtest.
        int rc = 0;
        try {
            Reader r(name);
            if (::write(ready[1], "r", 1) != 1) ::_exit(10);
            ObservationRecord rec;
            uint64_t want = 10;
            const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
            while (want < 110 && std::chrono::steady_clock::now() < deadline) {
                const ReadResult x = r.next(rec);
                if (x.status == ReadStatus::Empty) {
                    std::this_thread::sleep_for(std::chrono::microseconds(100));
                    continue;
                }
                if (x.status != ReadStatus::Ok) ::_exit(11);
                if (x.sequence != want || !test::consistent(rec) ||
                    rec.ts_ns != static_cast<int64_t>(want))
                    ::_exit(12);
                ++want;
            }
            rc = want == 110 ? 0 : 13;
        } catch (...) {
            rc = 14;
        }
        ::_exit(rc);  // no destructors: the writer object copied into the child must not close
    }
    char c;
    ASSERT_EQ(::read(ready[0], &c, 1), 1);
    for (uint64_t k = 10; k < 110; ++k)
        w.publish(counter_record(k));
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ::close(ready[0]);
    ::close(ready[1]);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0) << "child reader failed (see exit codes in the test)";
}

// kill -9 of the writer: its ring stays, names a dead pid, and the next writer replaces it.
TEST(Ring, CrashedWritersRingIsReplaced) {
    const std::string name = unique_ring("stale");
    int ready[2];
    ASSERT_EQ(::pipe(ready), 0);
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        try {
            Writer w(name, cap(16));
            for (uint64_t k = 0; k < 5; ++k)
                w.publish(counter_record(k));
            if (::write(ready[1], "w", 1) != 1) ::_exit(1);
            for (;;)
                ::pause();
        } catch (...) {
            ::_exit(2);
        }
    }
    char c;
    ASSERT_EQ(::read(ready[0], &c, 1), 1);
    ::close(ready[0]);
    ::close(ready[1]);
    {
        Reader live(name);
        EXPECT_TRUE(live.writer_alive());
        // A second writer while the first lives: refused, naming the owner.
        const std::string err = error_text([&] { Writer again(name); });
        EXPECT_NE(err.find("in use"), std::string::npos) << err;
        EXPECT_NE(err.find(std::to_string(pid)), std::string::npos) << err;
    }
    ::kill(pid, SIGKILL);
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);

    Reader old(name, Start::Oldest);
    EXPECT_EQ(old.info().writer_pid, static_cast<uint32_t>(pid));
    EXPECT_FALSE(old.info().closed);  // it never got to close
    EXPECT_FALSE(old.writer_alive());
    EXPECT_EQ(old.info().write_index, 5u);

    Writer w(name, cap(32));
    ASSERT_TRUE(w.replaced_pid().has_value());
    EXPECT_EQ(*w.replaced_pid(), static_cast<uint32_t>(pid));
    EXPECT_TRUE(old.replaced());
    ObservationRecord rec;
    EXPECT_EQ(old.next(rec).status, ReadStatus::Ok);  // the old mapping stays readable
    Reader fresh(name, Start::Oldest);
    EXPECT_EQ(fresh.info().write_index, 0u);
    EXPECT_EQ(fresh.info().capacity, 32u);
    EXPECT_EQ(fresh.info().writer_pid, static_cast<uint32_t>(::getpid()));
    EXPECT_TRUE(fresh.writer_alive());
    EXPECT_FALSE(fresh.replaced());
}

TEST(Ring, CleanCloseMarksTheRingAndUnlinksIt) {
    const std::string name = unique_ring("close");
    std::optional<Writer> w(std::in_place, name, cap(8));
    w->publish(counter_record(1));
    Reader r(name, Start::Oldest);
    EXPECT_TRUE(r.writer_alive());
    EXPECT_FALSE(r.info().closed);
    w.reset();
    EXPECT_TRUE(r.info().closed);
    EXPECT_FALSE(r.writer_alive());
    EXPECT_TRUE(r.replaced());
    EXPECT_FALSE(segment_exists(name));
    ObservationRecord rec;
    EXPECT_EQ(r.next(rec).status, ReadStatus::Ok);  // what was published can still be read
    EXPECT_EQ(error_code([&] { Reader again(name); }), RingError::Code::NotFound);
}

TEST(Ring, RingLeftOnCloseIsReplacedByTheNextWriter) {
    const std::string name = unique_ring("keep");
    WriterOptions keep = cap(8);
    keep.unlink_on_close = false;
    { Writer w(name, keep); }
    ASSERT_TRUE(segment_exists(name));
    Writer w2(name, cap(8));
    EXPECT_EQ(w2.replaced_pid(), static_cast<uint32_t>(::getpid()));
}

TEST(Ring, BadNamesAndCapacitiesAreRefused) {
    for (const char* bad : {"", "a/b", ".hidden", "sp ace", "x\n"})
        EXPECT_EQ(error_code([&] { Writer w(bad); }), RingError::Code::BadName) << bad;
    EXPECT_EQ(error_code([&] { Reader r(std::string(201, 'a')); }), RingError::Code::BadName);
    for (uint32_t c : {0u, 1u, 3u, 100u, 1u << 21})
        EXPECT_EQ(error_code([&] { Writer w(unique_ring("cap"), cap(c)); }),
                  RingError::Code::BadOptions)
            << c;
}

TEST(Ring, MissingRingIsNotFound) {
    const std::string err = error_text([] { Reader r(unique_ring("none")); });
    EXPECT_NE(err.find("no such ring"), std::string::npos) << err;
}

// Each header field a reader checks, broken one at a time.
TEST(Ring, BrokenHeadersAreRefusedWithAClearError) {
    struct Case {
        const char* what;
        void (*poke)(RingHeader&);
        RingError::Code code;
        const char* text;
    };
    const Case cases[] = {
        {"magic", [](RingHeader& h) { h.magic = 0x1122334455667788ull; }, RingError::Code::BadMagic,
         "bad magic"},
        {"no magic", [](RingHeader& h) { h.magic = 0; }, RingError::Code::NotReady,
         "not initialised"},
        {"version", [](RingHeader& h) { h.version = 2; }, RingError::Code::BadVersion, "version 2"},
        {"record size", [](RingHeader& h) { h.record_size = 1024; }, RingError::Code::BadLayout,
         "sizes 128/1024/1848"},
        {"payload size", [](RingHeader& h) { h.payload_size = 1000; }, RingError::Code::BadLayout,
         "this build expects"},
        {"capacity", [](RingHeader& h) { h.capacity = 12; }, RingError::Code::BadLayout,
         "capacity 12 is not a power of two"},
        {"capacity vs size", [](RingHeader& h) { h.capacity = 32; }, RingError::Code::BadLayout,
         "capacity 32 needs"},
        {"segment size", [](RingHeader& h) { h.segment_size += 64; }, RingError::Code::BadLayout,
         "header says"},
    };
    for (const Case& c : cases) {
        const std::string name = unique_ring("hdr");
        Writer w(name, cap(16));
        test::RawSegment raw(name);
        ASSERT_TRUE(raw.ok());
        c.poke(raw.header());
        try {
            Reader r(name);
            ADD_FAILURE() << c.what << ": accepted";
        } catch (const RingError& e) {
            EXPECT_EQ(e.code(), c.code) << c.what << ": " << e.what();
            EXPECT_NE(std::string(e.what()).find(c.text), std::string::npos)
                << c.what << ": " << e.what();
            EXPECT_NE(std::string(e.what()).find(w.path()), std::string::npos) << e.what();
        }
    }
}

TEST(Ring, SegmentOfTheWrongSizeIsRefused) {
    const std::string name = unique_ring("size");
    Writer w(name, cap(16));
    Fd fd(::shm_open(ring_shm_name(name).c_str(), O_RDWR, 0));
    ASSERT_TRUE(fd);
    ASSERT_EQ(::ftruncate(fd.get(), 64), 0);  // shorter than a header
    EXPECT_EQ(error_code([&] { Reader r(name); }), RingError::Code::NotReady);
    ASSERT_EQ(::ftruncate(fd.get(), static_cast<off_t>(segment_size_for(16) + 4096)), 0);
    EXPECT_EQ(error_code([&] { Reader r(name); }), RingError::Code::BadLayout);
}

TEST(Ring, SomethingElseUnderTheNameIsNotARing) {
    const std::string name = unique_ring("junk");
    Fd fd(::shm_open(ring_shm_name(name).c_str(), O_RDWR | O_CREAT | O_EXCL, 0600));
    ASSERT_TRUE(fd);
    const std::string junk(4096, 'J');
    ASSERT_EQ(::write(fd.get(), junk.data(), junk.size()), 4096);
    EXPECT_EQ(error_code([&] { Reader r(name); }), RingError::Code::BadMagic);
    // Nobody holds it: a writer takes the name over.
    Writer w(name, cap(8));
    EXPECT_TRUE(w.replaced_pid().has_value());
    EXPECT_EQ(*w.replaced_pid(), 0u);  // no ring header, no pid
    Reader r(name);
    EXPECT_EQ(r.info().capacity, 8u);
}

TEST(Ring, ViewRefusesMisalignedOrShortBytes) {
    alignas(8) std::byte buf[256] = {};
    EXPECT_EQ(error_code([&] {
                  RingView::validate({buf + 1, 200}, "buf");
              }),
              RingError::Code::BadLayout);
    EXPECT_EQ(error_code([&] {
                  RingView::validate({buf, 100}, "buf");
              }),
              RingError::Code::NotReady);
}

TEST(Ring, RingSinkPublishesEngineOutput) {
    const std::string name = unique_ring("sink");
    Writer w(name, cap(128));
    Reader r(name);
    RingSink sink(w);
    capture::PcapFile file(test::foxio_pcap("tls-sni.pcapng"));
    fingerprint::Engine engine({}, sink);
    capture::Frame fr;
    while (file.next(fr))
        engine.on_frame(fr.link, fr.ts_ns, fr.data, fr.wire_len);
    engine.flush();
    EXPECT_EQ(w.published(), engine.stats().observations);
    EXPECT_GT(w.published(), 0u);
    uint64_t with_sni = 0;
    const PollResult p =
        r.poll(1000, [&](const ObservationRecord& rec, uint64_t) { with_sni += rec.sni.len > 0; });
    EXPECT_EQ(p.delivered, w.published());
    EXPECT_GT(with_sni, 0u);
}

}  // namespace
}  // namespace sybilwatch::shm
