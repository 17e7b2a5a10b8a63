#include "service/rules_stage.hpp"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>

#include "alerts/file_transport.hpp"
#include "alerts/stdout_transport.hpp"
#include "rules/default_pack.hpp"

namespace sybilwatch::service {

namespace {

std::string join_errors(const std::vector<rules::Diagnostic>& errors) {
    std::string s = "the rules do not load:";
    for (const auto& d : errors)
        s += "\n  " + d.to_string();
    return s;
}

// The engine's windows advance at most this often in event time: expiry and link rebuilds
// are per-window work, not per-packet.
constexpr int64_t kAdvanceEveryNs = 1'000'000'000;

}  // namespace

RulesError::RulesError(const std::vector<rules::Diagnostic>& errors)
    : std::runtime_error(join_errors(errors)) {}

std::shared_ptr<const rules::RuleSet> load_configured_rules(const config::DaemonConfig& cfg) {
    rules::LoadResult r = cfg.rules.paths.empty() ? rules::load_rules_text(rules::default_pack())
                                                  : rules::load_rules(cfg.rules.paths);
    if (!r.ok()) throw RulesError(r.errors);
    return std::make_shared<const rules::RuleSet>(std::move(r.rules));
}

RulesStage::RulesStage(const config::DaemonConfig& cfg) : cfg_(cfg) {
    rules::EngineOptions eo;
    eo.max_accounts = cfg.rules.max_accounts;
    eo.finding_accounts = cfg.rules.finding_accounts;
    engine_ = std::make_unique<rules::Engine>(load_configured_rules(cfg), eo,
                                              static_cast<rules::FindingSink&>(*this));
    spdlog::info("rules: {} loaded from {}", engine_->rules().rules().size(),
                 cfg.rules.paths.empty() ? std::string("the built-in pack")
                                         : std::to_string(cfg.rules.paths.size()) + " path(s)");
    open_outputs(cfg);
}

RulesStage::~RulesStage() {
    if (router_) router_->stop(std::chrono::milliseconds(0));
}

void RulesStage::open_outputs(const config::DaemonConfig& cfg) {
    auto router = std::make_unique<alerts::AlertRouter>();
    const std::string spool_root = cfg.state.dir + "/spool";
    auto add = [&](std::string name, std::unique_ptr<alerts::Transport> t) {
        alerts::SinkOptions so;
        so.name = name;
        so.format = alerts::Format::Json;
        char host[256] = {};
        ::gethostname(host, sizeof host - 1);
        so.format_options.hostname = host;
        so.format_options.product_version = SW_VERSION_STRING;
        so.spool_dir = spool_root + "/" + name;
        so.log = [name](std::string_view msg) { spdlog::warn("sink {}: {}", name, msg); };
        std::error_code ec;
        std::filesystem::create_directories(so.spool_dir, ec);
        std::string error;
        auto sink = alerts::Sink::create(std::move(so), std::move(t), error);
        if (!sink) throw std::runtime_error("findings output " + name + ": " + error);
        router->add(std::move(sink));
    };
    if (!cfg.output.findings.empty()) {
        alerts::FileTransportOptions fo;
        fo.path = cfg.output.findings;
        add("findings_file", std::make_unique<alerts::FileTransport>(fo));
    }
    if (cfg.output.to_stdout) add("stdout", std::make_unique<alerts::StdoutTransport>());
    if (router_) router_->stop(std::chrono::milliseconds(2000));
    router_ = std::move(router);
}

void RulesStage::on_attributed(const identity::AttributedObservation& a) {
    engine_->observe(a);
}

void RulesStage::tick(int64_t now_ns) {
    if (now_ns - last_advance_ns_ < kAdvanceEveryNs) return;
    last_advance_ns_ = now_ns;
    engine_->advance(now_ns);
}

void RulesStage::on_finding(const rules::Finding& f) {
    ++findings_;
    if (router_) router_->publish(f);
}

void RulesStage::reconfigure(const config::DaemonConfig& cfg) {
    // Compiled beside the running set first: a pack with errors throws here and nothing changed.
    auto next = load_configured_rules(cfg);
    if (!(cfg.output == cfg_.output) || cfg.state.dir != cfg_.state.dir) open_outputs(cfg);
    engine_->replace_rules(std::move(next));
    spdlog::info("rules: {} now running", engine_->rules().rules().size());
    cfg_ = cfg;
}

void RulesStage::restore_state(std::span<const uint8_t> bytes) {
    const rules::StateIoResult r = engine_->restore(bytes);
    if (!r.ok) throw std::runtime_error("rules state: " + r.error);
    for (const auto& s : r.skipped)
        spdlog::warn("rules state: {} starts empty (its definition changed)", s);
}

void RulesStage::drain() {
    // Everything raised is already durable in the spools; this only gives delivery a moment.
    if (router_) router_->stop(std::chrono::milliseconds(3000));
}

std::string RulesStage::summary() const {
    return std::to_string(findings_) + " findings";
}

void RulesStage::collect(ops::MetricSet& m) {
    const auto& s = engine_->stats();
    m.counter("sybilwatch_rules_observations_total", "observations the rules engine evaluated",
              s.observations);
    m.counter("sybilwatch_rules_evaluated_total", "rule conditions evaluated", s.evaluations);
    m.counter("sybilwatch_rules_matched_total", "rule conditions that held", s.matches);
    m.counter("sybilwatch_rules_excepted_total", "matches suppressed by an exception", s.excepted);
    m.counter("sybilwatch_findings_total", "findings raised, by activity", s.findings_created,
              {{"activity", "create"}});
    m.counter("sybilwatch_findings_total", "", s.findings_updated, {{"activity", "update"}});
    m.counter("sybilwatch_findings_total", "", s.findings_closed, {{"activity", "close"}});
    m.counter("sybilwatch_findings_suppressed_total",
              "match-rule repeats within the de-duplication window", s.suppressed);
    m.gauge("sybilwatch_rules_loaded", "rules enabled", engine_->rules().rules().size());
    m.gauge("sybilwatch_rules_accounts", "accounts the rules engine tracks", engine_->accounts());
    m.counter("sybilwatch_rules_accounts_refused_total",
              "accounts not tracked: rules.max_accounts reached", s.accounts_refused);
    m.gauge("sybilwatch_rules_memory_bytes", "the rules engine's state", engine_->memory_bytes());
    if (!router_) return;
    for (const auto& [name, st] : router_->stats()) {
        m.gauge("sybilwatch_sink_backlog", "findings spooled, not yet delivered", st.backlog,
                {{"sink", name}});
        m.counter("sybilwatch_sink_delivered_total", "findings delivered", st.delivered,
                  {{"sink", name}});
        m.counter("sybilwatch_sink_retries_total", "deliveries retried", st.retries,
                  {{"sink", name}});
        m.counter("sybilwatch_sink_dropped_total", "findings lost (spool full or disk error)",
                  st.dropped_full + st.dropped_error, {{"sink", name}});
    }
}

}  // namespace sybilwatch::service
