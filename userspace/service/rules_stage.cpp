#include "service/rules_stage.hpp"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <tuple>

#include "alerts/hec_transport.hpp"
#include "alerts/http_post.hpp"
#include "alerts/stdout_transport.hpp"
#include "alerts/syslog_transport.hpp"
#include "alerts/webhook_transport.hpp"
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
    eo.catch_up_ns = cfg.rules.catch_up_ns;
    engine_ = std::make_unique<rules::Engine>(load_configured_rules(cfg), eo,
                                              static_cast<rules::FindingSink&>(*this));
    spdlog::info("rules: {} loaded from {}", engine_->rules().rules().size(),
                 cfg.rules.paths.empty() ? std::string("the built-in pack")
                                         : std::to_string(cfg.rules.paths.size()) + " path(s)");
    open_outputs(cfg);
}

RulesStage::~RulesStage() {
    stop_sinks(std::chrono::milliseconds(0));
}

namespace {

std::string host_name() {
    char host[256] = {};
    ::gethostname(host, sizeof host - 1);
    return host;
}

// The configured sinks, then output.findings and output.stdout as sinks of their own.
std::vector<config::SinkSection> wanted_sinks(const config::DaemonConfig& cfg) {
    std::vector<config::SinkSection> v = cfg.sinks;
    if (!cfg.output.findings.empty()) {
        config::SinkSection s;
        s.name = "findings_file";
        s.type = config::SinkType::File;
        s.path = cfg.output.findings;
        v.push_back(std::move(s));
    }
    if (cfg.output.to_stdout) {
        config::SinkSection s;
        s.name = "stdout";
        s.type = config::SinkType::Stdout;
        v.push_back(std::move(s));
    }
    return v;
}

alerts::SecretSource secret_source(const config::SinkSection& s) {
    if (s.type == config::SinkType::Hec) return {s.token_file, s.token_env};
    if (s.type == config::SinkType::Webhook) return {s.key_file, s.key_env};
    return {};
}

// Loads the sink's secret (none: empty). Throws, naming the sink and the source, not the value.
alerts::Secret load_sink_secret(const config::SinkSection& s) {
    const alerts::SecretSource src = secret_source(s);
    alerts::Secret secret;
    if (src.file.empty() && src.env.empty()) return secret;
    std::string error;
    std::vector<std::string> warnings;
    if (!alerts::load_secret(src, secret, error, warnings))
        throw std::runtime_error("sink " + s.name + ": " + error);
    for (const auto& w : warnings)
        spdlog::warn("sink {}: {}", s.name, w);
    return secret;
}

// HOST:PORT or [V6]:PORT, checked by the config loader.
std::pair<std::string, uint16_t> split_address(const std::string& a) {
    const size_t colon = a.rfind(':');
    std::string host = a.substr(0, colon);
    if (host.starts_with("[")) host = host.substr(1, host.size() - 2);
    return {host, static_cast<uint16_t>(std::stoul(a.substr(colon + 1)))};
}

alerts::HttpOptions http_options(const config::SinkSection& s) {
    alerts::HttpOptions h;
    h.ca_file = s.ca_file;
    h.verify = s.verify;
    // The loader allows http:// to loopback receivers only.
    h.allow_plain_http = s.url.starts_with("http://");
    return h;
}

struct Prepared {
    std::unique_ptr<alerts::Transport> transport;
    alerts::FileTransport* file = nullptr;
};

// The transport a sink section names. Throws std::runtime_error naming the sink.
Prepared make_transport(const config::SinkSection& s) {
    Prepared p;
    std::string error;
    std::vector<std::string> warnings;
    switch (s.type) {
        case config::SinkType::File: {
            alerts::FileTransportOptions fo;
            fo.path = s.path;
            fo.rotate_bytes = s.rotate_bytes;
            fo.keep = s.keep;
            auto t = std::make_unique<alerts::FileTransport>(fo);
            p.file = t.get();
            p.transport = std::move(t);
            break;
        }
        case config::SinkType::Stdout:
            p.transport = std::make_unique<alerts::StdoutTransport>();
            break;
        case config::SinkType::Syslog: {
            alerts::SyslogTransportConfig sc;
            sc.protocol = static_cast<alerts::SyslogProtocol>(s.protocol);
            std::tie(sc.host, sc.port) = split_address(s.address);
            sc.header.facility =
                alerts::parse_syslog_facility(s.facility).value_or(alerts::SyslogFacility::Local0);
            sc.header.app_name = s.app_name;
            sc.tls.ca_file = s.ca_file;
            sc.tls.verify = s.verify;
            sc.tls.server_name = s.server_name;
            sc.tls.cert_file = s.client_cert;
            sc.tls.key_file = s.client_key;
            p.transport = alerts::SyslogTransport::create(std::move(sc), error);
            break;
        }
        case config::SinkType::Hec: {
            alerts::HecConfig hc;
            hc.url = s.url;
            hc.token = secret_source(s);
            hc.index = s.index;
            hc.sourcetype = s.sourcetype;
            hc.ack = s.ack;
            hc.http = http_options(s);
            p.transport = alerts::HecTransport::create(std::move(hc), error, warnings);
            break;
        }
        case config::SinkType::Webhook: {
            alerts::WebhookConfig wc;
            wc.url = s.url;
            wc.key = secret_source(s);
            wc.headers = s.headers;
            wc.batch = s.batch;
            wc.http = http_options(s);
            p.transport = alerts::WebhookTransport::create(std::move(wc), error, warnings);
            break;
        }
    }
    for (const auto& w : warnings)
        spdlog::warn("sink {}: {}", s.name, w);
    if (!p.transport) throw std::runtime_error("sink " + s.name + ": " + error);
    if (s.verify == false && s.type != config::SinkType::File && s.type != config::SinkType::Stdout)
        spdlog::warn(
            "sink {}: TLS verification is off: anyone on the path can read and forge "
            "findings",
            s.name);
    return p;
}

std::unique_ptr<alerts::Sink> make_sink(const config::SinkSection& s, const std::string& spool_dir,
                                        std::unique_ptr<alerts::Transport> transport) {
    alerts::SinkOptions so;
    so.name = s.name;
    so.format = static_cast<alerts::Format>(s.format);
    so.format_options.hostname = host_name();
    so.format_options.product_version = SW_VERSION_STRING;
    so.filter.min_severity = static_cast<rules::Severity>(s.min_severity);
    so.filter.include_tags = s.include_tags;
    so.filter.exclude_tags = s.exclude_tags;
    so.filter.include_rules = s.rules;
    so.filter.closes = s.closes;
    so.rate_per_second = s.rate;
    so.rate_burst = s.burst;
    so.spool_dir = spool_dir;
    so.spool.max_bytes = s.spool_max_bytes;
    so.spool.segment_bytes = std::min<uint64_t>(so.spool.segment_bytes, s.spool_max_bytes / 4);
    const std::string name = s.name;
    so.spool.log = [name](std::string_view msg) { spdlog::warn("sink {}: spool: {}", name, msg); };
    so.log = [](std::string_view msg) { spdlog::warn("{}", msg); };  // names the sink
    std::error_code ec;
    std::filesystem::create_directories(spool_dir, ec);
    std::string error;
    auto sink = alerts::Sink::create(std::move(so), std::move(transport), error);
    if (!sink) throw std::runtime_error("sink " + s.name + ": " + error);
    const auto st = sink->stats();
    if (st.backlog)
        spdlog::info("sink {}: {} findings from before the restart to deliver", s.name, st.backlog);
    return sink;
}

}  // namespace

