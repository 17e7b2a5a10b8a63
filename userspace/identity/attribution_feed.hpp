// The attribution input of the pipeline: lines from any source (socket, datagram socket, file)
// are parsed, counted by outcome, and the accepted records go to the joiner.
//
// Replaying a capture with its identity log, the log is read far ahead of the packets. Handed to
// the joiner at once, every record of a client address and port would be waiting before the
// first of its connections came, and a port reused by a later connection for another account
// would look like a conflict. So when replaying, records are held (in a bounded ring, in log
// order) until the packets' clock reaches their time, as they would reach the joiner live.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "identity/attribution_record.hpp"
#include "identity/joiner.hpp"
#include "identity/line_sink.hpp"
#include "identity/record_parser.hpp"

namespace sybilwatch::identity {

class AttributionFeed : public LineSink {
  public:
    explicit AttributionFeed(Joiner& joiner, size_t max_line = RecordParser::kDefaultMaxLine)
        : joiner_(joiner), parser_(max_line) {}

    // Holds up to `capacity` records until release() reaches their time; when more come, the
    // oldest goes to the joiner early (nothing is dropped). 0: records go on at once.
    void hold_until_clock(size_t capacity) {
        held_.assign(capacity, AttributionRecord{});
        head_ = count_ = 0;
    }

    void on_line(std::string_view line) override {
        if (parser_.parse(line, record_) != ParseResult::Ok) return;
        if (held_.empty()) {
            joiner_.on_attribution(record_);
            return;
        }
        if (count_ == held_.size()) pop();
        held_[(head_ + count_) % held_.size()] = record_;  // the slot's strings keep capacity
        ++count_;
    }
    void on_line_too_long() override { parser_.count_too_long(); }

    // Passes on the held records whose time is at or before now_ns.
    void release(int64_t now_ns) {
        while (count_ != 0 && held_[head_].ts_ns() <= now_ns)
            pop();
    }
    void release_all() {
        while (count_ != 0)
            pop();
    }
    size_t held() const { return count_; }

    const ParseStats& parse_stats() const { return parser_.stats(); }

  private:
    void pop() {
        joiner_.on_attribution(held_[head_]);
        head_ = (head_ + 1) % held_.size();
        --count_;
    }

    Joiner& joiner_;
    RecordParser parser_;
    AttributionRecord record_;  // reused: its strings keep their capacity
    std::vector<AttributionRecord> held_;
    size_t head_ = 0, count_ = 0;
};

}  // namespace sybilwatch::identity
