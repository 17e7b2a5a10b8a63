// sybilwatch tail: observations from the daemon's shared-memory ring as JSON lines.
#include <getopt.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include "commands.hpp"
#include "fingerprint/observation_json.hpp"
#include "shm/ring_error.hpp"
#include "shm/ring_follower.hpp"
#include "stop_signal.hpp"

namespace sybilwatch::cli {

namespace {

void usage(FILE* out) {
    std::fputs(
        "usage: sybilwatch tail [--ring NAME] [--count N | --from-start] [--follow]\n"
        "\n"
        "Prints the observations of sybilwatchd's shared-memory ring as JSON lines (the\n"
        "`sybilwatch fingerprint` format without the raw strings ja4_r, ja4_ro, ja3_full,\n"
        "ja4s_r, plus account and user_agent when attributed). Like tail(1): the last N\n"
        "records, then with --follow every new one until interrupted. A reader that falls\n"
        "behind prints 'missed N observations' to stderr and carries on; it never slows the\n"
        "daemon.\n"
        "\n"
        "options:\n"
        "  --ring NAME     the ring (default sybilwatch: /dev/shm/sybilwatch-observations)\n"
        "  -n, --count N   start with the last N records in the ring (default 10)\n"
        "  --from-start    start with the oldest record still in the ring\n"
        "  -f, --follow    then print new records as they come; waits for the ring to\n"
        "                  appear and follows it across daemon restarts\n"
        "  --seconds S     with --follow: stop after S seconds\n"
        "\n"
        "exit status: 0 done; 1 the ring cannot be read; 64 bad arguments\n",
        out);
}

bool parse_u64(const char* s, uint64_t& out) {
    char* end = nullptr;
    errno = 0;
    const unsigned long long v = std::strtoull(s, &end, 10);
    if (!end || *end || end == s || errno || s[0] == '-') return false;
    out = v;
    return true;
}

// Appends a record as the JSON line of `sybilwatch fingerprint`, with its attribution.
class LineWriter {
  public:
    void add(const shm::ObservationRecord& r) {
        if (!shm::to_observation(r, obs_)) ++malformed_;
        fingerprint::append_json(obs_, buf_);
        const std::string_view account = shm::account_of(r), ua = shm::user_agent_of(r);
        if (!account.empty() || !ua.empty()) {
            buf_.resize(buf_.size() - 2);  // append_json ends the object with "}\n"
            if (!account.empty()) {
                buf_ += ",\"account\":";
                fingerprint::append_json_string(account, buf_);
            }
            if (!ua.empty()) {
                buf_ += ",\"user_agent\":";
                fingerprint::append_json_string(ua, buf_);
            }
            buf_ += "}\n";
        }
        if (buf_.size() >= (1 << 16)) flush();
    }
    void flush() {
        if (!buf_.empty()) std::fwrite(buf_.data(), 1, buf_.size(), stdout);
        buf_.clear();
        std::fflush(stdout);
    }
    uint64_t malformed() const { return malformed_; }

