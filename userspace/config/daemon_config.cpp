#include "config/daemon_config.hpp"

namespace sybilwatch::config {

fingerprint::EngineConfig DaemonConfig::to_engine_config() const {
    fingerprint::EngineConfig e;
    e.max_flows = fingerprints.max_flows;
    e.reassembly_buffers = fingerprints.reassembly_buffers;
    e.tcp_idle_ns = fingerprints.tcp_idle_ns;
    e.udp_idle_ns = fingerprints.udp_idle_ns;
    e.foxio = fingerprints.foxio;
    e.raw = fingerprints.raw;
    return e;
}

capture::EbpfConfig DaemonConfig::to_ebpf_config() const {
    capture::EbpfConfig e;
    e.tcp_ports = capture.ports;
    e.udp_ports = capture.ports;
    e.max_flows = capture.max_flows;
    e.ring_bytes = capture.ring_bytes;
    // The kernel's idea of idleness matches the engine's, so both end a flow together.
    e.tcp_idle_ns = fingerprints.tcp_idle_ns;
    e.udp_idle_ns = fingerprints.udp_idle_ns;
    e.interface = capture.interface;
    return e;
}

identity::SocketSourceConfig DaemonConfig::to_socket_source_config() const {
    identity::SocketSourceConfig s;
    s.socket.path = identity.socket_path;
    s.socket.mode = identity.socket_mode;
    s.socket.group = identity.socket_group;
    return s;
}

identity::DatagramSourceConfig DaemonConfig::to_datagram_source_config() const {
    identity::DatagramSourceConfig d;
    d.socket.path = identity.datagram_path;
    // One permission setting for both sockets: the same gateway writes to either.
    d.socket.mode = identity.socket_mode;
    d.socket.group = identity.socket_group;
    return d;
}

identity::FileTailConfig DaemonConfig::to_file_tail_config() const {
    identity::FileTailConfig f;
    f.path = identity.tail_path;
    f.from_start = identity.tail_from_start;
    return f;
}

identity::JoinerConfig DaemonConfig::to_joiner_config() const {
    identity::JoinerConfig j;
    j.wait_ns = identity.join_wait_ns;
    j.record_ttl_ns = identity.record_ttl_ns;
    j.max_pending_records = identity.max_pending_records;
    j.max_waiting = identity.max_waiting;
    j.max_connections = identity.max_connections;
    return j;
}

shm::WriterOptions DaemonConfig::to_writer_options() const {
    shm::WriterOptions w;
    w.capacity = ring.capacity;
    return w;
}

const char* to_string(CaptureMode m) {
    switch (m) {
        case CaptureMode::Auto:
            return "auto";
        case CaptureMode::Ebpf:
            return "ebpf";
        case CaptureMode::Pcap:
            return "pcap";
    }
    return "?";
}

const char* to_string(LogLevel l) {
    switch (l) {
        case LogLevel::Trace:
            return "trace";
        case LogLevel::Debug:
            return "debug";
        case LogLevel::Info:
            return "info";
        case LogLevel::Warn:
            return "warn";
        case LogLevel::Error:
            return "error";
        case LogLevel::Critical:
            return "critical";
        case LogLevel::Off:
            return "off";
    }
    return "?";
}

const char* to_string(SinkType t) {
    switch (t) {
        case SinkType::File:
            return "file";
        case SinkType::Stdout:
            return "stdout";
        case SinkType::Syslog:
            return "syslog";
        case SinkType::Hec:
            return "hec";
        case SinkType::Webhook:
            return "webhook";
    }
    return "?";
}

const char* to_string(SinkFormat f) {
    switch (f) {
        case SinkFormat::Json:
            return "json";
        case SinkFormat::Ocsf:
            return "ocsf";
        case SinkFormat::Ecs:
            return "ecs";
        case SinkFormat::Cef:
            return "cef";
    }
    return "?";
}

const char* to_string(SinkSeverity s) {
    switch (s) {
        case SinkSeverity::Info:
            return "info";
        case SinkSeverity::Low:
            return "low";
        case SinkSeverity::Medium:
            return "medium";
        case SinkSeverity::High:
            return "high";
        case SinkSeverity::Critical:
            return "critical";
    }
    return "?";
}

const char* to_string(SyslogProtocol p) {
    switch (p) {
        case SyslogProtocol::Udp:
            return "udp";
        case SyslogProtocol::Tcp:
            return "tcp";
        case SyslogProtocol::Tls:
            return "tls";
    }
    return "?";
}

}  // namespace sybilwatch::config
