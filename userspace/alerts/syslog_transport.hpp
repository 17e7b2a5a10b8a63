// Syslog transport: RFC 5424 messages over UDP (RFC 5426, one per datagram), TCP (RFC 6587
// octet counting) or TLS (RFC 5425, OpenSSL, TLS 1.2+, peer verified by default).
//
// Stream transports keep one connection, check before each batch whether the receiver closed
// it (a restarted rsyslog) and reconnect; every wait (connect, handshake, write) is bounded so
// send() returns within connect_timeout + send_timeout. A frame counts as accepted once the
// kernel took all its bytes: syslog has no application-level acknowledgement, so frames in
// flight when a connection dies can be lost (RFC 5425/6587 offer nothing better; use HEC with
// indexer acknowledgement where that matters).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "alerts/syslog_frame.hpp"
#include "alerts/transport.hpp"

namespace sybilwatch::alerts {

enum class SyslogProtocol : uint8_t { Udp, Tcp, Tls };

// What to do with a message longer than max_message_bytes. Refusing it is not an option: the
// delivery thread would retry it forever and hold up every finding behind it.
enum class SyslogOversize : uint8_t {
    Truncate,  // cut MSG at a UTF-8 boundary (the SIEM still learns of the finding)
    Drop,      // skip it (counted); the finding stays in the file sink, if one is configured
};

struct SyslogTlsConfig {
    std::string ca_file;      // PEM bundle; with ca_dir empty too, the system's default store
    std::string ca_dir;       // hashed directory (c_rehash)
    bool verify = true;       // turning it off lets anyone on the path read and forge findings
    std::string server_name;  // name checked against the certificate and sent as SNI;
                              // empty = host (an IP literal is checked against IP SANs)
    std::string cert_file;    // client certificate for receivers that authenticate clients
    std::string key_file;
};

struct SyslogTransportConfig {
    SyslogProtocol protocol = SyslogProtocol::Tcp;
    std::string host;
    uint16_t port = 0;  // 0: 514 for UDP and TCP, 6514 for TLS
    // hostname empty: gethostname(); procid empty: this process's pid. "-" sends NILVALUE.
    SyslogHeader header;
    // Fixed severity for every frame; nullopt: each payload's own (CEF/JSON severity), else
    // default_severity.
    std::optional<SyslogSeverity> severity;
    SyslogSeverity default_severity = SyslogSeverity::Warning;
    // Largest SYSLOG-MSG sent; 0: 8192 for UDP (rsyslog's default maxMessageSize; datagrams
    // larger than the path MTU fragment), unlimited for TCP/TLS (raise the receiver's limit:
    // a finding with many accounts runs to hundreds of KB).
    size_t max_message_bytes = 0;
    SyslogOversize oversize = SyslogOversize::Truncate;
    std::chrono::milliseconds connect_timeout{5000};  // TCP connect + TLS handshake
    std::chrono::milliseconds send_timeout{10000};    // writing one send() call's frames
    SyslogTlsConfig tls;
};

struct SyslogTransportStats {
    uint64_t frames_sent = 0;
    uint64_t bytes_sent = 0;
    uint64_t truncated = 0;         // oversize messages cut (Truncate)
    uint64_t dropped_oversize = 0;  // oversize messages skipped (Drop)
    uint64_t connects = 0;
    uint64_t connect_failures = 0;  // including TLS handshake and verification failures
    uint64_t send_failures = 0;
};

class SyslogTransport final : public Transport {
  public:
    // nullptr with `error` set when the configuration is invalid (header fields, TLS files).
    static std::unique_ptr<SyslogTransport> create(SyslogTransportConfig config,
                                                   std::string& error);
    ~SyslogTransport() override;

    size_t send(std::span<const std::string_view> payloads, std::string& error) override;
    size_t max_batch() const override { return 256; }
    std::string_view name() const override;

    SyslogTransportStats stats() const;  // safe from any thread

    struct Impl;

  private:
    explicit SyslogTransport(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace sybilwatch::alerts
