// The default rule pack (rules/ in the source tree: lists, macros and the farm rules, without
// their tests), compiled into the binary by cmake/embed_rules.cmake. sybilwatchd runs it when
// no rule paths are configured, so a fresh install detects farms with no files to deploy.
#pragma once

#include <span>

#include "rules/rule_loader.hpp"

namespace sybilwatch::rules {

// The pack's files, by path ("rules/macros.yaml", ...), in name order: pass to
// load_rules_text().
std::span<const RuleSource> default_pack();

}  // namespace sybilwatch::rules
