// Prometheus text exposition format 0.0.4: metric families with HELP and TYPE lines, samples
// with escaped label values. The daemon renders its counters through this on each scrape.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <utility>

namespace sybilwatch::ops {

class PrometheusText {
  public:
    using Label = std::pair<std::string, std::string>;

    // Starts a family; its samples follow. type: "counter" or "gauge".
    void family(std::string_view name, std::string_view type, std::string_view help);
    void sample(std::string_view name, double value, std::span<const Label> labels = {});

    const std::string& text() const { return out_; }
    std::string take() { return std::move(out_); }

  private:
    std::string out_;
};

}  // namespace sybilwatch::ops
