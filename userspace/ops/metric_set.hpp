// A snapshot of the daemon's counters and gauges, filled by each stage (capture, engine,
// attribution, rules, sinks) and rendered for Prometheus (/metrics) and for
// `sybilwatch status` (JSON). One list, so both always show the same numbers.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sybilwatch::ops {

struct Metric {
    std::string name;  // sybilwatch_..., with _total for counters
    std::string help;
    bool gauge = false;
    std::vector<std::pair<std::string, std::string>> labels;
    double value = 0;
};

class MetricSet {
  public:
    void counter(std::string_view name, std::string_view help, double value,
                 std::initializer_list<std::pair<std::string_view, std::string_view>> labels = {});
    void gauge(std::string_view name, std::string_view help, double value,
               std::initializer_list<std::pair<std::string_view, std::string_view>> labels = {});

    const std::vector<Metric>& metrics() const { return m_; }
    // The first sample of `name` with these labels (all of them), or nullptr.
    const Metric* find(
        std::string_view name,
        std::initializer_list<std::pair<std::string_view, std::string_view>> labels = {}) const;
    void clear() { m_.clear(); }

    // Prometheus text format: samples of one name grouped under one HELP/TYPE.
    std::string prometheus() const;

  private:
    void add(std::string_view name, std::string_view help, bool gauge, double value,
             std::initializer_list<std::pair<std::string_view, std::string_view>> labels);
    std::vector<Metric> m_;
};

}  // namespace sybilwatch::ops
