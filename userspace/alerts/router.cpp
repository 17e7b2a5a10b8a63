#include "alerts/router.hpp"

namespace sybilwatch::alerts {

size_t AlertRouter::publish(const rules::Finding& f) {
    size_t n = 0;
    for (auto& s : sinks_)
        n += s->submit(f) == Sink::Outcome::Spooled;
    return n;
}

void AlertRouter::publish_batch(std::span<const rules::Finding> findings) {
    for (auto& s : sinks_)
        s->submit_batch(findings);
}

void AlertRouter::stop(std::chrono::milliseconds drain) {
    const auto deadline = std::chrono::steady_clock::now() + drain;
    for (auto& s : sinks_)
        s->request_stop(deadline);
    for (auto& s : sinks_)
        s->join();
}

std::vector<std::pair<std::string, SinkStats>> AlertRouter::stats() const {
    std::vector<std::pair<std::string, SinkStats>> v;
    v.reserve(sinks_.size());
    for (const auto& s : sinks_)
        v.emplace_back(s->name(), s->stats());
    return v;
}

}  // namespace sybilwatch::alerts
