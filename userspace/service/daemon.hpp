// sybilwatchd: the pipeline, the operator interfaces and the service duties around them:
// sd_notify (READY once the hooks are attached, STATUS, WATCHDOG), SIGHUP reload (an invalid
// config is rejected and the running one stays), SIGTERM drain and stop, detection state saved
// periodically and on shutdown and restored on start.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "config/daemon_config.hpp"
#include "identity/attributed_observation.hpp"
#include "ops/metric_set.hpp"
#include "ops/systemd_notify.hpp"
#include "service/ops_server.hpp"
#include "service/pipeline.hpp"
#include "service/state_provider.hpp"

namespace sybilwatch::service {

struct DaemonOptions {
    std::string config_path;  // "" = the built-in defaults
    std::string pcap_file;    // replay instead of capturing live; the daemon exits at its end
    bool allow_ebpf = true;
};

// The stages after attribution (rules, alerts) as the daemon sees them.
class Downstream : public identity::AttributedSink {
  public:
    // Event time advanced (live: the wall clock); windows expire, findings may be raised.
    virtual void tick(int64_t now_ns) { (void)now_ns; }
    // A new config was loaded; throw to reject it (the old one stays).
    virtual void reconfigure(const config::DaemonConfig& cfg) { (void)cfg; }
    virtual void collect(ops::MetricSet& m) { (void)m; }
    // Shutdown: deliver what can be delivered within the deadline.
    virtual void drain() {}
    virtual StateProvider* state() { return nullptr; }
    // "N findings", for the STATUS line.
    virtual std::string summary() const { return {}; }
};

class Daemon {
  public:
    // Loads the config (config::ConfigError names file, line and key) and checks the options.
    explicit Daemon(DaemonOptions opt);
    ~Daemon();

    // Attaches, restores state, serves until SIGTERM/SIGINT (or the replayed capture's end),
    // then drains, saves and detaches. Returns the exit status.
    int run(Downstream* downstream = nullptr);

    const config::DaemonConfig& config() const { return cfg_; }

  private:
    void drop_capabilities();
    void reload();
    void save_state();
    void restore_state();
    void publish();
    std::string status_json(const ops::MetricSet& m) const;
    std::string state_path() const;

    DaemonOptions opt_;
    config::DaemonConfig cfg_;
    std::unique_ptr<Pipeline> pipeline_;
    std::unique_ptr<OpsServer> ops_;
    Downstream* downstream_ = nullptr;
    ops::SystemdNotify notify_;
    std::chrono::system_clock::time_point started_;
    std::chrono::steady_clock::time_point next_save_, next_publish_, next_status_;
    uint64_t reloads_ = 0, reload_failures_ = 0, saves_ = 0, save_failures_ = 0;
    std::string last_reload_error_, last_save_error_, restored_from_;
    std::vector<std::string> restart_pending_;
};

}  // namespace sybilwatch::service
