#include "config/load_config.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>

namespace sybilwatch::config {
namespace {

using ::testing::HasSubstr;

// The message of the ConfigError that loading `yaml` throws ("" when it loads).
std::string error_of(std::string_view yaml) {
    try {
        load_config_text(yaml, "test.yaml");
    } catch (const ConfigError& e) {
        return e.what();
    }
    return "";
}

TEST(LoadConfig, EmptyTextGivesDefaults) {
    EXPECT_EQ(load_config_text("", "x.yaml"), DaemonConfig{});
    EXPECT_EQ(load_config_text("# only a comment\n", "x.yaml"), DaemonConfig{});
    EXPECT_EQ(load_config_text("---\n", "x.yaml"), DaemonConfig{});
    EXPECT_EQ(load_config_text("capture:\nlog:\n", "x.yaml"), DaemonConfig{});
}

TEST(LoadConfig, DefaultsMatchTheLibraries) {
    // The daemon's defaults are the libraries' own where a library has one.
    const DaemonConfig c;
    const fingerprint::EngineConfig e;
    EXPECT_EQ(c.fingerprints.max_flows, e.max_flows);
    EXPECT_EQ(c.fingerprints.reassembly_buffers, e.reassembly_buffers);
    EXPECT_EQ(c.fingerprints.tcp_idle_ns, e.tcp_idle_ns);
    EXPECT_EQ(c.fingerprints.udp_idle_ns, e.udp_idle_ns);
    const capture::EbpfConfig b;
    EXPECT_EQ(c.capture.ports, b.tcp_ports);
    EXPECT_EQ(c.capture.ports, b.udp_ports);
    EXPECT_EQ(c.capture.ring_bytes, b.ring_bytes);
    EXPECT_EQ(c.capture.max_flows, b.max_flows);
    const identity::JoinerConfig j;
    EXPECT_EQ(c.identity.join_wait_ns, j.wait_ns);
    EXPECT_EQ(c.identity.record_ttl_ns, j.record_ttl_ns);
    EXPECT_EQ(c.identity.max_pending_records, j.max_pending_records);
    EXPECT_EQ(c.identity.max_waiting, j.max_waiting);
    EXPECT_EQ(c.identity.max_connections, j.max_connections);
    EXPECT_EQ(c.identity.socket_mode, identity::UnixSocketOptions{}.mode);
    EXPECT_EQ(c.ring.capacity, shm::WriterOptions{}.capacity);
    EXPECT_EQ(c.ring.name, shm::kDefaultRing);
}

constexpr std::string_view kFull = R"(capture:
  interface: eth1
  mode: ebpf
  ports: [443, 8443, 9443]
  ring_bytes: 16777216
  max_flows: 1048576
fingerprints:
  foxio: false
  raw: false
  max_flows: 262144
  reassembly_buffers: 8192
  tcp_idle: 2m
  udp_idle: 30s
identity:
  socket:
    path: /run/sw/a.sock
    mode: "0620"
    group: www-data
  datagram:
    path: /run/sw/d.sock
  tail:
    path: /var/log/nginx/attribution.log
    from_start: true
  join:
    wait: 250ms
    record_ttl: 1h
    max_pending_records: 1000
    max_waiting: 2000
    max_connections: 3000
ring:
  name: edge-1
  capacity: 1024
output:
  findings: /srv/findings.jsonl
  stdout: false
metrics:
  listen: 0.0.0.0:9100
  allow_non_loopback: true
state:
  dir: /srv/state
  save_interval: 5s
log:
  level: debug
)";

TEST(LoadConfig, FullExample) {
    const DaemonConfig c = load_config_text(kFull, "full.yaml");
    EXPECT_EQ(c.capture.interface, "eth1");
    EXPECT_EQ(c.capture.mode, CaptureMode::Ebpf);
    EXPECT_EQ(c.capture.ports, (std::vector<uint16_t>{443, 8443, 9443}));
    EXPECT_EQ(c.capture.ring_bytes, 16u << 20);
    EXPECT_EQ(c.capture.max_flows, 1u << 20);
    EXPECT_FALSE(c.fingerprints.foxio);
    EXPECT_FALSE(c.fingerprints.raw);
    EXPECT_EQ(c.fingerprints.max_flows, 262144u);
    EXPECT_EQ(c.fingerprints.reassembly_buffers, 8192u);
    EXPECT_EQ(c.fingerprints.tcp_idle_ns, 120'000'000'000);
    EXPECT_EQ(c.fingerprints.udp_idle_ns, 30'000'000'000);
    EXPECT_EQ(c.identity.socket_path, "/run/sw/a.sock");
    EXPECT_EQ(c.identity.socket_mode, 0620u);
    EXPECT_EQ(c.identity.socket_group, "www-data");
    EXPECT_EQ(c.identity.datagram_path, "/run/sw/d.sock");
    EXPECT_EQ(c.identity.tail_path, "/var/log/nginx/attribution.log");
    EXPECT_TRUE(c.identity.tail_from_start);
    EXPECT_EQ(c.identity.join_wait_ns, 250'000'000);
    EXPECT_EQ(c.identity.record_ttl_ns, 3'600'000'000'000);
    EXPECT_EQ(c.identity.max_pending_records, 1000u);
    EXPECT_EQ(c.identity.max_waiting, 2000u);
    EXPECT_EQ(c.identity.max_connections, 3000u);
    EXPECT_EQ(c.ring.name, "edge-1");
    EXPECT_EQ(c.ring.capacity, 1024u);
    EXPECT_EQ(c.output.findings, "/srv/findings.jsonl");
    EXPECT_FALSE(c.output.to_stdout);
    EXPECT_EQ(c.metrics.listen, "0.0.0.0:9100");
    EXPECT_TRUE(c.metrics.allow_non_loopback);
    EXPECT_EQ(c.state.dir, "/srv/state");
    EXPECT_EQ(c.state.save_interval_ns, 5'000'000'000);
    EXPECT_EQ(c.log.level, LogLevel::Debug);

    // ... and onto the libraries' settings.
    const auto e = c.to_engine_config();
    EXPECT_EQ(e.max_flows, 262144u);
    EXPECT_EQ(e.reassembly_buffers, 8192u);
    EXPECT_EQ(e.tcp_idle_ns, 120'000'000'000);
    EXPECT_EQ(e.udp_idle_ns, 30'000'000'000);
    EXPECT_FALSE(e.foxio);
    EXPECT_FALSE(e.raw);
    const auto b = c.to_ebpf_config();
    EXPECT_EQ(b.interface, "eth1");
    EXPECT_EQ(b.tcp_ports, c.capture.ports);
    EXPECT_EQ(b.udp_ports, c.capture.ports);
    EXPECT_EQ(b.ring_bytes, 16u << 20);
    EXPECT_EQ(b.max_flows, 1u << 20);
    EXPECT_EQ(b.tcp_idle_ns, 120'000'000'000);
    const auto s = c.to_socket_source_config();
    EXPECT_EQ(s.socket.path, "/run/sw/a.sock");
    EXPECT_EQ(s.socket.mode, 0620u);
    EXPECT_EQ(s.socket.group, "www-data");
    const auto d = c.to_datagram_source_config();
    EXPECT_EQ(d.socket.path, "/run/sw/d.sock");
    EXPECT_EQ(d.socket.group, "www-data");
    const auto t = c.to_file_tail_config();
    EXPECT_EQ(t.path, "/var/log/nginx/attribution.log");
    EXPECT_TRUE(t.from_start);
    const auto j = c.to_joiner_config();
    EXPECT_EQ(j.wait_ns, 250'000'000);
    EXPECT_EQ(j.record_ttl_ns, 3'600'000'000'000);
    EXPECT_EQ(j.max_pending_records, 1000u);
    EXPECT_EQ(j.max_waiting, 2000u);
    EXPECT_EQ(j.max_connections, 3000u);
    EXPECT_EQ(c.to_writer_options().capacity, 1024u);
}

TEST(LoadConfig, DumpReadsBackToTheSameConfig) {
    const DaemonConfig c = load_config_text(kFull, "full.yaml");
    EXPECT_EQ(load_config_text(dump_config(c), "dump"), c);
    EXPECT_EQ(load_config_text(dump_config(DaemonConfig{}), "dump"), DaemonConfig{});
}

TEST(LoadConfig, PartialSectionKeepsOtherDefaults) {
    const DaemonConfig c = load_config_text("capture:\n  ports: [8443]\n", "p.yaml");
    DaemonConfig want;
    want.capture.ports = {8443};
    EXPECT_EQ(c, want);
}

TEST(LoadConfig, SyntaxError) {
    EXPECT_THAT(error_of("capture:\n  ports: [443, 8443\n"),
                HasSubstr("test.yaml:3:1: YAML syntax error: "));
    EXPECT_THAT(error_of("capture:\n  mode: \"auto\n"), HasSubstr("test.yaml:"));
    EXPECT_THAT(error_of("a: b\n- c\n"), HasSubstr("test.yaml:2:1: YAML syntax error"));
}

TEST(LoadConfig, InputThatHangsYamlCppLoadAllIsRejected) {
    // Found by fuzzing: yaml-cpp 0.7's LoadAll never returns on it (yaml-cpp#1319).
    EXPECT_EQ(error_of("# sybi /e44]\n, f"),
              "test.yaml:2:1: the config must be a mapping of sections");
    EXPECT_EQ(error_of("# comment\n  ~\n"),
              "test.yaml:2:3: the config must be a mapping of sections");
}

TEST(LoadConfig, UnknownTopLevelKey) {
    EXPECT_EQ(error_of("log:\n  level: info\ncaptur:\n  mode: auto\n"),
              "test.yaml:3:1: captur: unknown key 'captur' (did you mean 'capture'?)");
    EXPECT_EQ(error_of("bogus: 1\n"), "test.yaml:1:1: bogus: unknown key 'bogus'");
}

TEST(LoadConfig, UnknownNestedKey) {
    EXPECT_EQ(error_of("capture:\n  mode: auto\n  intrface: eth0\n"),
              "test.yaml:3:3: capture.intrface: unknown key 'intrface' (did you mean "
              "'interface'?)");
    EXPECT_EQ(error_of("identity:\n  join:\n    wait: 1s\n    ttl: 1s\n"),
              "test.yaml:4:5: identity.join.ttl: unknown key 'ttl'");
    EXPECT_EQ(error_of("identity:\n  socket:\n    pth: /x\n"),
              "test.yaml:3:5: identity.socket.pth: unknown key 'pth' (did you mean 'path'?)");
    // A leaf where a section belongs, and a section where a leaf belongs.
    EXPECT_EQ(error_of("identity:\n  socket: /run/x.sock\n"),
              "test.yaml:2:11: identity.socket: expected a mapping of keys");
    EXPECT_EQ(error_of("capture:\n  mode:\n    x: 1\n"),
              "test.yaml:3:5: capture.mode: expected a name");
}

TEST(LoadConfig, DuplicateKey) {
    EXPECT_EQ(error_of("log:\n  level: info\n  level: warn\n"),
              "test.yaml:3:3: log.level: duplicate key");
}

TEST(LoadConfig, WrongTypes) {
    EXPECT_EQ(error_of("capture:\n  max_flows: many\n"),
              "test.yaml:2:14: capture.max_flows: expected an integer, got 'many'");
    EXPECT_EQ(error_of("capture:\n  ports: 443\n"),
              "test.yaml:2:10: capture.ports: expected a list of ports, e.g. [443, 8443]");
    EXPECT_EQ(error_of("fingerprints:\n  foxio: yes\n"),
              "test.yaml:2:10: fingerprints.foxio: expected true or false, got 'yes'");
    EXPECT_EQ(error_of("output:\n  findings: [a]\n"),
              "test.yaml:2:13: output.findings: expected a string");
    EXPECT_EQ(error_of("capture:\n  interface:\n"),
              "test.yaml:2:3: capture.interface: no value: expected a string (\"\" for none)");
    EXPECT_EQ(error_of("- capture\n"), "test.yaml:1:1: the config must be a mapping of sections");
    EXPECT_EQ(error_of("capture: 5\n"), "test.yaml:1:10: capture: expected a mapping of keys");
}

TEST(LoadConfig, OutOfRange) {
    EXPECT_EQ(error_of("capture:\n  ports: [443, 70000]\n"),
              "test.yaml:2:16: capture.ports[1]: 70000 is out of range 1..65535");
    EXPECT_EQ(error_of("capture:\n  ports:\n    - 0\n"),
              "test.yaml:3:7: capture.ports[0]: 0 is out of range 1..65535");
    EXPECT_EQ(error_of("capture:\n  ports: [443, 443]\n"),
              "test.yaml:2:16: capture.ports[1]: port 443 listed twice");
    EXPECT_EQ(error_of("capture:\n  ports: []\n"),
              "test.yaml:2:10: capture.ports: at least one port is needed");
    EXPECT_EQ(error_of("ring:\n  capacity: 1000\n"),
              "test.yaml:2:13: ring.capacity: 1000 is not a power of two");
    EXPECT_EQ(error_of("ring:\n  capacity: 2097152\n"),
              "test.yaml:2:13: ring.capacity: 2097152 is out of range 2..1048576");
    EXPECT_EQ(error_of("capture:\n  ring_bytes: 1024\n"),
              "test.yaml:2:15: capture.ring_bytes: 1024 is out of range 4096..1073741824");
    EXPECT_EQ(error_of("fingerprints:\n  max_flows: 0\n"),
              "test.yaml:2:14: fingerprints.max_flows: 0 is out of range 1..16777216");
    EXPECT_EQ(error_of("identity:\n  socket:\n    mode: \"0999\"\n"),
              "test.yaml:3:11: identity.socket.mode: expected an octal mode such as \"0660\", "
              "got '0999'");
    EXPECT_EQ(error_of("ring:\n  name: .hidden\n"),
              "test.yaml:2:9: ring.name: not a ring name: '.hidden' (1 to 200 of A-Z a-z 0-9 . _ "
              "-, not starting with '.')");
    EXPECT_EQ(error_of("state:\n  dir: relative/dir\n"),
              "test.yaml:2:8: state.dir: expected an absolute path, got 'relative/dir'");
    EXPECT_THAT(error_of("identity:\n  socket:\n    path: /" + std::string(107, 'a') + "\n"),
                HasSubstr("test.yaml:3:11: identity.socket.path: path longer than 107"));
}

TEST(LoadConfig, Durations) {
    EXPECT_EQ(load_config_text("state:\n  save_interval: 250ms\n", "d").state.save_interval_ns,
              250'000'000);
    EXPECT_EQ(load_config_text("state:\n  save_interval: 1h\n", "d").state.save_interval_ns,
              3'600'000'000'000);
    EXPECT_EQ(load_config_text("identity:\n  join:\n    wait: 0s\n", "d").identity.join_wait_ns, 0);
    EXPECT_EQ(error_of("fingerprints:\n  tcp_idle: 0s\n"),
              "test.yaml:2:13: fingerprints.tcp_idle: the duration must be positive");
    EXPECT_EQ(error_of("fingerprints:\n  udp_idle: 300\n"),
              "test.yaml:2:13: fingerprints.udp_idle: expected a duration: an integer and a unit "
              "(ns, us, ms, s, m, h), e.g. \"5s\"; got '300'");
    EXPECT_THAT(error_of("state:\n  save_interval: -5s\n"),
                HasSubstr("test.yaml:2:18: state.save_interval: expected a duration"));
}

TEST(LoadConfig, BadEnums) {
    EXPECT_EQ(error_of("capture:\n  mode: epbf\n"),
              "test.yaml:2:9: capture.mode: bad value 'epbf': expected one of auto, ebpf, pcap "
              "(did you mean 'ebpf'?)");
    EXPECT_EQ(error_of("log:\n  level: verbose\n"),
              "test.yaml:2:10: log.level: bad value 'verbose': expected one of trace, debug, "
              "info, warn, error, critical, off");
}

TEST(LoadConfig, MetricsMustBeLoopback) {
    EXPECT_EQ(error_of("metrics:\n  listen: 0.0.0.0:9967\n"),
              "test.yaml:2:11: metrics.listen: '0.0.0.0:9967' is not a loopback address "
              "(metrics are unauthenticated; set metrics.allow_non_loopback: true to expose "
              "them)");
    // The permission may come after the address.
    EXPECT_EQ(
        load_config_text("metrics:\n  listen: \"[::]:9967\"\n  allow_non_loopback: true\n", "m")
            .metrics.listen,
        "[::]:9967");
    EXPECT_EQ(load_config_text("metrics:\n  listen: \"[::1]:9967\"\n", "m").metrics.listen,
              "[::1]:9967");
    EXPECT_EQ(load_config_text("metrics:\n  listen: \"\"\n", "m").metrics.listen, "");
    EXPECT_EQ(error_of("metrics:\n  listen: 127.0.0.1\n"),
              "test.yaml:2:11: metrics.listen: expected HOST:PORT");
}

TEST(LoadConfig, ErrorCarriesItsParts) {
    try {
        load_config_text("log:\n  level: loud\n", "/etc/sw.yaml");
        FAIL() << "no error";
    } catch (const ConfigError& e) {
        EXPECT_EQ(e.file(), "/etc/sw.yaml");
        EXPECT_EQ(e.line(), 2);
        EXPECT_EQ(e.column(), 10);
        EXPECT_EQ(e.key(), "log.level");
        EXPECT_THAT(e.problem(), HasSubstr("bad value 'loud'"));
    }
}

TEST(LoadConfig, FromFile) {
    char path[] = "/tmp/sw_config_testXXXXXX";
    const int fd = mkstemp(path);
    ASSERT_GE(fd, 0);
    close(fd);
    { std::ofstream(path) << "log:\n  level: warn\n  colour: true\n"; }
    try {
        load_config(path);
        ADD_FAILURE() << "no error";
    } catch (const ConfigError& e) {
        EXPECT_EQ(std::string(e.what()),
                  std::string(path) + ":3:3: log.colour: unknown key 'colour'");
    }
    { std::ofstream(path) << "log:\n  level: warn\n"; }
    EXPECT_EQ(load_config(path).log.level, LogLevel::Warn);
    { std::ofstream trunc(path); }
    EXPECT_EQ(load_config(path), DaemonConfig{});
    std::remove(path);
    try {
        load_config(path);
        ADD_FAILURE() << "no error";
    } catch (const ConfigError& e) {
        EXPECT_EQ(std::string(e.what()),
                  std::string(path) + ": cannot open: No such file or directory");
        EXPECT_EQ(e.line(), 0);
    }
}

}  // namespace
}  // namespace sybilwatch::config
