// Sinks with a fake transport: filters, back-off while the receiver is down, at least once
// through partial accepts and restarts, the rate limit, drain on stop, fan-out.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <set>
#include <thread>

#include "alerts/router.hpp"
#include "alerts/sink.hpp"
#include "unit/alerts/finding_fixture.hpp"

namespace sybilwatch::alerts {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

class TempDir {
  public:
    TempDir() {
        char tmpl[] = "/tmp/sw-sink-test.XXXXXX";
        path_ = ::mkdtemp(tmpl);
    }
    ~TempDir() { fs::remove_all(path_); }
    const std::string& path() const { return path_; }

  private:
    std::string path_;
};

// Records what it accepted; fails the first `fail_first` calls, then accepts up to
// `accept_per_call` payloads per call.
struct FakeState {
    std::mutex mu;
    std::vector<std::string> got;
    std::vector<Clock::time_point> calls;
    int fail_first = 0;
    bool always_fail = false;
    size_t accept_per_call = SIZE_MAX;
};

class FakeTransport : public Transport {
  public:
    explicit FakeTransport(std::shared_ptr<FakeState> s) : s_(std::move(s)) {}
    size_t send(std::span<const std::string_view> p, std::string& error) override {
        std::lock_guard lk(s_->mu);
        s_->calls.push_back(Clock::now());
        if (s_->always_fail || s_->fail_first > 0) {
            --s_->fail_first;
            error = "connection refused";
            return 0;
        }
        const size_t n = std::min(p.size(), s_->accept_per_call);
        for (size_t i = 0; i < n; ++i)
            s_->got.emplace_back(p[i]);
        if (n < p.size()) error = "partial";
        return n;
    }
    std::string_view name() const override { return "fake"; }

