// Alerts: spool append throughput (fdatasync per record and per group commit of 64), render
// throughput per format, and findings/s through a sink (JSON, spool synced) to a file
// transport (synced) on the build machine's disk.
// The finding: a link finding over 50 accounts with three sample connections taken from
// browsers-x509.pcapng (FoxIO reference values, ../shared/conformance/foxio/VECTORS.tsv).
#include <arpa/inet.h>
#include <benchmark/benchmark.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>

#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "alerts/file_transport.hpp"
#include "alerts/format.hpp"
#include "alerts/sink.hpp"
#include "alerts/spool.hpp"
#include "alerts/syslog_transport.hpp"
#include "net/unique_fd.hpp"

using namespace sybilwatch;
using namespace sybilwatch::alerts;

namespace {

rules::Finding bench_finding() {
    rules::Finding f;
    f.finding_id = "link-shared-client-stack:7f3a9c01";
    f.revision = 1;
    f.activity = rules::FindingActivity::Update;
    f.rule = "link-shared-client-stack";
    f.kind = "link";
    f.title = "Accounts sharing one client stack";
    f.output = "50 accounts share JA4 t13d1516h2_8daaf6152771_e5627efa2ab1";
    f.severity = rules::Severity::High;
    f.tags = {"account-farm", "ja4"};
    f.group = {{"ja4", "t13d1516h2_8daaf6152771_e5627efa2ab1"}};
    f.measures = {{"distinct(account)", 50}};
    for (int i = 0; i < 50; ++i)
        f.accounts.push_back("acct-" + std::to_string(100000 + i));
    f.account_count = f.accounts.size();
    f.keys = {{"ja4", "t13d1516h2_8daaf6152771_e5627efa2ab1", 50}};
    f.networks = {{"net24", "172.27.7.0/24", 50}};
    f.client_stacks = {{"ja4", "t13d1516h2_8daaf6152771_e5627efa2ab1", 50}};
    f.observations = 400;
    f.first_seen_ns = 1'700'000'000'000'000'000;
    f.last_seen_ns = f.first_seen_ns + 60'000'000'000;
    f.emitted_ns = f.last_seen_ns;
    const char* servers[][3] = {{"13.107.21.239", "edge.microsoft.com", "54524"},
                                {"68.67.160.117", "nym1-ib.adnxs.com", "54525"},
                                {"103.42.133.15", "lptag.liveperson.net", "54603"}};
    for (int i = 0; i < 3; ++i) {
        rules::SampleConnection s;
        s.ts_ns = f.first_seen_ns + i * 1'000'000'000ll;
        s.src = net::IpAddress::parse("172.27.7.31");
        s.src_port = static_cast<uint16_t>(std::stoi(servers[i][2]));
        s.dst = net::IpAddress::parse(servers[i][0]);
        s.dst_port = 443;
        s.sni = servers[i][1];
        s.account = f.accounts[static_cast<size_t>(i)];
        s.ja4 = "t13d1516h2_8daaf6152771_e5627efa2ab1";
        s.ja4t = "64240_2-1-3-1-1-4_1460_8";
        s.tcp_sig = "4:128+0:0:1460:mss*44,8:mss,nop,ws,nop,nop,sok:df,id+:0";
        f.samples.push_back(s);
    }
    return f;
}

// On the disk under TMPDIR (/tmp by default): fdatasync costs what it costs there.
std::string temp_dir(const char* tag) {
    const char* base = std::getenv("TMPDIR");
    std::string t = std::string(base && *base ? base : "/tmp") + "/sw-bench-" + tag + ".XXXXXX";
    std::vector<char> buf(t.begin(), t.end());
    buf.push_back('\0');
    if (!::mkdtemp(buf.data())) return {};
    return buf.data();
}

void BM_SpoolAppend(benchmark::State& state) {
    const auto batch = static_cast<size_t>(state.range(0));
    const std::string dir = temp_dir("spool");
    std::string payload;
    render(bench_finding(), Format::Ocsf, payload);
    std::string err;
    SpoolOptions o;  // sync on, 256 MiB bound: old segments are dropped as the bench runs
    auto spool = Spool::open(dir, o, err);
    if (!spool) {
        state.SkipWithError(err.c_str());
        return;
    }
    std::vector<std::string_view> v(batch, payload);
    for (auto _ : state)
        if (spool->append_batch(v, err) != batch) state.SkipWithError(err.c_str());
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * batch));
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * batch * payload.size()));
    state.counters["record_bytes"] = static_cast<double>(payload.size());
    spool.reset();
    std::filesystem::remove_all(dir);
}
BENCHMARK(BM_SpoolAppend)->Arg(1)->Arg(64)->UseRealTime();

