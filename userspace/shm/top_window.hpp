// What `sybilwatch top` shows: the busiest JA4 fingerprints, accounts and client networks
// (/24 for IPv4, /48 for IPv6) among the observations read from the ring in a sliding window,
// with distinct counts that expose farms (one JA4 over many accounts, one account over many
// networks). Memory is bounded by max_events: past it the oldest events leave early.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "net/ip_address.hpp"
#include "shm/observation_record.hpp"

namespace sybilwatch::shm {

struct TopRow {
    std::string key;
    uint64_t count = 0;
    uint64_t distinct1 = 0;  // ja4: accounts · account: ja4s · network: accounts
    uint64_t distinct2 = 0;  // ja4: networks · account: networks · network: ja4s
};

struct TopSnapshot {
    int64_t window_ns = 0;
    uint64_t events = 0;     // observations in the window
    bool truncated = false;  // max_events reached: the window is shorter than asked
    std::vector<TopRow> ja4, accounts, networks;
};

class TopWindow {
  public:
    struct Options {
        int64_t window_ns = 60'000'000'000;
        size_t max_events = 100'000;
    };
    explicit TopWindow(const Options& opts) : opts_(opts) {}

    // An observation read at `now_ns` (the viewer's clock: monotonic, any origin).
    void add(int64_t now_ns, const ObservationRecord& r);
    // Drops what is older than the window at `now_ns`.
    void expire(int64_t now_ns);
    // The `rows` busiest keys of each kind, by count then key.
    TopSnapshot snapshot(size_t rows) const;
    size_t events() const { return events_.size(); }
    size_t keys() const { return names_.size(); }

    // "192.0.2.0/24", "2001:db8:1::/48"; empty for an unset address.
    static std::string network_of(const net::IpAddress& a);

  private:
    struct Event {
        int64_t t;
        uint64_t ja4, account, network;  // interned key ids, 0 = none
    };
    struct Name {
        std::string text;
        uint32_t refs;
    };
    uint64_t intern(char kind, std::string_view text);
    void release(uint64_t id);
    void pop_front();

    Options opts_;
    std::deque<Event> events_;
    std::unordered_map<uint64_t, Name> names_;  // id (a hash of kind and text) -> text
    bool truncated_ = false;
};

// The snapshot as a text table. Keys are another process's bytes (an account name is whatever
// the gateway logged): anything but printable ASCII is shown as '?', so nothing reaches the
// terminal as a control sequence; long keys are cut with "~".
std::string render_top(const TopSnapshot& s, std::string_view title);

}  // namespace sybilwatch::shm
