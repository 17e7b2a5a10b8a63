// The attribution input of the pipeline: lines from any source (socket, datagram socket, file)
// are parsed, counted by outcome, and the accepted records go to the joiner.
#pragma once

#include <cstddef>

#include "identity/attribution_record.hpp"
#include "identity/joiner.hpp"
#include "identity/line_sink.hpp"
#include "identity/record_parser.hpp"

namespace sybilwatch::identity {

class AttributionFeed : public LineSink {
  public:
    explicit AttributionFeed(Joiner& joiner, size_t max_line = RecordParser::kDefaultMaxLine)
        : joiner_(joiner), parser_(max_line) {}

    void on_line(std::string_view line) override {
        if (parser_.parse(line, record_) == ParseResult::Ok) joiner_.on_attribution(record_);
    }
    void on_line_too_long() override { parser_.count_too_long(); }

    const ParseStats& parse_stats() const { return parser_.stats(); }

  private:
    Joiner& joiner_;
    RecordParser parser_;
    AttributionRecord record_;  // reused: its strings keep their capacity
};

}  // namespace sybilwatch::identity
