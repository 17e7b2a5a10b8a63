// sybilwatch top: a live table of the busiest fingerprints, accounts and networks in the
// daemon's shared-memory ring.
#include <getopt.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include "commands.hpp"
#include "shm/ring_error.hpp"
#include "shm/ring_follower.hpp"
#include "shm/top_window.hpp"
#include "stop_signal.hpp"

namespace sybilwatch::cli {

namespace {

void usage(FILE* out) {
    std::fputs(
        "usage: sybilwatch top [--ring NAME] [--interval S] [--window S] [--once]\n"
        "\n"
        "A live table of the busiest JA4 fingerprints, accounts and client networks (/24 for\n"
        "IPv4, /48 for IPv6) among the observations of sybilwatchd's shared-memory ring in a\n"
        "sliding window, with distinct counts: accounts and networks per JA4, JA4s and\n"
        "networks per account, accounts and JA4s per network. It starts with the records\n"
        "already in the ring (counted as just arrived).\n"
        "\n"
        "options:\n"
        "  --ring NAME        the ring (default sybilwatch: /dev/shm/sybilwatch-observations)\n"
        "  --interval S       seconds between redraws (default 2)\n"
        "  --window S         seconds of observations counted (default 60)\n"
        "  --rows N           rows per table (default 10)\n"
        "  --max-events N     observations kept at most (default 100000; bounds memory)\n"
        "  --once             print one snapshot of the ring's records and exit\n"
        "\n"
        "exit status: 0 done; 1 the ring cannot be read; 64 bad arguments\n",
        out);
}

bool parse_seconds(const char* s, double& out) {
    char* end = nullptr;
    const double v = std::strtod(s, &end);
    if (!end || *end || end == s || !(v > 0) || v > 86400 * 365) return false;
    out = v;
    return true;
}

bool parse_count(const char* s, uint64_t max, uint64_t& out) {
    char* end = nullptr;
    const unsigned long long v = std::strtoull(s, &end, 10);
    if (!end || *end || end == s || s[0] == '-' || v == 0 || v > max) return false;
    out = v;
    return true;
}

int64_t steady_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

}  // namespace

int top_command(int argc, char** argv) {
    std::string ring(shm::kDefaultRing);
    double interval = 2, window = 60;
    uint64_t rows = 10, max_events = 100'000;
    bool once = false;
    enum { kRing = 1000, kInterval, kWindow, kRows, kMaxEvents, kOnce };
    static const option opts[] = {
        {"ring", required_argument, nullptr, kRing},
        {"interval", required_argument, nullptr, kInterval},
        {"window", required_argument, nullptr, kWindow},
        {"rows", required_argument, nullptr, kRows},
        {"max-events", required_argument, nullptr, kMaxEvents},
        {"once", no_argument, nullptr, kOnce},
        {"help", no_argument, nullptr, 'h'},
        {nullptr, 0, nullptr, 0},
    };
    optind = 1;
    for (int c; (c = getopt_long(argc, argv, "h", opts, nullptr)) != -1;) {
        bool ok = true;
        switch (c) {
            case kRing:
                ring = optarg;
                break;
            case kInterval:
                ok = parse_seconds(optarg, interval);
                break;
            case kWindow:
                ok = parse_seconds(optarg, window);
                break;
            case kRows:
                ok = parse_count(optarg, 1000, rows);
                break;
            case kMaxEvents:
                ok = parse_count(optarg, 10'000'000, max_events);
                break;
            case kOnce:
                once = true;
                break;
            case 'h':
                usage(stdout);
                return 0;
            default:
                usage(stderr);
                return 64;
        }
        if (!ok) {
            std::fprintf(stderr, "sybilwatch top: bad value '%s' for --%s\n", optarg,
                         opts[c - kRing].name);
            return 64;
        }
    }
    if (optind != argc) {
        usage(stderr);
        return 64;
    }

    catch_stop_signals();
    const bool tty = ::isatty(STDOUT_FILENO);
    shm::TopWindow win({static_cast<int64_t>(window * 1e9), static_cast<size_t>(max_events)});
    uint64_t missed = 0;

    try {
        shm::RingFollower follower(ring);
        if (follower.refresh() != shm::RingFollower::Change::Attached) {
            if (once) {
                shm::Reader probe(ring);  // throws why: not there, or not ready
            }
            std::fprintf(stderr, "sybilwatch top: waiting for %s\n", follower.path().c_str());
            while (!stop_requested() && follower.refresh() != shm::RingFollower::Change::Attached)
                std::this_thread::sleep_for(std::chrono::milliseconds(200));
            if (stop_requested()) return 0;
        }
        follower.reader()->cursor().seek_oldest();

        auto take = [&](const shm::ObservationRecord& r, uint64_t) { win.add(steady_ns(), r); };
        auto draw = [&] {
            win.expire(steady_ns());
            shm::Reader& rd = *follower.reader();
            const shm::RingInfo info = rd.info();
            char title[512];
            std::snprintf(
                title, sizeof title, "%s, writer pid %u (%s), %llu published, %llu missed",
                follower.path().c_str(), info.writer_pid, rd.writer_alive() ? "running" : "gone",
                static_cast<unsigned long long>(info.write_index),
                static_cast<unsigned long long>(missed));
            std::string frame = tty && !once ? "\x1b[H\x1b[2J" : "";
            frame += shm::render_top(win.snapshot(rows), title);
            std::fwrite(frame.data(), 1, frame.size(), stdout);
            std::fflush(stdout);
        };

        if (once) {
            // The records in the ring now, not what keeps arriving.
            shm::Reader& rd = *follower.reader();
            const uint64_t end = rd.info().write_index;
            shm::ObservationRecord rec;
            while (rd.cursor().position() < end) {
                const shm::ReadResult x = rd.next(rec);
                if (x.status == shm::ReadStatus::Empty) break;
                if (x.status == shm::ReadStatus::Overrun)
                    missed += x.missed;
                else
                    take(rec, x.sequence);
            }
            draw();
            return 0;
        }

        const auto period = std::chrono::milliseconds(static_cast<int64_t>(interval * 1000));
        auto next_draw = std::chrono::steady_clock::now();
        while (!stop_requested()) {
            const shm::PollResult p = follower.reader()->poll(4096, take);
            missed += p.missed;
            const auto now = std::chrono::steady_clock::now();
            if (now >= next_draw) {
                draw();
                next_draw = now + period;
                // A restarted daemon: carry on with its new ring (once the old one is drained).
                if (!p.delivered) follower.refresh();
            }
            if (!p.delivered) std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
    } catch (const shm::RingError& e) {
        std::fprintf(stderr, "sybilwatch top: error: %s\n", e.what());
        return 1;
    }
    return 0;
}

}  // namespace sybilwatch::cli
