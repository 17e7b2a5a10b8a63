#include "identity/file_tail.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <set>
#include <thread>

#include "sinks.hpp"
#include "socket_test_util.hpp"

using namespace sybilwatch::identity;
using namespace sybilwatch::identity::test;

namespace {

FileTailConfig config(const std::string& path, bool from_start = false) {
    FileTailConfig c;
    c.path = path;
    c.from_start = from_start;
    c.rotate_grace_ms = 300;
    c.max_line = 1024;
    return c;
}

void append(const std::string& path, std::string_view text) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    ASSERT_GE(fd, 0);
    write_all(fd, text);
    ::close(fd);
}

}  // namespace

TEST(FileTail, StartsAtEndAndFollowsAppends) {
    TempDir dir;
    const std::string path = dir.file("attribution.log");
    append(path, "old 1\nold 2\n");
    FileTail tail(config(path));
    Lines out;
    EXPECT_EQ(tail.poll(out), 0u);
    EXPECT_TRUE(tail.is_open());
    append(path, "new 1\nnew ");
    EXPECT_EQ(tail.poll(out), 1u);
    append(path, "2\n");
    EXPECT_EQ(tail.poll(out), 1u);
    EXPECT_EQ(out.lines, (std::vector<std::string>{"new 1", "new 2"}));
    EXPECT_EQ(tail.stats().opens, 1u);
}

TEST(FileTail, FromStartReadsExistingLines) {
    TempDir dir;
    const std::string path = dir.file("a.log");
    append(path, "old 1\nold 2\n");
    FileTail tail(config(path, true));
    Lines out;
    EXPECT_EQ(tail.poll(out), 2u);
}

TEST(FileTail, JoinedMidLineSkipsThePartialLine) {
    TempDir dir;
    const std::string path = dir.file("a.log");
    append(path, "complete\n{\"half\":");
    FileTail tail(config(path));
    Lines out;
    tail.poll(out);
    append(path, "1}\nnext\n");
    tail.poll(out);
    EXPECT_EQ(out.lines, (std::vector<std::string>{"next"}));
}

TEST(FileTail, FileCreatedLaterIsReadFromItsStart) {
    TempDir dir;
    const std::string path = dir.file("later.log");
    FileTail tail(config(path));
    Lines out;
    EXPECT_EQ(tail.poll(out), 0u);
    EXPECT_FALSE(tail.is_open());
    append(path, "first\nsecond\n");
    EXPECT_EQ(tail.poll(out), 2u);
    EXPECT_TRUE(tail.is_open());
    // And a directory that does not exist yet is no error either.
    FileTail nodir(config(dir.file("no/such/dir.log")));
    EXPECT_EQ(nodir.poll(out), 0u);
}

TEST(FileTail, CopyTruncateRestartsAtOffsetZero) {
    TempDir dir;
    const std::string path = dir.file("a.log");
    FileTail tail(config(path));
    Lines out;
    append(path, "line-0001\nline-0002\nline-0003\n");  // 30 bytes
    EXPECT_EQ(tail.poll(out), 3u);

    ASSERT_EQ(::truncate(path.c_str(), 0), 0);  // what logrotate's copytruncate does after the copy
    append(path, "n1\n");                       // shorter than what was read
    EXPECT_EQ(tail.poll(out), 1u);
    EXPECT_EQ(out.lines.back(), "n1");
    EXPECT_EQ(tail.stats().truncations, 1u);

    // Truncated and written past the old position before the next poll: the size does not
    // shrink, but the byte before our position is no longer the newline we read there.
    ASSERT_EQ(::truncate(path.c_str(), 0), 0);
    for (int i = 0; i < 10; ++i)
        append(path, "new-0" + std::to_string(i) + "\n");  // 7 bytes each
    EXPECT_EQ(tail.poll(out), 10u);
    EXPECT_EQ(out.lines.back(), "new-09");
    EXPECT_EQ(out.lines[out.lines.size() - 10], "new-00");
    EXPECT_EQ(tail.stats().truncations, 2u);
    EXPECT_EQ(tail.stats().rotations, 0u);
}

TEST(FileTail, DeletedThenRecreated) {
    TempDir dir;
    const std::string path = dir.file("a.log");
    append(path, "");
    FileTail tail(config(path));
    Lines out;
    tail.poll(out);
    append(path, "before\n");
    ASSERT_EQ(::unlink(path.c_str()), 0);
    EXPECT_EQ(tail.poll(out), 1u);  // read to its end although it is gone
    EXPECT_FALSE(tail.is_open());
    append(path, "after\n");
    EXPECT_EQ(tail.poll(out), 1u);
    EXPECT_EQ(out.lines, (std::vector<std::string>{"before", "after"}));
    EXPECT_EQ(tail.stats().rotations, 1u);
    EXPECT_EQ(tail.stats().opens, 2u);
}

