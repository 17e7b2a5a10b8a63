#include "fingerprint/engine.hpp"

#include <algorithm>
#include <optional>

#include "fingerprint/hello_fingerprints.hpp"
#include "fingerprint/tcp_sig.hpp"
#include "foxio/ja4l.hpp"
#include "foxio/ja4t.hpp"
#include "net/tcp_options.hpp"
#include "quic/initial_decoder.hpp"
#include "quic/version.hpp"
#include "tls/record.hpp"

namespace sybilwatch::fingerprint {

using net::tcp_flag::ACK;
using net::tcp_flag::FIN;
using net::tcp_flag::RST;
using net::tcp_flag::SYN;

namespace {

// Segments per direction searched for a hello after a plaintext preamble before giving up.
constexpr uint8_t kMaxPreambleSegments = 8;

// Expiry is checked at most this often (event time): the LRU head makes each check O(expired).
constexpr int64_t kExpiryStepNs = 1'000'000'000;

bool is_client(const Flow& f, const net::Packet& p) {
    return p.src == f.client && p.src_port == f.client_port;
}

// A TLS handshake record carrying a ClientHello (1) or ServerHello (2) starts this payload.
bool starts_hello(std::span<const uint8_t> b, uint8_t type) {
    return b.size() >= 6 && b[0] == 22 && b[1] == 3 && b[5] == type;
}

// DTLS handshake record (version 0xfeXX) carrying a ClientHello.
bool starts_dtls_client_hello(std::span<const uint8_t> b) {
    return b.size() >= 14 && b[0] == 22 && b[1] == 0xfe && b[13] == 1;
}

}  // namespace

Engine::Engine(const EngineConfig& cfg, ObservationSink& sink)
    : cfg_(cfg),
      sink_(sink),
      flows_(cfg.max_flows),
      pool_(cfg.reassembly_bytes, cfg.reassembly_buffers),
      scratch_(cfg.reassembly_bytes) {}

void Engine::on_frame(net::LinkType link, int64_t ts_ns, std::span<const uint8_t> frame,
                      uint32_t wire_len) {
    ++stats_.packets;
    const net::DecodeStatus st = net::decode(link, frame, packet_);
    packet_.ts_ns = ts_ns;
    packet_.wire_len = wire_len;
    switch (st) {
        case net::DecodeStatus::Ok:
            on_packet(packet_);
            break;
        case net::DecodeStatus::NotIp:
            ++stats_.not_ip;
            break;
        case net::DecodeStatus::Unsupported:
        case net::DecodeStatus::Fragment:
            ++stats_.unsupported;
            break;
        case net::DecodeStatus::Truncated:
        case net::DecodeStatus::Malformed:
            ++stats_.decode_errors;
            break;
    }
}

void Engine::on_ip(int64_t ts_ns, std::span<const uint8_t> bytes, uint32_t wire_len) {
    ++stats_.packets;
    const net::DecodeStatus st = net::decode_ip(bytes, packet_);
    packet_.ts_ns = ts_ns;
    packet_.wire_len = wire_len;
    if (st == net::DecodeStatus::Ok)
        on_packet(packet_);
    else if (st == net::DecodeStatus::Truncated || st == net::DecodeStatus::Malformed)
        ++stats_.decode_errors;
    else
        ++stats_.unsupported;
}

void Engine::on_packet(const net::Packet& p) {
    if (p.ts_ns - last_expiry_ns_ >= kExpiryStepNs) {
        expire(p.ts_ns);
        last_expiry_ns_ = p.ts_ns;
    }
    if (p.is_tcp())
        on_tcp(p);
    else if (p.is_udp())
        on_udp(p);
    else
        ++stats_.unsupported;
}

uint32_t Engine::new_flow(const net::FlowKey& key, const net::Packet& p) {
    if (flows_.full()) {
        ++stats_.flows_evicted;
        finish(flows_.oldest(), EndReason::Evicted);
    }
    const uint32_t s = flows_.insert(key);
    Flow& f = flows_.at(s);
    f.reset();
    f.first_ns = f.last_ns = p.ts_ns;
    f.obs.ts_ns = p.ts_ns;
    ++stats_.flows;
    return s;
}

void Engine::on_tcp(const net::Packet& p) {
    const bool syn = p.has(SYN) && !p.has(ACK);
    const bool synack = p.has(SYN) && p.has(ACK);
    const net::FlowKey key = net::FlowKey::of(p);
    uint32_t s = flows_.find(key);

    if (s != net::FlowTable<Flow>::kNone && syn) {
        Flow& old = flows_.at(s);
        // A new SYN on a used 4-tuple is a new connection; a retransmitted SYN is not.
        const bool retransmit = old.obs.syn_seen && old.syn_seq == p.seq && !old.data_seen;
        if (!retransmit) {
            finish(s, old.client_fin || old.server_fin ? EndReason::Fin : EndReason::Idle);
            s = net::FlowTable<Flow>::kNone;
        }
    }
    if (s == net::FlowTable<Flow>::kNone) {
        // Pure ACKs, FINs and RSTs of connections we never saw carry nothing to fingerprint.
        if (!syn && !synack && p.payload_len == 0) return;
        s = new_flow(key, p);
    } else {
        flows_.touch(s);
    }
    Flow& f = flows_.at(s);
    f.last_ns = p.ts_ns;

    if (!f.roles_known) {
        if (syn) {
            f.client = p.src, f.client_port = p.src_port, f.roles_known = true;
        } else if (synack) {
            f.client = p.dst, f.client_port = p.dst_port, f.roles_known = true;
        } else if (f.client.family == 0) {
            // Mid-stream: a hello names the roles; otherwise assume the higher port is the
            // client's ephemeral one until a hello says otherwise.
            const bool src_client = starts_hello(p.payload, 1) ||
                                    (!starts_hello(p.payload, 2) && p.src_port > p.dst_port);
            f.client = src_client ? p.src : p.dst;
            f.client_port = src_client ? p.src_port : p.dst_port;
        }
        Observation& o = f.obs;
        const bool c = is_client(f, p);
        o.src = c ? p.src : p.dst, o.src_port = c ? p.src_port : p.dst_port;
        o.dst = c ? p.dst : p.src, o.dst_port = c ? p.dst_port : p.src_port;
        o.transport = Transport::Tcp;
    }
    const bool from_client = is_client(f, p);

    tcp_timing(f, from_client, p);
    if (p.payload_len > 0) {
        f.data_seen = true;
        if (cfg_.cadence_from_packets) update_cadence(f, from_client, p);
        if ((from_client ? f.client_hello : f.server_hello) == HelloState::Pending)
            feed_hello(f, from_client, p);
    }
    if (p.has(RST)) {
        finish(s, EndReason::Rst);
        return;
    }
    if (p.has(FIN)) (from_client ? f.client_fin : f.server_fin) = true;
    if (f.client_fin && f.server_fin) {
        finish(s, EndReason::Fin);
        return;
    }
    maybe_emit_handshake(f);
}

void Engine::tcp_timing(Flow& f, bool from_client, const net::Packet& p) {
    Observation& o = f.obs;
    const bool syn = p.has(SYN) && !p.has(ACK);
    const bool synack = p.has(SYN) && p.has(ACK);
    if (syn && from_client && !o.syn_seen) {
        o.syn_seen = true;
        o.syn_ns = p.ts_ns;
        o.ts_ns = p.ts_ns;
        o.client_ttl = p.ttl;
        f.syn_seq = p.seq;
        const net::TcpOptions opts = net::parse_tcp_options(p.tcp_options);
        f.syn_mss = opts.mss > 0 ? static_cast<uint16_t>(opts.mss) : 0;
        tcp_sig(p, opts, 0, o.tcp_sig);
        if (cfg_.foxio) foxio::ja4t(p, opts, o.ja4t);
        f.client_stream.start(p.seq + 1);
    } else if (synack && !from_client && o.synack_ns == 0) {
        o.synack_ns = p.ts_ns;
        o.server_ttl = p.ttl;
        if (cfg_.foxio) foxio::ja4t(p, net::parse_tcp_options(p.tcp_options), o.ja4ts);
        f.server_stream.start(p.seq + 1);
        if (cfg_.foxio && o.syn_ns) foxio::ja4l(o.syn_ns, o.synack_ns, o.server_ttl, o.ja4l_s);
    } else if (from_client && p.has(ACK) && !p.has(SYN) && o.synack_ns && o.ack_ns == 0) {
        o.ack_ns = p.ts_ns;
        if (o.syn_ns) o.rtt_us = (o.ack_ns - o.syn_ns) / 1000;
        if (cfg_.foxio && o.client_ttl) foxio::ja4l(o.synack_ns, o.ack_ns, o.client_ttl, o.ja4l_c);
    }
}

void Engine::feed_hello(Flow& f, bool from_client, const net::Packet& p) {
    HelloState& state = from_client ? f.client_hello : f.server_hello;
    net::StreamReassembler& stream = from_client ? f.client_stream : f.server_stream;
    const uint8_t type = from_client ? 1 : 2;
    uint8_t& preamble = from_client ? f.client_preamble : f.server_preamble;
    if (preamble > 0) {
        // Past a plaintext preamble, TLS starts with a segment that begins a hello record.
        if (!starts_hello(p.payload, type)) {
            if (++preamble > kMaxPreambleSegments) state = HelloState::NotTls;
            return;
        }
        stream.reset();
        stream.start(p.seq);
    }
    if (!stream.started()) stream.start(p.seq);

    std::span<const uint8_t> bytes;
    // Fast path: the whole hello in the first segment needs no buffer.
    if (!stream.buffering() && p.seq == stream.base()) {
        bytes = p.payload;
    } else {
        switch (stream.add(p.seq, p.payload, pool_)) {
            case net::StreamReassembler::Result::NoMemory:
                ++stats_.reassembly_no_memory;
                state = HelloState::Failed;
                stream.reset();
                return;
            case net::StreamReassembler::Result::TooFragmented:
                ++stats_.reassembly_fragmented;
                state = HelloState::Failed;
                stream.reset();
                return;
            default:
                break;
        }
        bytes = stream.contiguous();
        if (bytes.empty()) return;
    }

    std::span<const uint8_t> msg;
    switch (tls::extract_handshake(bytes, type, scratch_, msg)) {
        case tls::Extract::Complete:
            parsed_hello(f, from_client, msg, 't', false);
            stream.reset();
            return;
        case tls::Extract::NotTls:
            // Not TLS yet: maybe a proxy or STARTTLS preamble. Look at the next segments.
            stream.reset();
            if (++preamble > kMaxPreambleSegments) state = HelloState::NotTls;
            return;
        case tls::Extract::Malformed:
            ++stats_.hello_errors;
            state = HelloState::Failed;
            stream.reset();
            return;
        case tls::Extract::NeedMore:
            break;
    }
    if (!stream.buffering()) {
        // The first segment held part of the hello: keep it and wait for the rest.
        if (stream.add(p.seq, p.payload, pool_) == net::StreamReassembler::Result::NoMemory) {
            ++stats_.reassembly_no_memory;
            state = HelloState::Failed;
            stream.reset();
        }
    } else if (bytes.size() >= cfg_.reassembly_bytes) {
        ++stats_.hello_errors;  // larger than we reassemble
        state = HelloState::Failed;
        stream.reset();
    }
}

void Engine::parsed_hello(Flow& f, bool from_client, std::span<const uint8_t> msg, char transport,
                          bool dtls) {
    HelloState& state = from_client ? f.client_hello : f.server_hello;
    bool ok;
    if (from_client) {
        ok = client_hello_fingerprints(msg, transport, dtls, cfg_.raw, f.obs);
        if (ok) ++stats_.client_hellos;
    } else {
        ok = server_hello_fingerprints(msg, transport, cfg_.foxio, cfg_.raw, f.obs);
        if (ok) ++stats_.server_hellos;
    }
    if (!ok) ++stats_.hello_errors;
    state = ok ? HelloState::Parsed : HelloState::Failed;
}

void Engine::update_cadence(Flow& f, bool from_client, const net::Packet& p) {
    Cadence& c = f.obs.cadence;
    const uint8_t dir = from_client ? 1 : 2;
    if (from_client)
        c.client_bytes += p.payload_len;
    else
        c.server_bytes += p.payload_len;
    if (f.burst_dir != dir) {
        // A new burst: close the previous request's size, count this one.
        if (f.burst_dir == 1) {
            c.max_request_bytes = std::max(c.max_request_bytes, f.burst_bytes);
            if (c.requests == 1 || f.burst_bytes < c.min_request_bytes)
                c.min_request_bytes = f.burst_bytes;
        }
        f.burst_dir = dir;
        f.burst_bytes = 0;
        if (from_client) {
            if (c.requests > 0 && p.ts_ns >= f.last_request_ns)
                c.add_gap(static_cast<uint64_t>(p.ts_ns - f.last_request_ns) / 1000);
            ++c.requests;
            f.last_request_ns = p.ts_ns;
        } else {
            ++c.responses;
        }
    }
    f.burst_bytes += p.payload_len;
}

void Engine::on_udp(const net::Packet& p) {
    const net::FlowKey key = net::FlowKey::of(p);
    uint32_t s = flows_.find(key);
    if (s == net::FlowTable<Flow>::kNone) {
        // Only a client's first flight opens a UDP flow: a QUIC Initial or a DTLS ClientHello.
        const bool quic = quic::looks_like_initial(p.payload);
        if (!quic && !starts_dtls_client_hello(p.payload)) return;
        s = new_flow(key, p);
        Flow& f = flows_.at(s);
        f.client = p.src, f.client_port = p.src_port, f.roles_known = true;
        Observation& o = f.obs;
        o.src = p.src, o.src_port = p.src_port, o.dst = p.dst, o.dst_port = p.dst_port;
        o.transport = quic ? Transport::Quic : Transport::Dtls;
        o.client_ttl = p.ttl;
        o.syn_ns = p.ts_ns;  // the client's first datagram plays the SYN's part in timing
        if (quic) f.quic = std::make_unique<quic::InitialDecoder>();
    } else {
        flows_.touch(s);
    }
    Flow& f = flows_.at(s);
    f.last_ns = p.ts_ns;
    const bool from_client = is_client(f, p);
    if (p.payload_len > 0 && cfg_.cadence_from_packets) update_cadence(f, from_client, p);

    if (f.obs.transport == Transport::Quic) {
        quic_packet(f, from_client, p);
    } else if (from_client && f.client_hello == HelloState::Pending) {
        std::span<const uint8_t> msg;
        if (tls::extract_dtls_client_hello(p.payload, scratch_, msg) == tls::Extract::Complete)
            parsed_hello(f, true, msg, 'd', true);
        // DTLS servers answer with HelloVerifyRequest or ServerHello; JA4S for DTLS is not
        // defined, so the flow is complete with the client's hello.
        f.server_hello = HelloState::NotTls;
    }
    maybe_emit_handshake(f);
}

void Engine::quic_packet(Flow& f, bool from_client, const net::Packet& p) {
    Observation& o = f.obs;
    // Long-header packet type of the datagram's first packet, numbered as its version says.
    std::optional<quic::PacketType> type;
    if (p.payload.size() >= 5 && (p.payload[0] & 0x80)) {
        const uint32_t version = (uint32_t(p.payload[1]) << 24) | (p.payload[2] << 16) |
                                 (p.payload[3] << 8) | p.payload[4];
        if (const quic::VersionParams* v = quic::find_version(version))
            type = quic::long_packet_type(*v, p.payload[0]);
    }
    constexpr auto kInitial = quic::PacketType::Initial, kHandshake = quic::PacketType::Handshake;

    if (from_client) {
        if (f.client_hello == HelloState::Pending && f.quic) {
            switch (f.quic->feed_client(p.payload)) {
                case quic::Status::Complete:
                    parsed_hello(f, true, f.quic->client_hello(), 'q', false);
                    break;
                case quic::Status::NotQuic:
                case quic::Status::Failed:
                    ++stats_.quic_failures;
                    f.client_hello = HelloState::Failed;
                    break;
                case quic::Status::NeedMore:
                    break;
            }
        }
        if (type == kHandshake && f.quic_server_handshake_ns && !f.quic_client_handshake_seen) {
            f.quic_client_handshake_seen = true;
            o.ack_ns = p.ts_ns;
            if (cfg_.foxio)
                foxio::ja4l(f.quic_server_handshake_ns, p.ts_ns, o.client_ttl, o.ja4l_c);
        }
    } else {
        if (type == kInitial && o.synack_ns == 0) {
            o.synack_ns = p.ts_ns;
            o.server_ttl = p.ttl;
            o.rtt_us = (o.synack_ns - o.syn_ns) / 1000;
            if (cfg_.foxio) foxio::ja4l(o.syn_ns, o.synack_ns, o.server_ttl, o.ja4l_s);
        }
        // The last server Handshake packet before the client's first one is JA4L's "C".
        if (type == kHandshake && !f.quic_client_handshake_seen)
            f.quic_server_handshake_ns = p.ts_ns;
        if (f.server_hello == HelloState::Pending && f.quic) {
            switch (f.quic->feed_server(p.payload)) {
                case quic::Status::Complete:
                    parsed_hello(f, false, f.quic->server_hello(), 'q', false);
                    break;
                case quic::Status::NotQuic:
                case quic::Status::Failed:
                    f.server_hello = HelloState::Failed;
                    break;
                case quic::Status::NeedMore:
                    break;
            }
        }
    }
    if (f.handshake_done() && f.quic_client_handshake_seen) f.quic.reset();
}

void Engine::maybe_emit_handshake(Flow& f) {
    if (cfg_.emit != EmitAt::Handshake || f.emitted || !f.handshake_done()) return;
    // Wait for the client's handshake ACK too, so JA4L-C is part of the first report.
    if (f.obs.transport == Transport::Tcp && f.obs.synack_ns && !f.obs.ack_ns) return;
    if (f.obs.transport == Transport::Quic && !f.quic_client_handshake_seen) return;
    emit(f);
}

void Engine::emit(Flow& f) {
    Observation& o = f.obs;
    // A connection we know nothing about (mid-stream, no hello, no SYN) is not reported.
    if (!o.syn_seen && !o.client_hello_seen && !o.server_hello_seen &&
        o.transport == Transport::Tcp)
        return;
    f.emitted = true;
    ++stats_.observations;
    sink_.on_observation(o);
}

void Engine::finish(uint32_t s, EndReason why) {
    Flow& f = flows_.at(s);
    Observation& o = f.obs;
    // Close the last request burst so the cadence summary is complete.
    if (f.burst_dir == 1) {
        Cadence& c = o.cadence;
        c.max_request_bytes = std::max(c.max_request_bytes, f.burst_bytes);
        if (c.requests == 1 || f.burst_bytes < c.min_request_bytes)
            c.min_request_bytes = f.burst_bytes;
        f.burst_dir = 0;
    }
    if (cfg_.cadence_from_packets) o.cadence.duration_us = (f.last_ns - f.first_ns) / 1000;
    o.end = why;
    if (!f.emitted) emit(f);
    f.client_stream.reset();
    f.server_stream.reset();
    f.quic.reset();
    flows_.erase(s);
}

bool Engine::end_flow(const net::FlowKey& key, EndReason why, const Cadence* cadence) {
    const uint32_t s = flows_.find(key);
    if (s == net::FlowTable<Flow>::kNone) return false;
    Flow& f = flows_.at(s);
    if (cadence) {
        f.obs.cadence = *cadence;
        f.burst_dir = 0;  // the kernel's summary is complete: nothing of ours to close
    }
    finish(s, why);
    return true;
}

void Engine::expire(int64_t now_ns) {
    for (uint32_t s = flows_.oldest(); s != net::FlowTable<Flow>::kNone; s = flows_.oldest()) {
        const Flow& f = flows_.at(s);
        const int64_t idle =
            f.obs.transport == Transport::Tcp ? cfg_.tcp_idle_ns : cfg_.udp_idle_ns;
        // The LRU head is the least recently active flow. A TCP head still within its longer
        // timeout may hold back idle UDP flows behind it until it expires: bounded, acceptable.
        if (now_ns - f.last_ns < idle) break;
        ++stats_.flows_expired;
        finish(s, EndReason::Idle);
    }
}

void Engine::flush(EndReason why) {
    while (flows_.oldest() != net::FlowTable<Flow>::kNone)
        finish(flows_.oldest(), why);
}

}  // namespace sybilwatch::fingerprint
