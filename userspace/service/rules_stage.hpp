// The stages after attribution in sybilwatchd: the rules engine over every attributed
// observation, and its findings to the configured outputs (the findings file and stdout, each an
// alerts::Sink with its own on-disk spool, so a full disk or a closed pipe loses nothing that
// was raised). Its state (windows, clusters, open findings) is what the daemon saves.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "alerts/router.hpp"
#include "config/daemon_config.hpp"
#include "rules/engine.hpp"
#include "service/daemon.hpp"
#include "service/state_provider.hpp"

namespace sybilwatch::service {

// A rule pack that does not load: every diagnostic, "FILE:LINE:COL: rule ID: message".
class RulesError : public std::runtime_error {
  public:
    explicit RulesError(const std::vector<rules::Diagnostic>& errors);
};

// The rule set the config names (rules.paths), or the built-in default pack. Throws RulesError.
std::shared_ptr<const rules::RuleSet> load_configured_rules(const config::DaemonConfig& cfg);

class RulesStage : public Downstream, private StateProvider, private rules::FindingSink {
  public:
    // Loads the rules and opens the outputs; throws RulesError or std::runtime_error.
    explicit RulesStage(const config::DaemonConfig& cfg);
    ~RulesStage() override;

    void on_attributed(const identity::AttributedObservation& a) override;
    void tick(int64_t now_ns) override;
    void reconfigure(const config::DaemonConfig& cfg) override;
    void collect(ops::MetricSet& m) override;
    void drain() override;
    StateProvider* state() override { return this; }
    std::string summary() const override;

    const rules::Engine& engine() const { return *engine_; }

  private:
    std::string_view state_name() const override { return "rules"; }
    std::vector<uint8_t> save_state() override { return engine_->save(); }
    void restore_state(std::span<const uint8_t> bytes) override;
    void on_finding(const rules::Finding& f) override;
    void open_outputs(const config::DaemonConfig& cfg);

    config::DaemonConfig cfg_;
    std::unique_ptr<rules::Engine> engine_;
    std::unique_ptr<alerts::AlertRouter> router_;
    int64_t last_advance_ns_ = 0;
    uint64_t findings_ = 0;
};

}  // namespace sybilwatch::service
