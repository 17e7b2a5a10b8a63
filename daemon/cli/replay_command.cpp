// sybilwatch replay --pcap FILE --identity FILE [--rules PATH]... [--alerts FILE]: the whole
// pipeline offline, in event time. The capture is replayed through the fingerprint engine and
// the joiner (whose clock is the packets' time), the identity log is read from its start, and
// every attributed observation goes through the rules engine, whose windows advance with the
// packets. Findings are written as the native JSON lines, as sybilwatchd's file sink would.
#include <getopt.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <memory>
#include <string>
#include <vector>

#include "alerts/finding_json.hpp"
#include "commands.hpp"
#include "config/daemon_config.hpp"
#include "identity/attributed_observation.hpp"
#include "rules/default_pack.hpp"
#include "rules/engine.hpp"
#include "rules/observation_batch.hpp"
#include "rules/rule_loader.hpp"
#include "service/pipeline.hpp"
#include "stop_signal.hpp"

namespace sybilwatch::cli {

namespace {

void usage(FILE* out) {
    std::fputs(
        "usage: sybilwatch replay --pcap FILE --identity FILE [--rules PATH]... [OPTIONS]\n"
        "\n"
        "Runs capture, attribution and rules offline over a capture and the identity feed\n"
        "(JSON lines: ts, client_ip, client_port, account) that goes with it. Time is the\n"
        "packets' time: windows, joins and expiry behave as they did live. Every finding\n"
        "(create, update, close) is written as one JSON line.\n"
        "\n"
        "options:\n"
        "  --pcap FILE       the capture (pcap or pcapng)\n"
        "  --identity FILE   the identity feed, read from its start\n"
        "  --rules PATH      rule file or directory; repeatable, loaded in the order given\n"
        "                    (default: the built-in pack)\n"
        "  --alerts FILE     write findings to FILE (default: standard output)\n"
        "  --no-foxio        no JA4S, JA4T, JA4TS, JA4L (FoxIO License 1.1)\n"
        "  --max-pending N   identity records held for their connection (default 1048576)\n"
        "  --stats           print the pipeline's and the engine's counters to stderr\n"
        "\n"
        "exit status: 0 done; 1 an input could not be read (or a usage error);\n"
        "             2 the rules did not load (each problem printed as FILE:LINE:COL)\n",
        out);
}

// Every Finding as a JSON line, buffered: a replay writes many.
class FindingLines : public rules::FindingSink {
  public:
    explicit FindingLines(FILE* out) : out_(out) {}
    ~FindingLines() override { flush(); }
    void on_finding(const rules::Finding& f) override {
        alerts::render_finding_json(f, line_, opts_);
        buf_ += line_;
        buf_ += '\n';
        ++written_;
        if (buf_.size() >= kFlushBytes) flush();
    }
    // False when a write failed (a full disk must not pass as "no findings").
    bool flush() {
        if (!buf_.empty() && std::fwrite(buf_.data(), 1, buf_.size(), out_) != buf_.size())
            failed_ = true;
        buf_.clear();
        if (std::fflush(out_) != 0) failed_ = true;
        return !failed_;
    }
    uint64_t written() const { return written_; }

  private:
    static constexpr size_t kFlushBytes = 1 << 16;
    FILE* out_;
    alerts::FormatOptions opts_ = [] {
        alerts::FormatOptions o;
        o.product_version = SW_VERSION;
        return o;
    }();
    std::string line_, buf_;
    uint64_t written_ = 0;
    bool failed_ = false;
};

// The pipeline's downstream: attributed observations into the rules engine. Event time moves
// on through observe() (the engine's clock is the latest event) and through advance(), which
// the replay loop calls with the packets' clock.
// Observations are buffered and observed in batches (faster: see Engine::observe of a span);
// flush() before every advance() and at the end keeps them in order with event time.
struct EngineFeed : identity::AttributedSink {
    rules::Engine* engine = nullptr;
    rules::ObservationBatch batch;
    void on_attributed(const identity::AttributedObservation& a) override {
        if (batch.add(a)) flush();
    }
    void flush() {
        if (batch.empty()) return;
        engine->observe(batch.view());
        batch.clear();
    }
};

bool readable_file(const std::string& path, const char* what) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0 || ::access(path.c_str(), R_OK) != 0) {
        std::fprintf(stderr, "sybilwatch replay: %s %s: %s\n", what, path.c_str(),
                     std::strerror(errno));
        return false;
    }
    if (!S_ISREG(st.st_mode)) {
        std::fprintf(stderr, "sybilwatch replay: %s %s: not a regular file\n", what, path.c_str());
        return false;
    }
    return true;
}

