#include "service/daemon.hpp"

#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "config/load_config.hpp"
#include "ops/capabilities.hpp"
#include "ops/logging.hpp"
#include "service/signal_flags.hpp"
#include "state/state_file.hpp"

namespace sybilwatch::service {

namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kPublishEvery = std::chrono::seconds(1);
constexpr auto kStatusEvery = std::chrono::seconds(5);

std::chrono::nanoseconds ns(int64_t v) {
    return std::chrono::nanoseconds(v);
}

// Sockets and files go under /run/sybilwatch and /var/lib/sybilwatch, which systemd creates
// (RuntimeDirectory, StateDirectory); when run by hand, create them.
void ensure_parent(const std::string& path) {
    if (path.empty()) return;
    const auto parent = std::filesystem::path(path).parent_path();
    if (parent.empty()) return;
    std::error_code ec;
    if (std::filesystem::create_directories(parent, ec))
        ::chmod(parent.c_str(), 0750);
    else if (ec)
        spdlog::warn("cannot create {}: {}", parent.string(), ec.message());
}

std::string iso8601(std::chrono::system_clock::time_point t) {
    const std::time_t s = std::chrono::system_clock::to_time_t(t);
    std::tm tm{};
    gmtime_r(&s, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

}  // namespace

Daemon::Daemon(DaemonOptions opt) : opt_(std::move(opt)) {
    // Reloads read the same file whatever the working directory is by then.
    if (!opt_.config_path.empty())
        opt_.config_path = std::filesystem::absolute(opt_.config_path).lexically_normal();
    if (!opt_.config_path.empty()) cfg_ = config::load_config(opt_.config_path);
}

Daemon::~Daemon() = default;

std::string Daemon::state_path() const {
    return cfg_.state.dir + "/state.bin";
}

int Daemon::run(Downstream* downstream) {
    downstream_ = downstream;
    started_ = std::chrono::system_clock::now();
    install_signal_flags();
    const bool replay = !opt_.pcap_file.empty();
    ensure_parent(cfg_.identity.socket_path);
    ensure_parent(cfg_.identity.datagram_path);
    ensure_parent(cfg_.control.socket);
    if (!replay) ensure_parent(state_path());

    notify_.status("attaching");
    pipeline_ = std::make_unique<Pipeline>(
        cfg_, PipelineOptions{.pcap_file = opt_.pcap_file, .allow_ebpf = opt_.allow_ebpf},
        downstream_);
    spdlog::info("sybilwatchd {}: {}", SW_VERSION_STRING, pipeline_->capture_description());
    if (!replay) restore_state();
    ops_ = std::make_unique<OpsServer>(cfg_.metrics.listen, cfg_.control.socket);
    drop_capabilities();
    if (ops_->metrics_port()) spdlog::info("metrics on http://{}/metrics", cfg_.metrics.listen);
    const auto now = Clock::now();
    next_save_ = now + ns(cfg_.state.save_interval_ns);
    next_publish_ = now;
    next_status_ = now + kStatusEvery;
    publish();
    notify_.ready("watching: " + pipeline_->capture_description());

    while (!stop_requested()) {
        const bool more = pipeline_->step(100);
        if (downstream_) downstream_->tick(pipeline_->now_ns());
        if (!more) break;  // the replayed capture ended (and was drained)
        if (take_reload_request() || ops_->take_reload_request()) reload();
        const auto t = Clock::now();
        if (!replay && t >= next_save_) {
            save_state();
            next_save_ = t + ns(cfg_.state.save_interval_ns);
        }
        if (t >= next_publish_) publish();
        notify_.watchdog_tick();
    }

    notify_.stopping();
    spdlog::info("stopping: draining the pipeline");
    pipeline_->drain();
    if (downstream_) {
        downstream_->tick(pipeline_->now_ns());
        downstream_->drain();
    }
    if (!replay) save_state();
    publish();
    const uint64_t observations = pipeline_->observations();
    pipeline_.reset();  // detaches the TC hooks, closes the sockets, marks the ring closed
    ops_.reset();
    spdlog::info("stopped after {} observations", observations);
    return 0;
}

void Daemon::drop_capabilities() {
    // The programs are attached and the sockets bound: what loading needed (CAP_BPF,
    // CAP_PERFMON, CAP_SYS_ADMIN, CAP_NET_RAW, ...) goes. CAP_NET_ADMIN stays to remove the TC
    // filters at shutdown. Before Linux 6.5 every bpf() call on a map (the idle sweep, the
    // counters) needs CAP_BPF when unprivileged BPF is disabled, so it stays there too.
    std::vector<std::string> keep{"cap_net_admin"};
    utsname u{};
    int major = 0, minor = 0;
    if (::uname(&u) == 0 && std::sscanf(u.release, "%d.%d", &major, &minor) == 2 &&
        (major < 6 || (major == 6 && minor < 5)))
        keep.push_back("cap_bpf");
    try {
        const auto before = ops::effective_capabilities();
        const auto after = ops::keep_only_capabilities(keep);
        if (before.size() != after.size()) {
            std::string kept;
            for (const auto& c : after)
                kept += (kept.empty() ? "" : ", ") + c;
            spdlog::info("dropped {} capabilities; keeping {}", before.size() - after.size(),
                         kept.empty() ? "none" : kept);
        }
    } catch (const std::exception& e) {
        spdlog::warn("could not drop capabilities: {}", e.what());
    }
}

void Daemon::reload() {
    notify_.reloading();
    ++reloads_;
    try {
        if (opt_.config_path.empty()) {
            spdlog::info("reload: no config file (running on defaults); rules reloaded");
            if (downstream_) downstream_->reconfigure(cfg_);
        } else {
            const config::DaemonConfig next = config::load_config(opt_.config_path);
            // The rules compile beside the running ones first: a bad pack rejects the reload
            // before anything changed.
            if (downstream_) downstream_->reconfigure(next);
            restart_pending_ = pipeline_->reconfigure(next);
            if (!(next.metrics == cfg_.metrics) || !(next.control == cfg_.control)) {
                ops_.reset();
                ops_ = std::make_unique<OpsServer>(next.metrics.listen, next.control.socket);
            }
            ops::set_log_level(config::to_string(next.log.level));
            const auto running_capture = cfg_.capture;
            const auto running_fp = cfg_.fingerprints;
            cfg_ = next;
            cfg_.capture = running_capture;
            cfg_.fingerprints = running_fp;
            for (const auto& r : restart_pending_)
                spdlog::warn("reload: {}", r);
        }
        last_reload_error_.clear();
        spdlog::info("reload: {} applied",
                     opt_.config_path.empty() ? "defaults" : opt_.config_path);
    } catch (const std::exception& e) {
        ++reload_failures_;
        last_reload_error_ = e.what();
        spdlog::error("reload rejected, the running configuration stays: {}", e.what());
    }
    notify_.reloaded("watching: " + pipeline_->capture_description());
    publish();
}

void Daemon::save_state() {
    StateProvider* p = downstream_ ? downstream_->state() : nullptr;
    if (!p) return;
    try {
        state::Section s{std::string(p->state_name()), p->save_state()};
        state::save_state(state_path(), std::span<const state::Section>(&s, 1));
        ++saves_;
        last_save_error_.clear();
    } catch (const std::exception& e) {
        ++save_failures_;
        last_save_error_ = e.what();
        spdlog::error("saving state: {}", e.what());
    }
}

void Daemon::restore_state() {
    StateProvider* p = downstream_ ? downstream_->state() : nullptr;
    if (!p) return;
    try {
        const auto sections = state::load_state(state_path());
        if (!sections) {
            spdlog::info("no saved state at {}: starting empty", state_path());
            return;
        }
        const state::Section* s = state::find_section(*sections, p->state_name());
        if (!s) return;
        p->restore_state(s->data);
        restored_from_ = state_path();
        spdlog::info("restored detection state from {}", state_path());
    } catch (const std::exception& e) {
        // A damaged file must not keep the daemon down; it starts empty and says so.
        spdlog::error("saved state unusable, starting empty: {}", e.what());
        const std::string aside = state_path() + ".bad";
        ::rename(state_path().c_str(), aside.c_str());
    }
}

void Daemon::publish() {
    next_publish_ = Clock::now() + kPublishEvery;
    ops::MetricSet m;
    pipeline_->collect(m);
    if (downstream_) downstream_->collect(m);
    m.counter("sybilwatch_reloads_total", "configuration reloads (SIGHUP or control socket)",
              reloads_);
    m.counter("sybilwatch_reload_failures_total", "reloads rejected: the running config stayed",
              reload_failures_);
    m.counter("sybilwatch_state_saves_total", "detection state saves", saves_);
    m.counter("sybilwatch_state_save_failures_total", "detection state saves that failed",
              save_failures_);
    m.gauge("sybilwatch_start_time_seconds", "when the daemon started (epoch seconds)",
            std::chrono::duration<double>(started_.time_since_epoch()).count());
    if (ops_) ops_->publish(m.prometheus(), status_json(m));
    if (Clock::now() >= next_status_) {
        next_status_ = Clock::now() + kStatusEvery;
        std::string s = std::to_string(pipeline_->observations()) + " connections";
        const double hit = pipeline_->joiner().hit_rate();
        s += ", " + std::to_string(static_cast<int>(hit * 100 + 0.5)) + "% attributed";
        if (downstream_) {
            const std::string d = downstream_->summary();
            if (!d.empty()) s += ", " + d;
        }
        notify_.status(s);
    }
}

std::string Daemon::status_json(const ops::MetricSet& m) const {
    nlohmann::ordered_json j;
    std::vector<std::string> problems;
    if (!last_reload_error_.empty())
        problems.push_back("last reload rejected: " + last_reload_error_);
    if (!last_save_error_.empty())
        problems.push_back("last state save failed: " + last_save_error_);
    for (const auto& r : restart_pending_)
        problems.push_back("restart pending: " + r);
    j["health"] = problems.empty() ? "ok" : "degraded";
    j["problems"] = problems;
    j["version"] = SW_VERSION_STRING;
    j["pid"] = ::getpid();
    j["started"] = iso8601(started_);
    j["uptime_seconds"] = std::chrono::duration_cast<std::chrono::seconds>(
                              std::chrono::system_clock::now() - started_)
                              .count();
    j["config"] = opt_.config_path.empty() ? "(built-in defaults)" : opt_.config_path;
    j["capture"] = pipeline_ ? pipeline_->capture_description() : "";
    j["state_file"] = state_path();
    if (!restored_from_.empty()) j["restored_from"] = restored_from_;
    auto& metrics = j["metrics"];
    metrics = nlohmann::ordered_json::object();
    for (const auto& s : m.metrics()) {
        std::string key = s.name;
        if (!s.labels.empty()) {
            key += '{';
            for (size_t i = 0; i < s.labels.size(); ++i) {
                if (i) key += ',';
                key += s.labels[i].first + "=" + s.labels[i].second;
            }
            key += '}';
        }
        // Counters are whole numbers: keep them integers in JSON.
        if (s.value == std::floor(s.value) && std::fabs(s.value) < 9e15)
            metrics[key] = static_cast<int64_t>(s.value);
        else
            metrics[key] = s.value;
    }
    return j.dump();
}

}  // namespace sybilwatch::service