void RulesStage::stop_sinks(std::chrono::milliseconds drain) {
    const auto deadline = std::chrono::steady_clock::now() + drain;
    for (auto& s : sinks_)
        if (s.sink) s.sink->request_stop(deadline);
    for (auto& s : sinks_)
        if (s.sink) s.sink->join();
}

void RulesStage::open_outputs(const config::DaemonConfig& cfg) {
    const std::string spool_root = cfg.state.dir + "/spool";
    const std::vector<config::SinkSection> wanted = wanted_sinks(cfg);

    // 1. Everything that can fail on the operator's input, before anything stops: secrets,
    // transports (TLS files, URLs).
    struct Plan {
        OpenSink* keep = nullptr;  // running, unchanged
        alerts::Secret secret;
        Prepared fresh;
    };
    std::vector<Plan> plans(wanted.size());
    for (size_t i = 0; i < wanted.size(); ++i) {
        const config::SinkSection& w = wanted[i];
        plans[i].secret = load_sink_secret(w);
        for (auto& old : sinks_)
            if (old.cfg == w && old.spool_dir == spool_root + "/" + w.name &&
                old.secret.reveal() == plans[i].secret.reveal())
                plans[i].keep = &old;
        if (!plans[i].keep) plans[i].fresh = make_transport(w);
    }

    // 2. Stop the sinks that change or go, together; their spools stay on disk, so what they
    // had not delivered is picked up by their successor (same name) or by a later start.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(0);
    std::vector<OpenSink*> stopping;
    for (auto& old : sinks_) {
        const bool kept =
            std::any_of(plans.begin(), plans.end(), [&](const Plan& p) { return p.keep == &old; });
        if (!kept && old.sink) {
            old.sink->request_stop(deadline);
            stopping.push_back(&old);
        }
    }
    for (OpenSink* s : stopping) {
        s->sink->join();
        const bool removed = std::none_of(wanted.begin(), wanted.end(),
                                          [&](const auto& w) { return w.name == s->cfg.name; });
        if (removed && s->sink->stats().backlog)
            spdlog::warn(
                "sink {} removed with {} findings undelivered; they stay in {} and go "
                "out if a sink of that name comes back",
                s->cfg.name, s->sink->stats().backlog, s->spool_dir);
        // Closes the spool (and its lock): its successor opens the same directory.
        s->sink.reset();
    }

    // 3. The new set, in config order.
    std::vector<OpenSink> next;
    std::string failures;
    for (size_t i = 0; i < wanted.size(); ++i) {
        Plan& p = plans[i];
        if (p.keep) {
            if (p.keep->file) p.keep->file->reopen();
            next.push_back(std::move(*p.keep));
            continue;
        }
        OpenSink o;
        o.cfg = wanted[i];
        o.spool_dir = spool_root + "/" + wanted[i].name;
        o.secret = std::move(p.secret);
        o.file = p.fresh.file;
        try {
            o.sink = make_sink(o.cfg, o.spool_dir, std::move(p.fresh.transport));
        } catch (const std::exception& e) {
            // The spool could not be opened (permissions, disk): the others still run.
            spdlog::error("{}", e.what());
            failures += std::string(failures.empty() ? "" : "; ") + e.what();
            continue;
        }
        const bool changed = std::any_of(sinks_.begin(), sinks_.end(), [&](const OpenSink& s) {
            return s.cfg.name == o.cfg.name;
        });
        std::string where = to_string(o.cfg.type);
        if (o.cfg.type == config::SinkType::File)
            where += " " + o.cfg.path;
        else if (o.cfg.type == config::SinkType::Syslog)
            where += std::string(" ") + to_string(o.cfg.protocol) + " " + o.cfg.address;
        else if (o.cfg.type != config::SinkType::Stdout)
            where += " " + alerts::url_origin(o.cfg.url);  // the path may carry a secret
        spdlog::info("sink {}: {}, format {}, spool {}{}", o.cfg.name, where,
                     to_string(o.cfg.format), o.spool_dir, changed ? " (rebuilt)" : "");
        next.push_back(std::move(o));
    }
    sinks_ = std::move(next);
    if (!failures.empty()) throw std::runtime_error(failures);
}

