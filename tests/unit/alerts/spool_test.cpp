// The spool: durable appends, delivery from the cursor, restart, crash recovery (torn tail,
// garbage tail, corrupt record, killed writer), the size bound, and CRC-32C itself.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "alerts/crc32c.hpp"
#include "alerts/spool.hpp"

namespace sybilwatch::alerts {
namespace {

namespace fs = std::filesystem;

class TempDir {
  public:
    TempDir() {
        char tmpl[] = "/tmp/sw-spool-test.XXXXXX";
        path_ = ::mkdtemp(tmpl);
    }
    ~TempDir() { fs::remove_all(path_); }
    const std::string& path() const { return path_; }

  private:
    std::string path_;
};

std::vector<fs::path> segments(const std::string& dir) {
    std::vector<fs::path> v;
    for (auto& e : fs::directory_iterator(dir))
        if (e.path().filename().string().rfind("seg-", 0) == 0) v.push_back(e.path());
    std::sort(v.begin(), v.end());
    return v;
}

std::unique_ptr<Spool> open_spool(const std::string& dir, SpoolOptions o = {}) {
    std::string error;
    auto s = Spool::open(dir, std::move(o), error);
    EXPECT_TRUE(s) << error;
    return s;
}

std::vector<std::string> drain(Spool& s, bool ack = true) {
    std::vector<std::string> got;
    std::vector<SpoolRecord> batch;
    uint64_t from = s.cursor();
    for (;;) {
        s.read(7, 1 << 20, batch);
        if (batch.empty()) break;
        for (auto& r : batch) {
            EXPECT_GE(r.seq, from);
            from = r.seq + 1;
            got.push_back(r.payload);
        }
        if (!ack) break;
        s.ack(batch.back().seq + 1);
    }
    return got;
}

std::string payload(int i) {
    return "{\"finding_id\":\"f" + std::to_string(i) + "\",\"pad\":\"" + std::string(i % 50, 'x') +
           "\"}";
}

TEST(Crc32c, Rfc3720Vectors) {
    // RFC 3720 appendix B.4, and the "123456789" check value.
    std::vector<uint8_t> zeros(32, 0), ones(32, 0xff), inc(32), dec(32);
    for (int i = 0; i < 32; ++i) {
        inc[i] = static_cast<uint8_t>(i);
        dec[i] = static_cast<uint8_t>(31 - i);
    }
    const std::string check = "123456789";
    const std::span<const uint8_t> c(reinterpret_cast<const uint8_t*>(check.data()), 9);
    for (auto fn : {&crc32c, &crc32c_portable}) {
        EXPECT_EQ(fn(0, zeros), 0x8A9136AAu);
        EXPECT_EQ(fn(0, ones), 0x62A8AB43u);
        EXPECT_EQ(fn(0, inc), 0x46DD794Eu);
        EXPECT_EQ(fn(0, dec), 0x113FDB5Cu);
        EXPECT_EQ(fn(0, c), 0xE3069283u);
        EXPECT_EQ(fn(fn(0, c.first(4)), c.subspan(4)), 0xE3069283u);  // continuation
    }
}

TEST(Spool, AppendReadAckAndRestart) {
    TempDir d;
    {
        auto s = open_spool(d.path());
        std::string err;
        for (int i = 0; i < 10; ++i)
            ASSERT_TRUE(s->append(payload(i), err)) << err;
        EXPECT_EQ(s->stats().backlog, 10u);
        std::vector<SpoolRecord> batch;
        ASSERT_EQ(s->read(4, 1 << 20, batch), 4u);
        EXPECT_EQ(batch[0].payload, payload(0));
        EXPECT_EQ(batch[3].payload, payload(3));
        // Reading again without an ack returns the same records (at least once).
        std::vector<SpoolRecord> again;
        s->read(4, 1 << 20, again);
        EXPECT_EQ(again[0].seq, batch[0].seq);
        s->ack(batch[3].seq + 1);
        EXPECT_EQ(s->stats().backlog, 6u);
        EXPECT_EQ(s->stats().syncs, 10u);
    }
    // Restart: the six undelivered are there, in order, and nothing delivered comes back.
    auto s = open_spool(d.path());
    EXPECT_EQ(s->stats().recovered_records, 6u);
    auto got = drain(*s);
    ASSERT_EQ(got.size(), 6u);
    EXPECT_EQ(got.front(), payload(4));
    EXPECT_EQ(got.back(), payload(9));
    // Appends continue with new sequence numbers in a new segment.
    std::string err;
    const uint64_t before = s->next_seq();
    ASSERT_TRUE(s->append("after restart", err));
    EXPECT_EQ(s->next_seq(), before + 1);
    EXPECT_EQ(drain(*s), std::vector<std::string>{"after restart"});
}

TEST(Spool, GroupCommitIsOneSync) {
    TempDir d;
    SpoolOptions o;
    auto s = open_spool(d.path(), o);
    std::vector<std::string> p;
    for (int i = 0; i < 64; ++i)
        p.push_back(payload(i));
    std::vector<std::string_view> v(p.begin(), p.end());
    std::string err;
    EXPECT_EQ(s->append_batch(v, err), 64u);
    EXPECT_EQ(s->stats().syncs, 1u);
    EXPECT_EQ(drain(*s), p);
}

TEST(Spool, DeliveredSegmentsAreDeleted) {
    TempDir d;
    SpoolOptions o;
    o.segment_bytes = 256;
    auto s = open_spool(d.path(), o);
    std::string err;
    for (int i = 0; i < 40; ++i)
        ASSERT_TRUE(s->append(payload(i), err));
    EXPECT_GT(segments(d.path()).size(), 3u);
    EXPECT_EQ(drain(*s).size(), 40u);
    EXPECT_EQ(segments(d.path()).size(), 1u);  // only the one being appended to
    EXPECT_EQ(s->stats().backlog, 0u);
}

TEST(Spool, TruncatedTailIsCutAndCounted) {
    TempDir d;
    {
        auto s = open_spool(d.path());
        std::string err;
        for (int i = 0; i < 3; ++i)
            ASSERT_TRUE(s->append(payload(i), err));
    }
    auto seg = segments(d.path()).at(0);
    const auto size = fs::file_size(seg);
    fs::resize_file(seg, size - 5);  // a crash in the middle of the third append
    auto s = open_spool(d.path());
    const auto st = s->stats();
    EXPECT_EQ(st.recovered_records, 2u);
    EXPECT_EQ(st.truncated_segments, 1u);
    EXPECT_EQ(st.truncated_bytes, Spool::kHeaderBytes + payload(2).size() - 5);
    EXPECT_EQ(fs::file_size(seg), Spool::kHeaderBytes * 2 + payload(0).size() + payload(1).size());
    std::string err;
    ASSERT_TRUE(s->append("next", err));
    EXPECT_EQ(drain(*s), (std::vector<std::string>{payload(0), payload(1), "next"}));
}

TEST(Spool, GarbageTailIsCutAndCounted) {
    TempDir d;
    {
        auto s = open_spool(d.path());
        std::string err;
        for (int i = 0; i < 3; ++i)
            ASSERT_TRUE(s->append(payload(i), err));
    }
    auto seg = segments(d.path()).at(0);
    {
        std::ofstream out(seg, std::ios::app | std::ios::binary);
        out << "SWR1\xff\xff\xff\x7fgarbage that is not a record";  // plausible magic, huge length
    }
    auto s = open_spool(d.path());
    EXPECT_EQ(s->stats().recovered_records, 3u);
    EXPECT_EQ(s->stats().truncated_segments, 1u);
    EXPECT_EQ(drain(*s).size(), 3u);
}

TEST(Spool, CorruptRecordEndsItsSegment) {
    TempDir d;
    {
        auto s = open_spool(d.path());
        std::string err;
        for (int i = 0; i < 3; ++i)
            ASSERT_TRUE(s->append(payload(i), err));
    }
    auto seg = segments(d.path()).at(0);
    {
        // Flip one payload byte of the second record: the CRC catches it.
        std::fstream io(seg, std::ios::in | std::ios::out | std::ios::binary);
        io.seekp(static_cast<std::streamoff>(Spool::kHeaderBytes * 2 + payload(0).size() + 3));
        io.put('#');
    }
    auto s = open_spool(d.path());
    EXPECT_EQ(drain(*s), std::vector<std::string>{payload(0)});
    EXPECT_EQ(s->stats().truncated_segments, 1u);
}

TEST(Spool, DamagedCursorMeansDeliverAgain) {
    TempDir d;
    {
        auto s = open_spool(d.path());
        std::string err;
        for (int i = 0; i < 5; ++i)
            ASSERT_TRUE(s->append(payload(i), err));
        std::vector<SpoolRecord> b;
        s->read(2, 1 << 20, b);
        s->ack(b.back().seq + 1);
    }
    { std::ofstream(d.path() + "/cursor", std::ios::trunc) << "nonsense"; }
    auto s = open_spool(d.path());
    EXPECT_EQ(drain(*s).size(), 5u);  // duplicates, never losses
}

TEST(Spool, FullDropsOldestUndeliveredAndCountsThem) {
    TempDir d;
    SpoolOptions o;
    o.max_bytes = 4096;
    o.segment_bytes = 512;
    std::vector<std::string> logs;
    o.log = [&](std::string_view m) { logs.emplace_back(m); };
    auto s = open_spool(d.path(), o);
    std::string err;
    const int n = 400;
    for (int i = 0; i < n; ++i)
        ASSERT_TRUE(s->append(payload(i), err)) << err;
    const auto st = s->stats();
    EXPECT_LE(st.disk_bytes, o.max_bytes);
    EXPECT_GT(st.dropped_full, 0u);
    EXPECT_EQ(st.appended, static_cast<uint64_t>(n));
    EXPECT_EQ(st.dropped_full + st.backlog, static_cast<uint64_t>(n));
    EXPECT_FALSE(logs.empty());
    uint64_t on_disk = 0;
    for (auto& p : segments(d.path()))
        on_disk += fs::file_size(p);
    EXPECT_LE(on_disk, o.max_bytes);
    // What is left is the newest, contiguous, ending with the last append.
    auto got = drain(*s);
    ASSERT_EQ(got.size(), st.backlog);
    EXPECT_EQ(got.back(), payload(n - 1));
    EXPECT_EQ(got.front(), payload(static_cast<int>(n - got.size())));
}

TEST(Spool, OversizeRecordIsRefused) {
    TempDir d;
    SpoolOptions o;
    o.max_record = 100;
    auto s = open_spool(d.path(), o);
    std::string err;
    EXPECT_FALSE(s->append(std::string(101, 'x'), err));
    EXPECT_EQ(s->stats().rejected_oversize, 1u);
    const std::string small = "ok";
    const std::string big(200, 'y');
    const std::string_view batch[] = {small, big, small};
    EXPECT_EQ(s->append_batch(batch, err), 2u);
    EXPECT_EQ(drain(*s), (std::vector<std::string>{"ok", "ok"}));
}

TEST(Spool, OneProcessPerDirectory) {
    TempDir d;
    auto s = open_spool(d.path());
    std::string error;
    EXPECT_EQ(Spool::open(d.path(), {}, error), nullptr);
    EXPECT_NE(error.find("in use"), std::string::npos);
}

TEST(Spool, ProducerAndConsumerThreads) {
    TempDir d;
    SpoolOptions o;
    o.sync = false;
    o.segment_bytes = 4096;
    auto s = open_spool(d.path(), o);
    const int n = 20000;
    std::thread producer([&] {
        std::string err;
        for (int i = 0; i < n; i += 4) {
            std::string p[4] = {payload(i), payload(i + 1), payload(i + 2), payload(i + 3)};
            std::string_view v[4] = {p[0], p[1], p[2], p[3]};
            ASSERT_EQ(s->append_batch(v, err), 4u) << err;
        }
    });
    std::vector<SpoolRecord> batch;
    int next = 0;
    while (next < n) {
        s->read(64, 1 << 20, batch);
        for (auto& r : batch)
            ASSERT_EQ(r.payload, payload(next++));
        if (!batch.empty()) s->ack(batch.back().seq + 1);
    }
    producer.join();
    EXPECT_EQ(s->stats().backlog, 0u);
    EXPECT_EQ(s->stats().acked, static_cast<uint64_t>(n));
}

// A writer killed with SIGKILL at an arbitrary moment: every append it reported durable is
// there after recovery, and nothing that was not written whole.
TEST(Spool, KilledWriterLosesNothingItReported) {
    TempDir d;
    int pipefd[2];
    ASSERT_EQ(::pipe(pipefd), 0);
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        ::close(pipefd[0]);
        std::string err;
        auto s = Spool::open(d.path(), {}, err);
        if (!s) ::_exit(2);
        for (uint32_t i = 0;; ++i) {
            if (!s->append(payload(static_cast<int>(i)), err)) ::_exit(3);
            if (::write(pipefd[1], &i, sizeof i) != sizeof i) ::_exit(4);
        }
    }
    ::close(pipefd[1]);
    uint32_t last = 0, v;
    bool any = false;
    // Let it write for a while, then kill it mid-stream.
    const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(300);
    while (std::chrono::steady_clock::now() < until &&
           ::read(pipefd[0], &v, sizeof v) == sizeof v) {
        last = v;
        any = true;
    }
    ::kill(pid, SIGKILL);
    while (::read(pipefd[0], &v, sizeof v) == sizeof v) {
        last = v;
        any = true;
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    ::close(pipefd[0]);
    ASSERT_TRUE(any);
    auto s = open_spool(d.path());
    auto got = drain(*s);
    ASSERT_GE(got.size(), last + 1u);
    for (size_t i = 0; i < got.size(); ++i)
        ASSERT_EQ(got[i], payload(static_cast<int>(i)));
}

}  // namespace
}  // namespace sybilwatch::alerts
