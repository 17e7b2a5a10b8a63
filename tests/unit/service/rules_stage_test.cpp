// RulesStage hands observations to the engine in batches. What the daemon relies on: an
// observation received before a tick (which may advance event time), a reload or the drain is
// observed before it, under the rules it arrived under; none waits past the next tick.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "config/daemon_config.hpp"
#include "fingerprint/observation.hpp"
#include "identity/attributed_observation.hpp"
#include "service/rules_stage.hpp"

namespace sybilwatch::service {
namespace {

constexpr int64_t kSec = 1'000'000'000;
constexpr int64_t kT0 = 1'700'000'000 * kSec;

// Every attributed connection counts; a group's finding closes when its minute has passed.
const char* kRule =
    "- rule: any_connection\n"
    "  desc: any attributed connection\n"
    "  kind: aggregate\n"
    "  condition: account exists\n"
    "  window: 1m\n"
    "  threshold: count >= 1\n";
const char* kOtherRule =
    "- rule: other\n"
    "  desc: never\n"
    "  condition: ja4 = \"none\"\n";

struct Fixture {
    std::string dir;
    config::DaemonConfig cfg;

    Fixture() {
        char tmpl[] = "/tmp/sw-rules-stage.XXXXXX";
        dir = ::mkdtemp(tmpl);
        write_rules(kRule);
        cfg.rules.paths = {dir + "/rules.yaml"};
        cfg.output.findings = dir + "/findings.jsonl";
        cfg.output.to_stdout = false;
        cfg.state.dir = dir;
    }
    ~Fixture() {
        std::error_code ec;
        std::filesystem::remove_all(dir, ec);
    }
    void write_rules(const char* text) const { std::ofstream(dir + "/rules.yaml") << text; }
};

// Findings the stage has passed to its sinks ("N findings[, ...]").
uint64_t findings(const RulesStage& s) {
    return std::stoull(s.summary());
}

void feed(RulesStage& s, int64_t t, int n) {
    fingerprint::Observation o;
    o.src = net::IpAddress::parse("198.51.100.23");
    o.ja4.assign("t13d1516h2_8daaf6152771_02713d6af862");
    std::string account;
    for (int i = 0; i < n; ++i) {
        o.ts_ns = t + i;
        account = "acct" + std::to_string(i);
        s.on_attributed(identity::AttributedObservation{o, account, {}, {}, 0});
    }
}

TEST(RulesStage, ObservationsBeforeATickAreObservedBeforeItsAdvance) {
    Fixture fx;
    RulesStage s(fx.cfg);
    feed(s, kT0, 3);
    // Five minutes later: the group's minute has passed. Had the advance run before the three
    // observations, their group would be new and open, not closed.
    s.tick(kT0 + 300 * kSec);
    const rules::EngineStats& st = s.engine().stats();
    EXPECT_EQ(st.observations, 3u);
    EXPECT_EQ(st.findings_created, 1u);
    EXPECT_EQ(st.findings_closed, 1u);
    EXPECT_EQ(s.engine().now(), kT0 + 300 * kSec);
}

TEST(RulesStage, ATickObservesWhatIsBufferedEvenWhenItDoesNotAdvance) {
    Fixture fx;
    RulesStage s(fx.cfg);
    s.tick(kT0);  // advances
    feed(s, kT0, 1);
    EXPECT_EQ(findings(s), 0u);  // buffered: not yet observed
    s.tick(kT0 + 1);             // within the advance interval: no advance
    EXPECT_EQ(findings(s), 1u);
}

TEST(RulesStage, AFullBatchIsObservedWithoutWaitingForATick) {
    Fixture fx;
    RulesStage s(fx.cfg);
    feed(s, kT0, static_cast<int>(rules::ObservationBatch::kDefaultCapacity));
    EXPECT_GT(findings(s), 0u);
}

TEST(RulesStage, DrainObservesWhatIsBuffered) {
    Fixture fx;
    RulesStage s(fx.cfg);
    feed(s, kT0, 1);
    EXPECT_EQ(findings(s), 0u);
    s.drain();
    EXPECT_EQ(findings(s), 1u);
}

TEST(RulesStage, ObservationsBeforeAReloadMeetTheRulesTheyArrivedUnder) {
    Fixture fx;
    RulesStage s(fx.cfg);
    feed(s, kT0, 1);
    fx.write_rules(kOtherRule);
    s.reconfigure(fx.cfg);
    // The old rule saw it (create), then went away (close).
    EXPECT_EQ(findings(s), 2u);
    const rules::EngineStats& st = s.engine().stats();
    EXPECT_EQ(st.findings_created, 1u);
    EXPECT_EQ(st.findings_closed, 1u);
}

TEST(RulesStage, SavedStateIncludesBufferedObservations) {
    Fixture fx;
    std::vector<uint8_t> saved;
    {
        RulesStage s(fx.cfg);
        feed(s, kT0, 2);
        saved = s.state()->save_state();
    }
    RulesStage restored(fx.cfg);
    restored.state()->restore_state(saved);
    EXPECT_EQ(restored.engine().accounts(), 2u);
}

}  // namespace
}  // namespace sybilwatch::service
