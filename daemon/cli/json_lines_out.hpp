// Observations as JSON lines on stdout: in large blocks for files, a line at a time when live.
#pragma once

#include <cstdio>
#include <string>

#include "fingerprint/engine.hpp"
#include "fingerprint/observation_json.hpp"

namespace sybilwatch::cli {

class JsonLinesOut : public fingerprint::ObservationSink {
  public:
    explicit JsonLinesOut(bool line_buffered) : line_buffered_(line_buffered) {
        buf_.reserve(kFlushBytes * 2);
    }
    ~JsonLinesOut() override { flush(); }
    void on_observation(const fingerprint::Observation& o) override {
        fingerprint::append_json(o, buf_);
        if (line_buffered_ || buf_.size() >= kFlushBytes) flush();
    }
    void flush() {
        if (!buf_.empty()) std::fwrite(buf_.data(), 1, buf_.size(), stdout);
        buf_.clear();
        std::fflush(stdout);
    }

  private:
    static constexpr size_t kFlushBytes = 1 << 16;
    std::string buf_;
    bool line_buffered_;
};

}  // namespace sybilwatch::cli