void print_stats(const service::Pipeline& p, const rules::Engine& e, uint64_t findings) {
    const auto& f = p.engine().stats();
    const auto& j = p.joiner().stats();
    const auto& s = e.stats();
    std::fprintf(stderr,
                 "replay: packets=%llu flows=%llu observations=%llu attributed=%llu "
                 "unattributed=%llu records=%llu late=%llu expired_records=%llu "
                 "evicted_records=%llu\n"
                 "rules: rules=%zu accounts=%zu evaluations=%llu matches=%llu created=%llu "
                 "updated=%llu closed=%llu suppressed=%llu refused=%llu memory_bytes=%zu "
                 "findings_written=%llu\n",
                 (unsigned long long)f.packets, (unsigned long long)f.flows,
                 (unsigned long long)p.observations(), (unsigned long long)j.matched,
                 (unsigned long long)j.unattributed, (unsigned long long)j.records,
                 (unsigned long long)j.late, (unsigned long long)j.expired_records,
                 (unsigned long long)j.evicted_records, e.rules().rules().size(), e.accounts(),
                 (unsigned long long)s.evaluations, (unsigned long long)s.matches,
                 (unsigned long long)s.findings_created, (unsigned long long)s.findings_updated,
                 (unsigned long long)s.findings_closed, (unsigned long long)s.suppressed,
                 (unsigned long long)s.accounts_refused, e.memory_bytes(),
                 (unsigned long long)findings);
}

// Expiry, link rebuilds and synchrony scans are per-window work: once per event-time second.
constexpr int64_t kAdvanceEveryNs = 1'000'000'000;

struct FileCloser {
    void operator()(FILE* f) const {
        if (f) std::fclose(f);
    }
};

}  // namespace