void RulesStage::on_attributed(const identity::AttributedObservation& a) {
    if (batch_.add(a)) flush_batch();
}

void RulesStage::flush_batch() {
    if (batch_.empty()) return;
    engine_->observe(batch_.view());
    batch_.clear();
}

void RulesStage::tick(int64_t now_ns) {
    flush_batch();
    if (now_ns - last_advance_ns_ < kAdvanceEveryNs) return;
    last_advance_ns_ = now_ns;
    engine_->advance(now_ns);
}

void RulesStage::on_finding(const rules::Finding& f) {
    ++findings_;
    for (auto& s : sinks_)
        s.sink->submit(f);
}

void RulesStage::reconfigure(const config::DaemonConfig& cfg) {
    flush_batch();  // what arrived before the reload is judged by the rules it arrived under
    // Compiled beside the running set first: a pack with errors throws here and nothing changed.
    auto next = load_configured_rules(cfg);
    // Every time: unchanged sinks keep running (and are compared by their secret too, so a
    // rotated token applies); an unreadable secret throws before anything changed.
    open_outputs(cfg);
    engine_->replace_rules(std::move(next));
    spdlog::info("rules: {} now running", engine_->rules().rules().size());
    cfg_ = cfg;
}

void RulesStage::restore_state(std::span<const uint8_t> bytes) {
    flush_batch();
    const rules::StateIoResult r = engine_->restore(bytes);
    if (!r.ok) throw std::runtime_error("rules state: " + r.error);
    for (const auto& s : r.skipped)
        spdlog::warn("rules state: {} starts empty (its definition changed)", s);
}

void RulesStage::drain() {
    flush_batch();
    // Held-back cluster growth is raised now: the last finding shows each cluster's size.
    engine_->flush();
    // Everything raised is already durable in the spools; this only gives delivery a moment.
    stop_sinks(std::chrono::milliseconds(3000));
}

std::string RulesStage::summary() const {
    uint64_t backlog = 0;
    for (const auto& s : sinks_)
        backlog += s.sink->stats().backlog;
    return std::to_string(findings_) + " findings" +
           (backlog ? ", " + std::to_string(backlog) + " waiting in sink spools" : "");
}

void RulesStage::collect(ops::MetricSet& m) {
    flush_batch();
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
    for (const auto& s : sinks_) {
        const std::string& name = s.cfg.name;
        const alerts::SinkStats st = s.sink->stats();
        m.gauge("sybilwatch_sink_backlog", "findings spooled, not yet delivered", st.backlog,
                {{"sink", name}});
        m.counter("sybilwatch_sink_delivered_total", "findings delivered", st.delivered,
                  {{"sink", name}});
        m.counter("sybilwatch_sink_retries_total", "deliveries retried", st.retries,
                  {{"sink", name}});
        m.counter("sybilwatch_sink_dropped_total", "findings lost (spool full or disk error)",
                  st.dropped_full + st.dropped_error, {{"sink", name}});
        m.counter("sybilwatch_sink_spooled_total", "findings made durable in the spool: emitted",
                  st.spooled, {{"sink", name}});
        m.counter("sybilwatch_sink_filtered_total", "findings the sink's filter left out",
                  st.filtered, {{"sink", name}});
        m.counter("sybilwatch_sink_rate_limited_total",
                  "findings whose delivery waited for the rate limit", st.rate_limited,
                  {{"sink", name}});
        m.gauge("sybilwatch_sink_consecutive_failures",
                "failed delivery attempts in a row (0: the receiver is taking findings)",
                st.consecutive_failures, {{"sink", name}});
    }
}

}  // namespace sybilwatch::service
