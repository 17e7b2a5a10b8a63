// ObservationBatch: attributed observations copied into storage the batch owns, for callers
// that receive them one at a time with references valid only during the call (the daemon's
// rules stage, replay) and hand them to Engine::observe(span) in bulk. The storage is reused:
// once its strings have grown to the longest values seen, adding allocates nothing.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "fingerprint/observation.hpp"
#include "identity/attributed_observation.hpp"

namespace sybilwatch::rules {

class ObservationBatch {
  public:
    static constexpr size_t kDefaultCapacity = 32;

    explicit ObservationBatch(size_t capacity = kDefaultCapacity);
    ObservationBatch(const ObservationBatch&) = delete;  // the views point into items_
    ObservationBatch& operator=(const ObservationBatch&) = delete;

    // Copies `a` in; true when the batch is now full (the caller observes and clears it).
    bool add(const identity::AttributedObservation& a);
    // The observations added since the last clear(), in order; valid until clear().
    std::span<const identity::AttributedObservation> view() const { return views_; }
    void clear() { views_.clear(); }
    size_t size() const { return views_.size(); }
    bool empty() const { return views_.empty(); }
    size_t capacity() const { return items_.size(); }

  private:
    struct Item {
        fingerprint::Observation obs;
        std::string account, user_agent, request_id;
    };
    std::vector<Item> items_;  // never resized: views_ point into it
    std::vector<identity::AttributedObservation> views_;
};

}  // namespace sybilwatch::rules