int replay_command(int argc, char** argv) {
    std::string pcap, identity_path, alerts_path;
    std::vector<std::string> rule_paths;
    bool foxio = true, stats = false;
    uint32_t max_pending = 1u << 20;
    enum { kPcap = 1000, kIdentity, kRules, kAlerts, kNoFoxio, kMaxPending, kStats };
    static const option opts[] = {
        {"pcap", required_argument, nullptr, kPcap},
        {"identity", required_argument, nullptr, kIdentity},
        {"rules", required_argument, nullptr, kRules},
        {"alerts", required_argument, nullptr, kAlerts},
        {"no-foxio", no_argument, nullptr, kNoFoxio},
        {"max-pending", required_argument, nullptr, kMaxPending},
        {"stats", no_argument, nullptr, kStats},
        {"help", no_argument, nullptr, 'h'},
        {nullptr, 0, nullptr, 0},
    };
    optind = 1;
    for (int c; (c = getopt_long(argc, argv, "h", opts, nullptr)) != -1;) {
        switch (c) {
            case kPcap:
                pcap = optarg;
                break;
            case kIdentity:
                identity_path = optarg;
                break;
            case kRules:
                rule_paths.emplace_back(optarg);
                break;
            case kAlerts:
                alerts_path = optarg;
                break;
            case kNoFoxio:
                foxio = false;
                break;
            case kMaxPending: {
                char* end = nullptr;
                errno = 0;
                const unsigned long v = std::strtoul(optarg, &end, 10);
                if (errno || !end || *end || v == 0 || v > (1ul << 24)) {
                    std::fprintf(stderr, "sybilwatch replay: --max-pending: 1..16777216\n");
                    return 1;
                }
                max_pending = static_cast<uint32_t>(v);
                break;
            }
            case kStats:
                stats = true;
                break;
            case 'h':
                usage(stdout);
                return 0;
            default:
                usage(stderr);
                return 1;
        }
    }
    if (optind < argc || pcap.empty() || identity_path.empty()) {
        if (optind < argc)
            std::fprintf(stderr, "sybilwatch replay: unexpected argument '%s'\n", argv[optind]);
        usage(stderr);
        return 1;
    }
    if (!readable_file(pcap, "capture") || !readable_file(identity_path, "identity feed")) return 1;

    // No --rules: the built-in pack, as sybilwatchd runs when rules.paths is empty.
    rules::LoadResult loaded = rule_paths.empty() ? rules::load_rules_text(rules::default_pack())
                                                  : rules::load_rules(rule_paths);
    if (!loaded.ok()) {
        for (const rules::Diagnostic& d : loaded.errors)
            std::fprintf(stderr, "%s\n", d.to_string().c_str());
        std::fprintf(stderr, "sybilwatch replay: %zu rule error%s\n", loaded.errors.size(),
                     loaded.errors.size() == 1 ? "" : "s");
        return 2;
    }
    auto ruleset = std::make_shared<const rules::RuleSet>(std::move(loaded.rules));

    std::unique_ptr<FILE, FileCloser> alerts_file;
    FILE* out = stdout;
    if (!alerts_path.empty()) {
        alerts_file.reset(std::fopen(alerts_path.c_str(), "w"));
        if (!alerts_file) {
            std::fprintf(stderr, "sybilwatch replay: --alerts %s: %s\n", alerts_path.c_str(),
                         std::strerror(errno));
            return 1;
        }
        out = alerts_file.get();
    }

    config::DaemonConfig cfg;
    cfg.fingerprints.foxio = foxio;
    cfg.identity.socket_path.clear();
    cfg.identity.datagram_path.clear();
    cfg.identity.tail_path = identity_path;
    cfg.identity.tail_from_start = true;
    // The log is read ahead of the packets and its records reach the joiner when the packets'
    // clock does (identity/attribution_feed.hpp), or earlier when over 65536 are read ahead:
    // so a record may wait for its connection for as long as the capture lasts. Its lifetime
    // is unbounded here, its number bounded by --max-pending.
    cfg.identity.record_ttl_ns = INT64_MAX / 2;
    cfg.identity.max_pending_records = max_pending;
    cfg.ring.name.clear();
    cfg.rules.paths = rule_paths;

    FindingLines findings(out);
    rules::EngineOptions eo;
    eo.max_accounts = cfg.rules.max_accounts;
    eo.finding_accounts = cfg.rules.finding_accounts;
    eo.catch_up_ns = cfg.rules.catch_up_ns;
    rules::Engine engine(ruleset, eo, findings);
    EngineFeed feed;
    feed.engine = &engine;

    try {
        service::PipelineOptions po;
        po.pcap_file = pcap;
        po.allow_ebpf = false;
        service::Pipeline pipeline(cfg, po, &feed);
        catch_stop_signals();
        int64_t advanced = 0;
        while (!stop_requested() && pipeline.step(0)) {
            // The joiner was ticked with the packets' clock; the rules follow it (each second
            // of event time, as sybilwatchd does), so windows close and clusters are rebuilt
            // when the capture's time says so.
            if (pipeline.now_ns() - advanced >= kAdvanceEveryNs) {
                advanced = pipeline.now_ns();
                feed.flush();
                engine.advance(advanced);
            }
        }
        if (stop_requested()) pipeline.drain();
        feed.flush();
        // End of input: what is open stays open. Advancing to the last packet's time runs the
        // expiry and cluster work due by then, and no further: closing findings because the
        // capture ended would report an expiry that never happened.
        engine.advance(pipeline.now_ns());
        // ... and the growth of clusters that the update factor held back is reported, as
        // sybilwatchd does when it stops, so the last finding shows each cluster's size.
        engine.flush();
        if (stats) print_stats(pipeline, engine, findings.written());
    } catch (const std::exception& e) {
        findings.flush();
        std::fprintf(stderr, "sybilwatch replay: %s\n", e.what());
        return 1;
    }
    if (!findings.flush()) {
        std::fprintf(stderr, "sybilwatch replay: writing findings failed: %s\n",
                     std::strerror(errno));
        return 1;
    }
    return 0;
}

}  // namespace sybilwatch::cli
