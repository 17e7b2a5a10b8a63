#include "rules/observation_batch.hpp"

#include <algorithm>

namespace sybilwatch::rules {

ObservationBatch::ObservationBatch(size_t capacity) : items_(std::max<size_t>(capacity, 1)) {
    views_.reserve(items_.size());
}

bool ObservationBatch::add(const identity::AttributedObservation& a) {
    Item& it = items_.at(views_.size());  // throws if added to while full
    it.obs = a.obs;
    it.account.assign(a.account);
    it.user_agent.assign(a.user_agent);
    it.request_id.assign(a.request_id);
    views_.push_back(identity::AttributedObservation{it.obs, it.account, it.user_agent,
                                                     it.request_id, a.record_ts});
    return views_.size() == items_.size();
}

}  // namespace sybilwatch::rules
