// sybilwatchd's configuration: every setting of the daemon, with its default. docs/config.md
// documents each key; systemd/sybilwatch.yaml spells out the defaults (a test keeps the three
// in step). load_config.hpp reads it from YAML.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "capture/ebpf_capture.hpp"
#include "fingerprint/engine.hpp"
#include "identity/datagram_source.hpp"
#include "identity/file_tail.hpp"
#include "identity/joiner.hpp"
#include "identity/socket_source.hpp"
#include "shm/ring_writer.hpp"

namespace sybilwatch::config {

enum class CaptureMode : uint8_t {
    Auto,  // eBPF, or libpcap with a warning when BPF is unavailable
    Ebpf,  // eBPF or fail
    Pcap,  // libpcap only
};

// spdlog's levels, by their spdlog names.
enum class LogLevel : uint8_t { Trace, Debug, Info, Warn, Error, Critical, Off };

struct CaptureSection {
    std::string interface;  // "" = the interface of the default route
    CaptureMode mode = CaptureMode::Auto;
    std::vector<uint16_t> ports{443, 8443};  // TCP (TLS) and UDP (QUIC) service ports
    uint32_t ring_bytes = 8u << 20;          // eBPF ring buffer: a power of two >= 4096
    uint32_t max_flows = 65536;              // kernel flow map entries
    bool operator==(const CaptureSection&) const = default;
};

struct FingerprintsSection {
    bool foxio = true;  // JA4S, JA4T, JA4TS, JA4L (FoxIO License 1.1)
    bool raw = true;    // the raw and original-order strings
    uint32_t max_flows = 65536;
    uint32_t reassembly_buffers = 4096;
    int64_t tcp_idle_ns = 300'000'000'000;
    int64_t udp_idle_ns = 60'000'000'000;
    bool operator==(const FingerprintsSection&) const = default;
};

struct IdentitySection {
    std::string socket_path = "/run/sybilwatch/attribution.sock";  // "" = no stream socket
    mode_t socket_mode = 0660;
    std::string socket_group;   // "" = the daemon's group
    std::string datagram_path;  // "" = no datagram socket
    std::string tail_path;      // "" = no tailed log file
    bool tail_from_start = false;
    int64_t join_wait_ns = 5'000'000'000;  // 0: connections are passed on at once
    int64_t record_ttl_ns = 120'000'000'000;
    uint32_t max_pending_records = 65536;
    uint32_t max_waiting = 16384;
    uint32_t max_connections = 262144;
    bool operator==(const IdentitySection&) const = default;
};

struct RulesSection {
    std::vector<std::string> paths;      // rule files and directories; empty = the built-in pack
    uint32_t max_accounts = 4'000'000;   // accounts the engine tracks at once
    uint32_t finding_accounts = 10'000;  // accounts listed in one finding
    // A cluster's growth held back by the update factor is reported after this quiet time.
    int64_t catch_up_ns = 300'000'000'000;
    bool operator==(const RulesSection&) const = default;
};

struct RingSection {
    std::string name = "sybilwatch";  // /dev/shm/NAME-observations
    uint32_t capacity = 1u << 14;     // records: a power of two in [2, 2^20]
    bool operator==(const RingSection&) const = default;
};

struct OutputSection {
    std::string findings = "/var/lib/sybilwatch/findings.jsonl";  // "" = no findings file
    bool to_stdout = true;                                        // key "stdout"
    bool operator==(const OutputSection&) const = default;
};

// sinks: findings to the SIEM, each with its own format, filter, rate limit and on-disk spool
// (docs/siem.md). The config names the kinds; service/rules_stage.cpp maps them onto the
// alerts library (this library does not link it).
enum class SinkType : uint8_t { File, Stdout, Syslog, Hec, Webhook };
enum class SinkFormat : uint8_t { Json, Ocsf, Ecs, Cef };
enum class SinkSeverity : uint8_t { Info, Low, Medium, High, Critical };  // rules::Severity's
enum class SyslogProtocol : uint8_t { Udp, Tcp, Tls };

struct SinkSection {
    std::string name;  // unique, [a-z0-9_-]; the spool is state.dir/spool/NAME
    SinkType type = SinkType::File;
    SinkFormat format = SinkFormat::Json;
    SinkSeverity min_severity = SinkSeverity::Info;
    std::vector<std::string> include_tags;  // non-empty: a finding needs one of them
    std::vector<std::string> exclude_tags;
    std::vector<std::string> rules;  // non-empty: only these rule ids
    bool closes = true;              // false: Close activities are not sent
    double rate = 0;                 // findings/s delivered; 0 = unlimited
    uint32_t burst = 0;              // 0 = max(1, rate)
    uint64_t spool_max_bytes = 256ull << 20;
    // file
    std::string path;
    uint64_t rotate_bytes = 100ull << 20;  // 0 = never
    uint32_t keep = 5;
    // syslog
    std::string address;  // HOST:PORT
    SyslogProtocol protocol = SyslogProtocol::Tcp;
    std::string facility = "local0";
    std::string app_name = "sybilwatchd";
    std::string server_name;  // tls: the name checked and sent as SNI; "" = the host
    std::string client_cert, client_key;
    // hec, webhook
    std::string url;
    std::string token_file, token_env;  // hec: exactly one (the secret itself is never here)
    std::string index;
    std::string sourcetype = "sybilwatch:finding";
    bool ack = false;
    std::string key_file, key_env;  // webhook: at most one; none = unsigned
    std::vector<std::pair<std::string, std::string>> headers;
    bool batch = false;
    // TLS: syslog (protocol tls), hec, webhook
    std::string ca_file;  // "" = the system store
    bool verify = true;
    bool operator==(const SinkSection&) const = default;
};

struct MetricsSection {
    std::string listen = "127.0.0.1:9967";  // "" = no metrics endpoint
    bool allow_non_loopback = false;
    bool operator==(const MetricsSection&) const = default;
};

struct ControlSection {
    std::string socket = "/run/sybilwatch/control.sock";  // "" = no control socket
    bool operator==(const ControlSection&) const = default;
};

struct StateSection {
    std::string dir = "/var/lib/sybilwatch";
    int64_t save_interval_ns = 60'000'000'000;
    bool operator==(const StateSection&) const = default;
};

struct LogSection {
    LogLevel level = LogLevel::Info;
    bool operator==(const LogSection&) const = default;
};

struct DaemonConfig {
    CaptureSection capture;
    FingerprintsSection fingerprints;
    IdentitySection identity;
    RulesSection rules;
    RingSection ring;
    OutputSection output;
    std::vector<SinkSection> sinks;
    MetricsSection metrics;
    ControlSection control;
    StateSection state;
    LogSection log;
    bool operator==(const DaemonConfig&) const = default;

    // The library settings these sections map onto; fields the config does not cover keep
    // the library's defaults.
    fingerprint::EngineConfig to_engine_config() const;
    capture::EbpfConfig to_ebpf_config() const;
    identity::SocketSourceConfig to_socket_source_config() const;
    identity::DatagramSourceConfig to_datagram_source_config() const;
    identity::FileTailConfig to_file_tail_config() const;
    identity::JoinerConfig to_joiner_config() const;
    shm::WriterOptions to_writer_options() const;
};

const char* to_string(CaptureMode m);
const char* to_string(LogLevel l);
const char* to_string(SinkType t);
const char* to_string(SinkFormat f);
const char* to_string(SinkSeverity s);
const char* to_string(SyslogProtocol p);

}  // namespace sybilwatch::config