  private:
    fingerprint::Observation obs_;
    std::string buf_;
    uint64_t malformed_ = 0;
};

void report_missed(uint64_t n) {
    if (n)
        std::fprintf(stderr,
                     "sybilwatch tail: missed %llu observations (the writer overran this reader)\n",
                     static_cast<unsigned long long>(n));
}

}  // namespace

int tail_command(int argc, char** argv) {
    std::string ring(shm::kDefaultRing);
    uint64_t count = 10;
    bool count_given = false, from_start = false, follow = false;
    double seconds = 0;
    enum { kRing = 1000, kFromStart, kSeconds };
    static const option opts[] = {
        {"ring", required_argument, nullptr, kRing},
        {"count", required_argument, nullptr, 'n'},
        {"from-start", no_argument, nullptr, kFromStart},
        {"follow", no_argument, nullptr, 'f'},
        {"seconds", required_argument, nullptr, kSeconds},
        {"help", no_argument, nullptr, 'h'},
        {nullptr, 0, nullptr, 0},
    };
    optind = 1;
    for (int c; (c = getopt_long(argc, argv, "hfn:", opts, nullptr)) != -1;) {
        switch (c) {
            case kRing:
                ring = optarg;
                break;
            case 'n':
                if (!parse_u64(optarg, count)) {
                    std::fprintf(stderr, "sybilwatch tail: --count takes a number\n");
                    return 64;
                }
                count_given = true;
                break;
            case kFromStart:
                from_start = true;
                break;
            case 'f':
                follow = true;
                break;
            case kSeconds: {
                char* end = nullptr;
                seconds = std::strtod(optarg, &end);
                if (!end || *end || !(seconds > 0)) {
                    std::fprintf(stderr, "sybilwatch tail: --seconds takes a positive number\n");
                    return 64;
                }
                break;
            }
            case 'h':
                usage(stdout);
                return 0;
            default:
                usage(stderr);
                return 64;
        }
    }
    if (optind != argc || (from_start && count_given)) {
        if (from_start && count_given)
            std::fprintf(stderr, "sybilwatch tail: --count and --from-start exclude each other\n");
        usage(stderr);
        return 64;
    }

    catch_stop_signals();
    const RunFor run(seconds);
    auto done = [&] { return run.done(); };

    LineWriter out;
    auto print = [&](const shm::ObservationRecord& r, uint64_t) { out.add(r); };
    auto seek = [&](shm::Reader& rd) {
        if (from_start)
            rd.cursor().seek_oldest();
        else
            rd.cursor().seek_back(count);
    };
    try {
        if (!follow) {
            shm::Reader rd(ring);  // a missing ring is an error here, not something to wait for
            seek(rd);
            // What is in the ring now, not what keeps arriving while we print.
            const uint64_t end = rd.info().write_index;
            uint64_t missed = 0;
            shm::ObservationRecord rec;
            while (rd.cursor().position() < end) {
                const shm::ReadResult x = rd.next(rec);
                if (x.status == shm::ReadStatus::Empty) break;
                if (x.status == shm::ReadStatus::Overrun)
                    missed += x.missed;
                else
                    print(rec, x.sequence);
            }
            out.flush();
            report_missed(missed);
        } else {
            shm::RingFollower follower(ring);
            if (follower.refresh() == shm::RingFollower::Change::Attached) {
                seek(*follower.reader());
            } else {
                std::fprintf(stderr, "sybilwatch tail: waiting for %s\n", follower.path().c_str());
                while (!done() && follower.refresh() != shm::RingFollower::Change::Attached)
                    std::this_thread::sleep_for(std::chrono::milliseconds(200));
                if (done()) return 0;
                follower.reader()->cursor().seek_oldest();  // all of it appeared while we waited
            }
            auto last_check = std::chrono::steady_clock::now();
            while (!done()) {
                const shm::PollResult p = follower.reader()->poll(1024, print);
                report_missed(p.missed);
                if (p.delivered) {
                    out.flush();
                    continue;
                }
                // Idle: look for a restarted daemon now and then (two system calls).
                const auto now = std::chrono::steady_clock::now();
                if (now - last_check >= std::chrono::milliseconds(500)) {
                    last_check = now;
                    switch (follower.refresh()) {
                        case shm::RingFollower::Change::Replaced:
                            std::fprintf(stderr,
                                         "sybilwatch tail: %s was replaced (writer pid %u); "
                                         "following the new ring\n",
                                         follower.path().c_str(),
                                         follower.reader()->info().writer_pid);
                            break;
                        case shm::RingFollower::Change::Closed:
                            std::fprintf(stderr,
                                         "sybilwatch tail: the writer closed %s; waiting for a "
                                         "new one\n",
                                         follower.path().c_str());
                            break;
                        default:
                            break;
                    }
                }
                std::this_thread::sleep_for(std::chrono::milliseconds(20));
            }
            out.flush();
        }
    } catch (const shm::RingError& e) {
        out.flush();
        std::fprintf(stderr, "sybilwatch tail: error: %s\n", e.what());
        return 1;
    }
    if (out.malformed())
        std::fprintf(stderr,
                     "sybilwatch tail: %llu malformed records (out-of-range fields were reset)\n",
                     static_cast<unsigned long long>(out.malformed()));
    return 0;
}

}  // namespace sybilwatch::cli
