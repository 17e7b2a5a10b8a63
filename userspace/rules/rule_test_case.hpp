// Rule test cases: observations in, the findings a rule pack must (and must not) raise. A case
// file (rules/tests/RULE_ID.yaml, format in docs/rules-pack.md) holds a sequence of cases; each
// case runs through a fresh rules::Engine in event time and its findings are compared with the
// case's expectations. `sybilwatch rules test` and CI run them.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "rules/finding.hpp"
#include "rules/observation_reader.hpp"
#include "rules/rule_loader.hpp"

namespace sybilwatch::rules {

// An inclusive range of counts: "3", "2..5", ">=1", "<=4".
struct CountRange {
    uint64_t min = 0;
    uint64_t max = UINT64_MAX;
    bool contains(uint64_t v) const { return v >= min && v <= max; }
    std::string to_string() const;
};
// Parses the forms above; nullopt when `text` is none of them.
std::optional<CountRange> parse_count_range(std::string_view text);

// "Findings of RULE (with ACTIVITY) that satisfy every constraint: COUNT of them".
struct FindingExpectation {
    std::string rule;
    std::optional<FindingActivity> activity = FindingActivity::Create;  // nullopt: any
    CountRange count{1, UINT64_MAX};
    std::optional<CountRange> account_count;
    std::vector<std::string> accounts;      // each must be in the finding's accounts
    std::vector<std::string> not_accounts;  // none may be
    // Keys the finding must list: field ("ja4", "ja4+net24", "net24", ...) and value; an empty
    // value (written "*") accepts any value of that field.
    std::vector<std::pair<std::string, std::string>> keys;
    std::string output_contains;
    int line = 0;  // in the case file

    // A human-readable statement: "1 create finding of proxy_rotation with account_count 30".
    std::string describe() const;
    bool matches(const Finding& f) const;
};

struct TestCase {
    std::string file;  // the case file
    int line = 0;
    std::string rule;  // the file's rule
    std::string name;
    std::string desc;
    std::vector<ObservationLine> observations;  // inline and generated, in time order
    // A capture and its attribution feed (JSON lines of the identity feed), resolved paths;
    // their observations are added to the inline ones.
    std::string capture, attribution;
    // Event time to advance to after the last observation (windows expire, scans run):
    // absolute, or relative to the last observation; neither = no extra advance.
    std::optional<int64_t> advance_to_ns;
    int64_t advance_by_ns = 0;
    std::vector<FindingExpectation> expect;

    std::string id() const { return rule + "/" + name; }
};

struct CaseFile {
    std::string path;
    std::string rule;
    std::vector<TestCase> cases;
    std::vector<std::string> errors;  // "FILE:LINE: message"
    bool ok() const { return errors.empty(); }
};

// Loads a case file (`base_dir` resolves relative file names in it).
CaseFile load_case_file(const std::string& path);
CaseFile load_case_text(std::string_view text, const std::string& name,
                        const std::string& base_dir);

// Case files of a pack: DIR/tests/*.yaml (and *.yml), and DIR/tests/*/*.yaml, by name.
std::vector<std::string> find_case_files(const std::string& pack_dir);

// Turns a capture and an attribution file into observations (the tool wires the capture,
// fingerprint and identity libraries in); returns an error message or "".
using CaptureLoader = std::function<std::string(
    const std::string& capture, const std::string& attribution, std::vector<ObservationLine>&)>;

struct CaseResult {
    std::string id;  // RULE/NAME
    std::string file;
    int line = 0;
    bool passed = false;
    std::vector<std::string> failures;  // one explanation per unmet expectation (or error)
    size_t observations = 0;
    std::vector<Finding> findings;
};

// Compares findings with expectations; one explanation per unmet expectation, each listing
// what the rule did raise.
std::vector<std::string> compare_findings(std::span<const FindingExpectation> expect,
                                          std::span<const Finding> findings);

// Runs one case through a fresh engine over `rules`; expectations naming a rule that is not
// in the pack (or is disabled) fail.
CaseResult run_case(const TestCase& c, const std::shared_ptr<const RuleSet>& rules,
                    const CaptureLoader& capture_loader = {});

// One line about a finding, for explanations: "create rule=x accounts=12 keys=ja4:t13d..".
std::string summarize(const Finding& f);

}  // namespace sybilwatch::rules
