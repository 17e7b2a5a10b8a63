// The stages after attribution in sybilwatchd: the rules engine over every attributed
// observation, and its findings to the configured sinks (`sinks:`, plus the built-in outputs
// output.findings and output.stdout as the sinks findings_file and stdout). Each is an
// alerts::Sink with its own on-disk spool under state.dir/spool/NAME, so a SIEM that is down, a
// full disk or a closed pipe loses nothing that was raised. Its state (windows, clusters, open
// findings) is what the daemon saves.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "alerts/file_transport.hpp"
#include "alerts/secret.hpp"
#include "alerts/sink.hpp"
#include "config/daemon_config.hpp"
#include "rules/engine.hpp"
#include "rules/observation_batch.hpp"
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
    // Loads the rules and opens the sinks; throws RulesError or std::runtime_error (a sink
    // whose secret, TLS files or spool cannot be used: the message names the sink, never the
    // secret).
    explicit RulesStage(const config::DaemonConfig& cfg);
    ~RulesStage() override;

    void on_attributed(const identity::AttributedObservation& a) override;
    void tick(int64_t now_ns) override;
    void reconfigure(const config::DaemonConfig& cfg) override;
    void collect(ops::MetricSet& m) override;
    void drain() override;
    StateProvider* state() override { return this; }
    std::string summary() const override;

    // The engine, with every observation received so far observed (the stage buffers a few:
    // see batch_).
    const rules::Engine& engine() {
        flush_batch();
        return *engine_;
    }

  private:
    std::string_view state_name() const override { return "rules"; }
    std::vector<uint8_t> save_state() override {
        flush_batch();
        return engine_->save();
    }
    void restore_state(std::span<const uint8_t> bytes) override;
    void on_finding(const rules::Finding& f) override;
    // Opens what `cfg` names. A sink whose config, secret and spool directory are unchanged
    // keeps running; the others are prepared first (secrets, TLS files: an error changes
    // nothing), then the old ones stop and the new ones open on the same spools.
    void open_outputs(const config::DaemonConfig& cfg);
    void stop_sinks(std::chrono::milliseconds drain);
    // Observes what batch_ holds. Called when it is full and before anything else reaches
    // the engine (tick, reconfigure, state, metrics, drain), so the engine sees every
    // observation in arrival order relative to advance(), and none waits past the next tick.
    void flush_batch();

    struct OpenSink {
        config::SinkSection cfg;
        std::string spool_dir;
        // The secret as it was when the sink was built: a changed file or variable rebuilds
        // the sink on reload (token rotation).
        alerts::Secret secret;
        alerts::FileTransport* file = nullptr;  // reopened on reload (external logrotate)
        std::unique_ptr<alerts::Sink> sink;
    };

    config::DaemonConfig cfg_;
    std::unique_ptr<rules::Engine> engine_;
    // Observations arrive one at a time; the engine is faster over a batch (its cache misses
    // overlap), so they are copied here and observed together.
    rules::ObservationBatch batch_;
    std::vector<OpenSink> sinks_;  // configured sinks first, then the built-ins
    int64_t last_advance_ns_ = 0;
    uint64_t findings_ = 0;
};

}  // namespace sybilwatch::service
