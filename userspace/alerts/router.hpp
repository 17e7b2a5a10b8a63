// AlertRouter: fans each finding out to every sink; each sink filters, formats, spools and
// delivers on its own, so a slow or dead receiver holds up only its own sink.
#pragma once

#include <chrono>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "alerts/sink.hpp"

namespace sybilwatch::alerts {

class AlertRouter {
  public:
    void add(std::unique_ptr<Sink> sink) { sinks_.push_back(std::move(sink)); }

    // Returns how many sinks spooled it (filtered or failed ones are counted in their stats).
    size_t publish(const rules::Finding& f);
    // One group commit per sink for the batch.
    void publish_batch(std::span<const rules::Finding> findings);

    // Every sink drains within the same deadline, in parallel, then stops.
    void stop(std::chrono::milliseconds drain);

    size_t size() const { return sinks_.size(); }
    Sink& sink(size_t i) { return *sinks_[i]; }
    std::vector<std::pair<std::string, SinkStats>> stats() const;

  private:
    std::vector<std::unique_ptr<Sink>> sinks_;
};

}  // namespace sybilwatch::alerts