TEST(FileTail, OverlongLineDroppedNextKept) {
    TempDir dir;
    const std::string path = dir.file("a.log");
    FileTail tail(config(path));
    Lines out;
    append(path, std::string(3000, 'x') + "\nshort\n");
    tail.poll(out);
    EXPECT_EQ(out.lines, (std::vector<std::string>{"short"}));
    EXPECT_EQ(out.too_long, 1);
    EXPECT_EQ(tail.stats().too_long, 1u);
}

TEST(FileTail, InotifyDescriptorWakesOnAppend) {
    TempDir dir;
    const std::string path = dir.file("a.log");
    append(path, "");
    FileTail tail(config(path));
    Lines out;
    tail.poll(out);
    ASSERT_GE(tail.fd(), 0);
    pollfd p{tail.fd(), POLLIN, 0};
    EXPECT_EQ(::poll(&p, 1, 0), 0);
    append(path, "x\n");
    EXPECT_EQ(::poll(&p, 1, 1000), 1);
    EXPECT_EQ(tail.poll(0, out), 1u);
    EXPECT_EQ(::poll(&p, 1, 0), 0);  // drained
}

// logrotate's default: rename the file away (older ones shifted first), then the writer
// reopens the path, as nginx does on USR1, some lines later. The writer does not stop.
TEST(FileTail, RenameRotationUnderContinuousWritingLosesAndRepeatsNothing) {
    TempDir dir;
    const std::string path = dir.file("attribution.log");
    append(path, "");
    FileTail tail(config(path));
    Lines out;
    tail.poll(out);

    constexpr int kLines = 20000;
    constexpr int kRotateEvery = 3000;
    constexpr int kLinesAfterRename = 40;  // written to the renamed file before the reopen
    std::atomic<bool> done{false};
    std::thread writer([&] {
        int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
        int reopen_in = -1, generation = 0;
        for (int i = 0; i < kLines; ++i) {
            const std::string line = "{\"seq\":" + std::to_string(i) + ",\"pad\":\"" +
                                     std::string(static_cast<size_t>(i % 50), 'p') + "\"}\n";
            // Half the lines in two writes: the reader must cope with a line in progress.
            if (i % 2) {
                write_all(fd, std::string_view(line).substr(0, line.size() / 2));
                write_all(fd, std::string_view(line).substr(line.size() / 2));
            } else {
                write_all(fd, line);
            }
            if (i % kRotateEvery == kRotateEvery - 1) {
                ++generation;
                for (int g = generation; g > 1; --g)
                    std::rename((path + "." + std::to_string(g - 1)).c_str(),
                                (path + "." + std::to_string(g)).c_str());
                std::rename(path.c_str(), (path + ".1").c_str());
                reopen_in = kLinesAfterRename;
            }
            if (reopen_in >= 0 && reopen_in-- == 0) {
                ::close(fd);
                fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
            }
            if (i % 200 == 0) std::this_thread::sleep_for(std::chrono::microseconds(300));
        }
        ::close(fd);
        done = true;
    });
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline &&
           (out.lines.size() < size_t(kLines) || !done))
        tail.poll(2, out);
    writer.join();
    // A little longer: anything beyond kLines would be a duplicate.
    for (int i = 0; i < 20; ++i)
        tail.poll(out);

    ASSERT_EQ(out.lines.size(), size_t(kLines));
    // Each line once. (Across a rotation, lines of the old and the new file can come out of
    // order when the writer switches between our reads of the two; within a file they cannot.)
    std::set<int> seen;
    size_t out_of_order = 0;
    int prev = -1;
    for (const std::string& l : out.lines) {
        ASSERT_EQ(l.rfind("{\"seq\":", 0), 0u) << l;
        const int seq = std::stoi(l.substr(7));
        EXPECT_TRUE(seen.insert(seq).second) << "duplicate " << seq;
        out_of_order += seq < prev;
        prev = seq;
    }
    EXPECT_EQ(seen.size(), size_t(kLines));
    EXPECT_EQ(*seen.begin(), 0);
    EXPECT_EQ(*seen.rbegin(), kLines - 1);
    EXPECT_LE(out_of_order, size_t(kLines / kRotateEvery));
    EXPECT_EQ(out.too_long, 0);
    EXPECT_EQ(tail.stats().rotations, uint64_t(kLines / kRotateEvery));
    EXPECT_EQ(tail.stats().truncations, 0u);
}

TEST(FileTail, RenamedFileClosedAfterGrace) {
    TempDir dir;
    const std::string path = dir.file("a.log");
    append(path, "");
    auto cfg = config(path);
    cfg.rotate_grace_ms = 50;
    FileTail tail(cfg);
    Lines out;
    tail.poll(out);
    std::rename(path.c_str(), (path + ".1").c_str());
    append(path, "new\n");
    tail.poll(out);
    EXPECT_TRUE(tail.draining_rotated());
    append(path + ".1", "late write to the old file\n");
    tail.poll(out);
    EXPECT_EQ(out.lines, (std::vector<std::string>{"new", "late write to the old file"}));
    std::this_thread::sleep_for(std::chrono::milliseconds(80));
    tail.poll(out);
    EXPECT_FALSE(tail.draining_rotated());
}