void BM_Render(benchmark::State& state) {
    const auto fmt = static_cast<Format>(state.range(0));
    const rules::Finding f = bench_finding();
    std::string out;
    for (auto _ : state) {
        render(f, fmt, out);
        benchmark::DoNotOptimize(out.data());
    }
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
    state.SetLabel(to_string(fmt));
    state.counters["bytes"] = static_cast<double>(out.size());
}
BENCHMARK(BM_Render)->DenseRange(0, 3);

// Findings submitted in groups of `batch` (one spool fdatasync each), delivered to a synced
// file; an iteration ends when all 1024 are in the file.
void BM_SinkToFile(benchmark::State& state) {
    const auto batch = static_cast<size_t>(state.range(0));
    const std::string dir = temp_dir("sink");
    SinkOptions o;
    o.name = "bench";
    o.spool_dir = dir + "/spool";
    o.log = [](std::string_view) {};
    FileTransportOptions fo;
    fo.path = dir + "/alerts.json";
    std::string err;
    auto sink = Sink::create(o, std::make_unique<FileTransport>(fo), err);
    if (!sink) {
        state.SkipWithError(err.c_str());
        return;
    }
    const std::vector<rules::Finding> group(batch, bench_finding());
    constexpr size_t kPerIteration = 1024;
    uint64_t target = 0;
    for (auto _ : state) {
        for (size_t n = 0; n < kPerIteration; n += batch)
            sink->submit_batch(group);
        target += kPerIteration;
        while (sink->stats().delivered < target)
            std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kPerIteration));
    sink->stop();
    sink.reset();
    std::filesystem::remove_all(dir);
}
BENCHMARK(BM_SinkToFile)->Arg(1)->Arg(64)->UseRealTime()->Unit(benchmark::kMillisecond);

// A local TCP syslog receiver that reads and discards: what a sink sustains when the SIEM keeps
// up. The loopback listener runs on its own thread.
class DiscardReceiver {
  public:
    DiscardReceiver() {
        listen_ = net::UniqueFd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
        sockaddr_in sa{};
        sa.sin_family = AF_INET;
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        ::bind(listen_.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa);
        ::listen(listen_.get(), 4);
        socklen_t len = sizeof sa;
        ::getsockname(listen_.get(), reinterpret_cast<sockaddr*>(&sa), &len);
        port_ = ntohs(sa.sin_port);
        thread_ = std::thread([this] {
            net::UniqueFd c(::accept(listen_.get(), nullptr, nullptr));
            std::vector<char> buf(1 << 16);
            while (c && ::recv(c.get(), buf.data(), buf.size(), 0) > 0) {
            }
        });
    }
    ~DiscardReceiver() {
        ::shutdown(listen_.get(), SHUT_RDWR);
        thread_.join();
    }
    uint16_t port() const { return port_; }

  private:
    net::UniqueFd listen_;
    uint16_t port_ = 0;
    std::thread thread_;
};

// Findings through a sink (spool, delivery thread) to the local receiver over RFC 6587 TCP
// syslog, JSON and CEF payloads; an iteration ends when all 1024 were sent.
void BM_SinkToSyslogTcp(benchmark::State& state) {
    const auto format = static_cast<Format>(state.range(0));
    DiscardReceiver rx;
    const std::string dir = temp_dir("syslog");
    SinkOptions o;
    o.name = "bench";
    o.format = format;
    o.spool_dir = dir + "/spool";
    o.log = [](std::string_view) {};
    SyslogTransportConfig sc;
    sc.protocol = SyslogProtocol::Tcp;
    sc.host = "127.0.0.1";
    sc.port = rx.port();
    std::string err;
    auto transport = SyslogTransport::create(sc, err);
    if (!transport) {
        state.SkipWithError(err.c_str());
        return;
    }
    auto sink = Sink::create(o, std::move(transport), err);
    if (!sink) {
        state.SkipWithError(err.c_str());
        return;
    }
    const std::vector<rules::Finding> group(64, bench_finding());
    constexpr size_t kPerIteration = 1024;
    uint64_t target = 0;
    for (auto _ : state) {
        for (size_t n = 0; n < kPerIteration; n += group.size())
            sink->submit_batch(group);
        target += kPerIteration;
        while (sink->stats().delivered < target)
            std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kPerIteration));
    state.SetLabel(to_string(format));
    sink->stop();
    sink.reset();
    std::filesystem::remove_all(dir);
}
BENCHMARK(BM_SinkToSyslogTcp)
    ->Arg(static_cast<int>(Format::Json))
    ->Arg(static_cast<int>(Format::Cef))
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace
