#include "ops/metric_set.hpp"

#include <string>
#include <unordered_set>

#include "ops/prometheus_text.hpp"

namespace sybilwatch::ops {

void MetricSet::add(std::string_view name, std::string_view help, bool gauge, double value,
                    std::initializer_list<std::pair<std::string_view, std::string_view>> labels) {
    Metric m;
    m.name = name;
    m.help = help;
    m.gauge = gauge;
    m.value = value;
    for (const auto& [k, v] : labels)
        m.labels.emplace_back(k, v);
    m_.push_back(std::move(m));
}

void MetricSet::counter(
    std::string_view name, std::string_view help, double value,
    std::initializer_list<std::pair<std::string_view, std::string_view>> labels) {
    add(name, help, false, value, labels);
}

void MetricSet::gauge(std::string_view name, std::string_view help, double value,
                      std::initializer_list<std::pair<std::string_view, std::string_view>> labels) {
    add(name, help, true, value, labels);
}

const Metric* MetricSet::find(
    std::string_view name,
    std::initializer_list<std::pair<std::string_view, std::string_view>> labels) const {
    for (const auto& m : m_) {
        if (m.name != name) continue;
        bool all = true;
        for (const auto& [k, v] : labels) {
            bool found = false;
            for (const auto& [mk, mv] : m.labels)
                found = found || (mk == k && mv == v);
            all = all && found;
        }
        if (all) return &m;
    }
    return nullptr;
}

std::string MetricSet::prometheus() const {
    PrometheusText out;
    std::unordered_set<std::string_view> done;
    for (size_t i = 0; i < m_.size(); ++i) {
        if (!done.insert(m_[i].name).second) continue;
        out.family(m_[i].name, m_[i].gauge ? "gauge" : "counter", m_[i].help);
        for (size_t j = i; j < m_.size(); ++j) {
            const Metric& m = m_[j];
            if (m.name != m_[i].name) continue;
            out.sample(m.name, m.value, m.labels);
        }
    }
    return out.take();
}

}  // namespace sybilwatch::ops
