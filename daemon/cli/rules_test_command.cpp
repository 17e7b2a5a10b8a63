// sybilwatch rules test [--json] [--strict] PATH...: loads a rule pack as the daemon would and
// runs the test cases of its directories (DIR/tests/*.yaml) through a fresh rules engine each,
// comparing the findings with what each case expects. CI runs it on the default pack.
#include <getopt.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "capture/pcap_file.hpp"
#include "capture/source.hpp"
#include "commands.hpp"
#include "fingerprint/engine.hpp"
#include "identity/joiner.hpp"
#include "identity/record_parser.hpp"
#include "rules/rule_loader.hpp"
#include "rules/rule_test_case.hpp"

namespace sybilwatch::cli {

namespace {

void usage(FILE* out) {
    std::fputs(
        "usage: sybilwatch rules test [--json] [--strict] [--cases PATH]... PATH...\n"
        "\n"
        "Loads the rule files and directories PATH... together (as `rules check` does) and\n"
        "runs the test cases of every directory among them (DIR/tests/*.yaml and\n"
        "DIR/tests/*/*.yaml; format in docs/rules-pack.md), each through a fresh rules engine\n"
        "in event time. Prints PASS or FAIL per case, with what was expected and what the rule\n"
        "raised instead.\n"
        "\n"
        "options:\n"
        "  --cases PATH   a case file, or a directory of them, to run instead of DIR/tests\n"
        "  --strict       also fail when an enabled rule lacks a positive case (a finding\n"
        "                 expected) or a negative case (no finding expected)\n"
        "  --verbose      list every finding of passing cases too\n"
        "  --json         one JSON object: {\"passed\", \"failed\", \"cases\": [{\"id\", "
        "\"file\",\n"
        "                 \"line\", \"passed\", \"observations\", \"findings\", \"failures\"}],\n"
        "                 \"errors\", \"untested\"}\n"
        "\n"
        "exit status: 0 every case passed; 1 a case failed or the pack or a case file has\n"
        "errors; 2 usage error\n",
        out);
}

// The observations of a capture, attributed from an identity-feed file, as the daemon's
// replay would produce them: fingerprint engine, then the joiner with every record known.
struct Collect : identity::AttributedSink {
    std::vector<rules::ObservationLine>* out;
    void on_attributed(const identity::AttributedObservation& a) override {
        rules::ObservationLine l;
        l.obs = a.obs;
        l.account.assign(a.account);
        l.user_agent.assign(a.user_agent);
        l.request_id.assign(a.request_id);
        out->push_back(std::move(l));
    }
};

std::string load_capture(const std::string& capture, const std::string& attribution,
                         std::vector<rules::ObservationLine>& out) {
    std::ifstream in(attribution);
    if (!in) return "cannot read the attribution file " + attribution;
    Collect sink;
    sink.out = &out;
    identity::JoinerConfig jc;
    // Offline, every record is known before the connections: none may expire while waiting.
    jc.record_ttl_ns = INT64_MAX / 4;
    jc.linger_ns = INT64_MAX / 4;
    identity::Joiner joiner(jc, sink);
    std::string line;
    size_t n = 0;
    while (std::getline(in, line)) {
        ++n;
        if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
        identity::AttributionRecord rec;
        const identity::ParseResult r = identity::parse_record(line, rec);
        if (r != identity::ParseResult::Ok)
            return attribution + ": line " + std::to_string(n) + ": " + identity::to_string(r);
        joiner.on_attribution(rec);
    }
    try {
        capture::PcapFile file(capture);
        fingerprint::Engine engine(fingerprint::EngineConfig{}, joiner);
        capture::EngineFeed feed(engine);
        while (file.poll(0, feed) >= 0) {
        }
        engine.flush();
        joiner.flush();
        if (!file.error().empty()) return capture + ": " + file.error();
    } catch (const std::exception& e) {
        return capture + ": " + e.what();
    }
    return {};
}

// A rule is tested when some case expects a finding of it and some case expects none.
struct Coverage {
    std::set<std::string> positive, negative;
    void add(const rules::TestCase& c) {
        for (const auto& e : c.expect) {
            if (e.count.max == 0)
                negative.insert(e.rule);
            else if (e.count.min > 0)
                positive.insert(e.rule);
        }
    }
};

}  // namespace

int rules_test_command(int argc, char** argv) {
    bool json = false, strict = false, verbose = false;
    std::vector<std::string> case_paths;
    enum { kJson = 1000, kStrict, kCases, kVerbose };
    static const option opts[] = {
        {"json", no_argument, nullptr, kJson},         {"strict", no_argument, nullptr, kStrict},
        {"cases", required_argument, nullptr, kCases}, {"verbose", no_argument, nullptr, kVerbose},
        {"help", no_argument, nullptr, 'h'},           {nullptr, 0, nullptr, 0},
    };
    optind = 1;
    for (int c; (c = getopt_long(argc, argv, "hv", opts, nullptr)) != -1;) {
        switch (c) {
            case kJson:
                json = true;
                break;
            case kStrict:
                strict = true;
                break;
            case kCases:
                case_paths.emplace_back(optarg);
                break;
            case 'v':
            case kVerbose:
                verbose = true;
                break;
            case 'h':
                usage(stdout);
                return 0;
            default:
                usage(stderr);
                return 2;
        }
    }
    if (optind >= argc) {
        usage(stderr);
        return 2;
    }
    const std::vector<std::string> paths(argv + optind, argv + argc);

    std::vector<std::string> errors;
    rules::LoadResult loaded = rules::load_rules(paths);
    for (const auto& d : loaded.errors)
        errors.push_back(d.to_string());
    const auto pack = std::make_shared<const rules::RuleSet>(std::move(loaded.rules));

    // Case files: given, or the tests/ of every pack directory.
    std::vector<std::string> files;
    namespace fs = std::filesystem;
    if (case_paths.empty()) {
        for (const auto& p : paths) {
            std::error_code ec;
            if (fs::is_directory(p, ec)) {
                const auto found = rules::find_case_files(p);
                files.insert(files.end(), found.begin(), found.end());
            }
        }
        if (files.empty())
            errors.push_back("no test cases (no tests/*.yaml in the directories given)");
    } else {
        for (const auto& p : case_paths) {
            std::error_code ec;
            if (fs::is_directory(p, ec)) {
                std::vector<std::string> found;
                for (const auto& de : fs::directory_iterator(p, ec))
                    if (de.is_regular_file() &&
                        (de.path().extension() == ".yaml" || de.path().extension() == ".yml"))
                        found.push_back(de.path().string());
                std::sort(found.begin(), found.end());
                files.insert(files.end(), found.begin(), found.end());
            } else {
                files.push_back(p);
            }
        }
    }

    std::vector<rules::CaseResult> results;
    Coverage cov;
    if (loaded.errors.empty()) {
        for (const auto& f : files) {
            const rules::CaseFile cf = rules::load_case_file(f);
            errors.insert(errors.end(), cf.errors.begin(), cf.errors.end());
            if (!cf.ok()) continue;
            if (!pack->find(cf.rule))
                errors.push_back(f + ": rule '" + cf.rule + "' is not in the pack");
            for (const auto& c : cf.cases) {
                cov.add(c);
                results.push_back(rules::run_case(c, pack, load_capture));
                const auto& r = results.back();
                if (json) continue;
                std::printf("%s %s (%zu observations, %zu findings)\n", r.passed ? "PASS" : "FAIL",
                            r.id.c_str(), r.observations, r.findings.size());
                for (const auto& m : r.failures)
                    std::printf("  %s:%d: %s\n", r.file.c_str(), r.line, m.c_str());
                if (verbose || !r.passed)
                    for (const auto& fnd : r.findings)
                        std::printf("    finding: %s\n", rules::summarize(fnd).c_str());
            }
        }
    }
    std::vector<std::string> untested;
    for (const auto& s : pack->rules()) {
        if (!s.enabled) continue;
        if (!cov.positive.contains(s.id)) untested.push_back(s.id + ": no case expects a finding");
        if (!cov.negative.contains(s.id)) untested.push_back(s.id + ": no case expects no finding");
    }

    size_t passed = 0, failed = 0;
    for (const auto& r : results)
        (r.passed ? passed : failed) += 1;
    const bool ok = errors.empty() && failed == 0 && (!strict || untested.empty());
    if (json) {
        nlohmann::json out;
        out["passed"] = passed;
        out["failed"] = failed;
        out["ok"] = ok;
        out["cases"] = nlohmann::json::array();
        for (const auto& r : results)
            out["cases"].push_back({{"id", r.id},
                                    {"file", r.file},
                                    {"line", r.line},
                                    {"passed", r.passed},
                                    {"observations", r.observations},
                                    {"findings", r.findings.size()},
                                    {"failures", r.failures}});
        out["errors"] = errors;
        out["untested"] = untested;
        std::puts(out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    } else {
        for (const auto& e : errors)
            std::printf("error: %s\n", e.c_str());
        for (const auto& u : untested)
            std::printf("%s: %s\n", strict ? "error" : "warning", u.c_str());
        std::printf("%zu passed, %zu failed%s\n", passed, failed,
                    errors.empty() ? "" : ", pack or case files have errors");
    }
    return ok ? 0 : 1;
}

}  // namespace sybilwatch::cli