  private:
    std::shared_ptr<FakeState> s_;
};

rules::Finding finding(int i, rules::Severity sev = rules::Severity::High,
                       std::vector<std::string> tags = {"account-farm"}) {
    rules::Finding f;
    f.finding_id = "f" + std::to_string(i);
    f.rule = "link-shared-client-stack";
    f.title = "t";
    f.severity = sev;
    f.tags = std::move(tags);
    return f;
}

SinkOptions options(const std::string& dir) {
    SinkOptions o;
    o.name = "test";
    o.spool_dir = dir;
    o.spool.sync = false;
    o.backoff.initial = 1ms;
    o.backoff.max = 10ms;
    o.log = [](std::string_view) {};
    return o;
}

std::unique_ptr<Sink> make(SinkOptions o, std::shared_ptr<FakeState> st) {
    std::string err;
    auto s = Sink::create(std::move(o), std::make_unique<FakeTransport>(st), err);
    EXPECT_TRUE(s) << err;
    return s;
}

bool wait_for(const std::function<bool()>& pred, std::chrono::milliseconds limit = 5000ms) {
    const auto until = Clock::now() + limit;
    while (!pred()) {
        if (Clock::now() > until) return false;
        std::this_thread::sleep_for(1ms);
    }
    return true;
}

std::set<std::string> ids(FakeState& st) {
    std::lock_guard lk(st.mu);
    std::set<std::string> out;
    for (auto& p : st.got)
        out.insert(nlohmann::json::parse(p)["finding_id"].get<std::string>());
    return out;
}

TEST(Backoff, ExponentialCappedJittered) {
    BackoffOptions o;
    o.initial = 100ms;
    o.max = 1000ms;
    o.jitter = 0;
    EXPECT_EQ(backoff_delay(o, 1, 0.5), 100ms);
    EXPECT_EQ(backoff_delay(o, 2, 0.5), 200ms);
    EXPECT_EQ(backoff_delay(o, 4, 0.5), 800ms);
    EXPECT_EQ(backoff_delay(o, 5, 0.5), 1000ms);
    EXPECT_EQ(backoff_delay(o, 4000000000u, 0.5), 1000ms);  // no overflow
    o.jitter = 0.5;
    EXPECT_EQ(backoff_delay(o, 3, 0.0), 400ms);
    EXPECT_EQ(backoff_delay(o, 3, 1.0), 200ms);
    const auto mid = backoff_delay(o, 3, 0.5);
    EXPECT_GT(mid, 200ms);
    EXPECT_LT(mid, 400ms);
}

TEST(TokenBucketTest, RateAndBurst) {
    const auto t0 = Clock::now();
    TokenBucket b(10, 5, t0);
    EXPECT_EQ(b.take(8, t0), 5u);  // the burst
    EXPECT_EQ(b.take(1, t0), 0u);
    EXPECT_GT(b.until_one(t0), 0ms);
    EXPECT_EQ(b.take(8, t0 + 300ms), 3u);  // 10/s for 0.3 s
    b.refund(2);
    EXPECT_EQ(b.take(8, t0 + 300ms), 2u);
    TokenBucket unlimited(0, 0, t0);
    EXPECT_EQ(unlimited.take(1000, t0), 1000u);
}

TEST(SinkFilterTest, SeverityTagsRules) {
    SinkFilter f;
    f.min_severity = rules::Severity::Medium;
    EXPECT_FALSE(f.pass(finding(1, rules::Severity::Low)));
    EXPECT_TRUE(f.pass(finding(1, rules::Severity::Medium)));
    f.include_tags = {"ja4"};
    EXPECT_FALSE(f.pass(finding(1)));
    EXPECT_TRUE(f.pass(finding(1, rules::Severity::High, {"x", "ja4"})));
    f.exclude_tags = {"noisy"};
    EXPECT_FALSE(f.pass(finding(1, rules::Severity::High, {"ja4", "noisy"})));
    f = {};
    f.include_rules = {"a"};
    EXPECT_FALSE(f.pass(finding(1)));
    f = {};
    f.exclude_rules = {"link-shared-client-stack"};
    EXPECT_FALSE(f.pass(finding(1)));
    f = {};
    f.closes = false;
    auto c = finding(1);
    c.activity = rules::FindingActivity::Close;
    EXPECT_FALSE(f.pass(c));
}

TEST(Sink, DeliversAndCountsFiltered) {
    TempDir d;
    auto st = std::make_shared<FakeState>();
    auto o = options(d.path());
    o.filter.min_severity = rules::Severity::High;
    auto s = make(o, st);
    EXPECT_EQ(s->submit(finding(1)), Sink::Outcome::Spooled);
    EXPECT_EQ(s->submit(finding(2, rules::Severity::Low)), Sink::Outcome::Filtered);
    EXPECT_EQ(s->submit(test::farm_finding()), Sink::Outcome::Spooled);
    ASSERT_TRUE(wait_for([&] { return s->stats().delivered == 2; }));
    const auto stats = s->stats();
    EXPECT_EQ(stats.accepted, 2u);
    EXPECT_EQ(stats.filtered, 1u);
    EXPECT_EQ(stats.spooled, 2u);
    EXPECT_EQ(stats.backlog, 0u);
    EXPECT_EQ(ids(*st), (std::set<std::string>{"f1", "link-shared-client-stack:7f3a9c01"}));
}

TEST(Sink, BacksOffExponentiallyWhileDown) {
    TempDir d;
    auto st = std::make_shared<FakeState>();
    st->fail_first = 5;
    auto o = options(d.path());
    o.backoff.initial = 4ms;
    o.backoff.max = 32ms;
    o.backoff.jitter = 0.5;
    auto s = make(o, st);
    s->submit(finding(1));
    ASSERT_TRUE(wait_for([&] { return s->stats().delivered == 1; }));
    const auto stats = s->stats();
    EXPECT_EQ(stats.retries, 5u);
    EXPECT_EQ(stats.consecutive_failures, 0u);
    EXPECT_EQ(stats.last_error, "connection refused");
    std::lock_guard lk(st->mu);
    ASSERT_EQ(st->calls.size(), 6u);
    // Gap k waits at least half the nominal 4ms * 2^(k-1), capped at 32ms.
    const std::chrono::milliseconds floor[] = {2ms, 4ms, 8ms, 16ms, 16ms};
    for (size_t k = 1; k < st->calls.size(); ++k)
        EXPECT_GE(st->calls[k] - st->calls[k - 1], floor[k - 1]) << "gap " << k;
}

TEST(Sink, PartialAcceptsStillDeliverEverythingInOrder) {
    TempDir d;
    auto st = std::make_shared<FakeState>();
    st->accept_per_call = 3;
    auto s = make(options(d.path()), st);
    std::vector<rules::Finding> fs_;
    for (int i = 0; i < 50; ++i)
        fs_.push_back(finding(i));
    EXPECT_EQ(s->submit_batch(fs_), 50u);
    ASSERT_TRUE(wait_for([&] { return s->stats().delivered == 50; }));
    std::lock_guard lk(st->mu);
    ASSERT_EQ(st->got.size(), 50u);
    for (int i = 0; i < 50; ++i)
        EXPECT_EQ(nlohmann::json::parse(st->got[i])["finding_id"], "f" + std::to_string(i));
}

TEST(Sink, NothingLostAcrossStopAndRestart) {
    TempDir d;
    auto down = std::make_shared<FakeState>();
    down->always_fail = true;
    {
        auto s = make(options(d.path()), down);
        for (int i = 0; i < 20; ++i)
            ASSERT_EQ(s->submit(finding(i)), Sink::Outcome::Spooled);
        const auto t0 = Clock::now();
        s->stop(50ms);  // cannot deliver: leaves all in the spool, returns within the deadline
        EXPECT_LT(Clock::now() - t0, 1s);
        EXPECT_EQ(s->stats().backlog, 20u);
        EXPECT_EQ(s->stats().delivered, 0u);
    }
    auto up = std::make_shared<FakeState>();
    auto s = make(options(d.path()), up);
    EXPECT_EQ(s->stats().spool.recovered_records, 20u);
    ASSERT_TRUE(wait_for([&] { return s->stats().delivered == 20; }));
    std::set<std::string> want;
    for (int i = 0; i < 20; ++i)
        want.insert("f" + std::to_string(i));
    EXPECT_EQ(ids(*up), want);
}

TEST(Sink, StopDrainsWithinTheDeadline) {
    TempDir d;
    auto st = std::make_shared<FakeState>();
    auto s = make(options(d.path()), st);
    for (int i = 0; i < 200; ++i)
        s->submit(finding(i));
    s->stop(5s);
    EXPECT_EQ(s->stats().delivered, 200u);
    EXPECT_EQ(s->stats().backlog, 0u);
}

TEST(Sink, RateLimitDelaysInsteadOfDropping) {
    TempDir d;
    auto st = std::make_shared<FakeState>();
    auto o = options(d.path());
    o.rate_per_second = 50;
    o.rate_burst = 5;
    auto s = make(o, st);
    const auto t0 = Clock::now();
    for (int i = 0; i < 20; ++i)
        s->submit(finding(i));
    ASSERT_TRUE(wait_for([&] { return s->stats().delivered == 20; }));
    // 5 at once, then 15 at 50/s: at least 0.3 s.
    EXPECT_GE(Clock::now() - t0, 280ms);
    const auto stats = s->stats();
    EXPECT_GE(stats.rate_limited, 15u);
    EXPECT_LE(stats.rate_limited, 20u);
    EXPECT_EQ(ids(*st).size(), 20u);
}

TEST(Sink, FullSpoolDropsAreCountedInSinkStats) {
    TempDir d;
    auto st = std::make_shared<FakeState>();
    st->always_fail = true;
    auto o = options(d.path());
    o.spool.max_bytes = 8192;
    o.spool.segment_bytes = 1024;
    auto s = make(o, st);
    for (int i = 0; i < 300; ++i)
        s->submit(test::farm_finding());
    const auto stats = s->stats();
    EXPECT_GT(stats.dropped_full, 0u);
    EXPECT_EQ(stats.spooled, 300u);
    // Dropped, still waiting, or held by the delivery thread's current batch (read, unsent).
    EXPECT_LE(stats.dropped_full + stats.backlog, 300u);
    EXPECT_GE(stats.dropped_full + stats.backlog + o.max_batch, 300u);
}

TEST(Router, FansOutPerSinkFormatAndFilter) {
    TempDir a, b;
    auto sa = std::make_shared<FakeState>(), sb = std::make_shared<FakeState>();
    AlertRouter r;
    auto oa = options(a.path());
    oa.format = Format::Json;
    r.add(make(oa, sa));
    auto ob = options(b.path());
    ob.format = Format::Cef;
    ob.filter.min_severity = rules::Severity::Critical;
    r.add(make(ob, sb));
    EXPECT_EQ(r.publish(finding(1, rules::Severity::High)), 1u);
    EXPECT_EQ(r.publish(finding(2, rules::Severity::Critical)), 2u);
    r.stop(2s);
    EXPECT_EQ(ids(*sa), (std::set<std::string>{"f1", "f2"}));
    std::lock_guard lk(sb->mu);
    ASSERT_EQ(sb->got.size(), 1u);
    EXPECT_EQ(sb->got[0].rfind("CEF:0|sybilwatch|", 0), 0u);
    EXPECT_NE(sb->got[0].find("externalId=f2"), std::string::npos);
    const auto stats = r.stats();
    ASSERT_EQ(stats.size(), 2u);
    EXPECT_EQ(stats[1].second.filtered, 1u);
}

}  // namespace
}  // namespace sybilwatch::alerts
