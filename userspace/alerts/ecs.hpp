// ECS-style JSON for Elastic (ECS 8.x field names). One document per finding revision:
//   @timestamp, message, event.{kind=alert, category, type, action, id, severity,
//   risk_score, start, end, duration, dataset, module}, rule.{id, name, description,
//   category, ruleset}, source.{ip, port}, destination.{ip, port, domain},
//   tls.client.{server_name, ja3}, user.{id, name}, user_agent.original (the first sample
//   connection), related.{user, ip, hosts, hash} (all of them), observer.*, tags, and
//   sybilwatch.* for what ECS has no field for: sybilwatch.ja4 (JA4 is not an ECS field:
//   a custom keyword, documented in docs/alerts.md), sybilwatch.ja4t, sybilwatch.tcp_sig and
//   the whole native finding (accounts, keys, counts, samples).
#pragma once

#include <string>

#include "alerts/format.hpp"

namespace sybilwatch::alerts {

inline constexpr const char* kEcsVersion = "8.11.0";

void render_ecs(const rules::Finding& f, std::string& out, const FormatOptions& o = {});

}  // namespace sybilwatch::alerts
