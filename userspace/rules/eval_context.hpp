// The per-observation view that conditions, key extractors and output templates read: built
// once per observation, it precomputes the derived fields (net24, rtt_ms, gap_cv, hour, ...)
// so that every rule reads them as plain loads. Building one allocates nothing.
#pragma once

#include <cstdint>
#include <string_view>

#include "identity/attributed_observation.hpp"
#include "rules/field.hpp"

namespace sybilwatch::rules {

class EvalContext {
  public:
    explicit EvalContext(const identity::AttributedObservation& a);
    // An observation without attribution (tests, the `fingerprint` path).
    explicit EvalContext(const fingerprint::Observation& obs);

    // The typed value of a field; present == false when the observation lacks it.
    FieldValue get(FieldId id) const;

    const fingerprint::Observation& observation() const { return *obs_; }
    std::string_view account() const { return account_; }

  private:
    void derive();

    const fingerprint::Observation* obs_;
    std::string_view account_, user_agent_, request_id_;
    // Derived once: networks (masked), milliseconds, ratios and calendar fields.
    net::IpAddress net24_;
    uint8_t net24_prefix_ = 0;  // 24 (IPv4) or 48 (IPv6); 0 when src is unset
    double rtt_ms_ = -1;
    double gap_mean_ms_ = 0, gap_stddev_ms_ = 0, gap_cv_ = 0;
    bool has_gap_mean_ = false, has_gap_stddev_ = false, has_gap_cv_ = false;
    double ts_s_ = 0;
    int hour_ = 0, weekday_ = 0;
};

}  // namespace sybilwatch::rules
