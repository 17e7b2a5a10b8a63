// OCSF Detection Finding (class 2004, category 2 Findings), schema 1.4.0: the first release
// whose evidences object carries ja4_fingerprint_list (ocsf/ocsf-schema PR #1244; the
// ja4_fingerprint object itself came in 1.3.0, PR #1082).
//
// Mapping (docs/alerts.md has an example):
//   activity_id      1 Create / 2 Update / 3 Close  (Finding::activity)
//   type_uid         class_uid * 100 + activity_id
//   severity_id      Info 1, Low 2, Medium 3, High 4, Critical 5
//   time             when this revision was raised (emitted_ns; last_seen_ns if unset), ms
//   start/end_time   first/last connection behind the finding, ms
//   finding_info     uid = finding_id (stable across revisions: the de-duplication key),
//                    analytic = the rule (type_id 1 Rule)
//   evidences        one per sample connection: src/dst endpoints, the account as user,
//                    ja4_fingerprint_list (JA4 type_id 1, JA4T type_id 7)
//   observables      the sample connections' source IPs (type_id 2) and accounts (type_id 4)
//   unmapped         {"sybilwatch": the native finding object}: every account, key and count
#pragma once

#include <string>

#include "alerts/format.hpp"

namespace sybilwatch::alerts {

inline constexpr const char* kOcsfVersion = "1.4.0";
inline constexpr int kOcsfDetectionFindingClass = 2004;
inline constexpr int kOcsfFindingsCategory = 2;

int ocsf_severity_id(rules::Severity s);
int ocsf_activity_id(rules::FindingActivity a);

void render_ocsf_detection_finding(const rules::Finding& f, std::string& out,
                                   const FormatOptions& o = {});

}  // namespace sybilwatch::alerts
