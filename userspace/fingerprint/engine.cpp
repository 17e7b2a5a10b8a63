#include "fingerprint/engine.hpp"

#include <algorithm>
#include <optional>

#include "fingerprint/hello_facts.hpp"
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

// Whether the packet was sent from side `a` of its flow key (the client's side is kept as such).
bool from_a(const net::FlowKey& k, const net::Packet& p) {
    return p.src == k.a && p.src_port == k.a_port;
}

// A TLS handshake record carrying a ClientHello (1) or ServerHello (2) starts this payload.
bool starts_hello(std::span<const uint8_t> b, uint8_t type) {
    return b.size() >= 6 && b[0] == 22 && b[1] == 3 && b[5] == type;
}

// DTLS handshake record (version 0xfeXX) carrying a ClientHello.
bool starts_dtls_client_hello(std::span<const uint8_t> b) {
    return b.size() >= 14 && b[0] == 22 && b[1] == 0xfe && b[13] == 1;
}

// A TLS handshake record may be a hello to parse, which walks the whole message at scattered
// offsets: its cache lines are requested before the flow lookup, so they load meanwhile (the
// capture reader fetched the first 128 bytes of the frame already).
void prefetch_handshake_record(std::span<const uint8_t> payload) {
    constexpr size_t kLine = 64, kMax = 2048;  // a post-quantum ClientHello: ~1.8 KB
    if (payload.size() <= kLine || payload[0] != 22) return;
    const size_t n = std::min(payload.size(), kMax);
    for (size_t off = kLine; off < n; off += kLine)
        __builtin_prefetch(payload.data() + off);
}

// All of an object's cache lines requested at once, so their misses overlap instead of
// coming one after another as fields are read.
template <typename T>
void prefetch_object(const T& x) {
    const char* const p = reinterpret_cast<const char*>(&x);
    for (size_t off = 0; off < sizeof(T); off += 64)
        __builtin_prefetch(p + off);
}

}  // namespace

Engine::Engine(const EngineConfig& cfg, ObservationSink& sink)
    : cfg_(cfg),
      sink_(sink),
      flows_(cfg.max_flows),
      pool_(cfg.reassembly_bytes, cfg.reassembly_buffers),
      handshakes_(std::min(cfg.max_handshakes, cfg.max_flows)),
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
    if (handshakes_.full()) {
        if (const uint32_t over = handshakes_.oldest_over(); over != HandshakePool::kNone) {
            settle(handshakes_.flow_of(over));  // a finished handshake makes room first
        } else {
            ++stats_.flows_evicted;
            ++stats_.handshakes_evicted;
            finish(handshakes_.flow_of(handshakes_.oldest()), EndReason::Evicted);
        }
    }
    const uint32_t s = flows_.insert(key);
    Flow& f = flows_.at(s);
    f = Flow{};
    f.first_ns = f.last_ns = f.ts_ns = p.ts_ns;
    f.handshake = handshakes_.acquire(s);
    ++stats_.flows;
    return s;
}

void Engine::on_tcp(const net::Packet& p) {
    const bool syn = p.has(SYN) && !p.has(ACK);
    const bool synack = p.has(SYN) && p.has(ACK);
    prefetch_handshake_record(p.payload);
    const net::FlowKey key = net::FlowKey::of(p);
    uint32_t s = flows_.find(key);

    if (s != net::FlowTable<Flow>::kNone && syn) {
        Flow& old = flows_.at(s);
        // A new SYN on a used 4-tuple is a new connection; a retransmitted SYN is not.
        const bool retransmit = old.syn_seen && old.syn_seq == p.seq && !old.data_seen;
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
    const bool src_is_a = from_a(key, p);

    if (!f.roles_known) {
        if (syn) {
            f.client_is_a = src_is_a, f.client_set = f.roles_known = true;
        } else if (synack) {
            f.client_is_a = !src_is_a, f.client_set = f.roles_known = true;
        } else if (!f.client_set) {
            // Mid-stream: a hello names the roles; otherwise assume the higher port is the
            // client's ephemeral one until a hello says otherwise.
            const bool src_client = starts_hello(p.payload, 1) ||
                                    (!starts_hello(p.payload, 2) && p.src_port > p.dst_port);
            f.client_is_a = src_client == src_is_a, f.client_set = true;
        }
        f.transport = Transport::Tcp;
    }
    const bool from_client = src_is_a == f.client_is_a;

    tcp_timing(f, from_client, p);
    if (p.payload_len > 0) {
        f.data_seen = true;
        if (cfg_.cadence_from_packets) update_cadence(f, from_client, p);
        Handshake* h = handshake_of(f);
        if (h && (from_client ? h->client_hello : h->server_hello) == HelloState::Pending)
            feed_hello(*h, from_client, p);
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
    after_packet(s);
}

void Engine::tcp_timing(Flow& f, bool from_client, const net::Packet& p) {
    const bool syn = p.has(SYN) && !p.has(ACK);
    const bool synack = p.has(SYN) && p.has(ACK);
    // A SYN always finds its flow new, so in its handshake; a SYN-ACK after both hellos (a
    // reordered capture) still gives its timing, but its JA4TS has no state left to go to.
    Handshake* h = handshake_of(f);
    if (syn && from_client && !f.syn_seen) {
        f.syn_seen = true;
        f.syn_ns = p.ts_ns;
        f.ts_ns = p.ts_ns;
        f.client_ttl = p.ttl;
        f.syn_seq = p.seq;
        if (h) {
            const net::TcpOptions opts = net::parse_tcp_options(p.tcp_options);
            tcp_sig(p, opts, 0, h->facts.tcp_sig);
            if (cfg_.foxio) foxio::ja4t(p, opts, h->facts.ja4t);
            h->client_stream.start(p.seq + 1);
        }
    } else if (synack && !from_client && f.synack_ns == 0) {
        f.synack_ns = p.ts_ns;
        f.server_ttl = p.ttl;
        if (h) {
            if (cfg_.foxio) foxio::ja4t(p, net::parse_tcp_options(p.tcp_options), h->facts.ja4ts);
            h->server_stream.start(p.seq + 1);
        }
        if (cfg_.foxio && f.syn_ns) foxio::ja4l(f.syn_ns, f.synack_ns, f.server_ttl, f.ja4l_s);
    } else if (from_client && p.has(ACK) && !p.has(SYN) && f.synack_ns && f.ack_ns == 0) {
        f.ack_ns = p.ts_ns;
        if (f.syn_ns) f.rtt_us = (f.ack_ns - f.syn_ns) / 1000;
        if (cfg_.foxio && f.client_ttl) foxio::ja4l(f.synack_ns, f.ack_ns, f.client_ttl, f.ja4l_c);
    }
}

void Engine::feed_hello(Handshake& h, bool from_client, const net::Packet& p) {
    // A hello's fingerprints go into the handshake's Observation, which the ~1000 other
    // connections in their handshake have pushed out of cache since the SYN: fetched now, it
    // arrives while the hello is parsed.
    prefetch_object(h.facts);
    HelloState& state = from_client ? h.client_hello : h.server_hello;
    net::StreamReassembler& stream = from_client ? h.client_stream : h.server_stream;
    const uint8_t type = from_client ? 1 : 2;
    uint8_t& preamble = from_client ? h.client_preamble : h.server_preamble;
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
            parsed_hello(h, from_client, msg, 't', false);
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

void Engine::parsed_hello(Handshake& h, bool from_client, std::span<const uint8_t> msg,
                          char transport, bool dtls) {
    HelloState& state = from_client ? h.client_hello : h.server_hello;
    bool ok;
    if (from_client) {
        ok = client_hello_fingerprints(msg, transport, dtls, cfg_.raw, h.facts);
        if (ok) ++stats_.client_hellos;
    } else {
        ok = server_hello_fingerprints(msg, transport, cfg_.foxio, cfg_.raw, h.facts);
        if (ok) ++stats_.server_hellos;
    }
    if (!ok) ++stats_.hello_errors;
    state = ok ? HelloState::Parsed : HelloState::Failed;
}

void Engine::update_cadence(Flow& f, bool from_client, const net::Packet& p) {
    Cadence& c = f.cadence;
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
        f.client_is_a = from_a(key, p), f.client_set = f.roles_known = true;
        f.transport = quic ? Transport::Quic : Transport::Dtls;
        f.client_ttl = p.ttl;
        f.syn_ns = p.ts_ns;  // the client's first datagram plays the SYN's part in timing
        if (quic) handshakes_.at(f.handshake).quic = std::make_unique<quic::InitialDecoder>();
    } else {
        flows_.touch(s);
    }
    Flow& f = flows_.at(s);
    f.last_ns = p.ts_ns;
    const bool from_client = from_a(key, p) == f.client_is_a;
    if (p.payload_len > 0 && cfg_.cadence_from_packets) update_cadence(f, from_client, p);

    Handshake* h = handshake_of(f);
    if (f.transport == Transport::Quic) {
        quic_packet(f, from_client, p);
    } else if (h && from_client && h->client_hello == HelloState::Pending) {
        std::span<const uint8_t> msg;
        if (tls::extract_dtls_client_hello(p.payload, scratch_, msg) == tls::Extract::Complete)
            parsed_hello(*h, true, msg, 'd', true);
        // DTLS servers answer with HelloVerifyRequest or ServerHello; JA4S for DTLS is not
        // defined, so the flow is complete with the client's hello.
        h->server_hello = HelloState::NotTls;
    }
    after_packet(s);
}

void Engine::quic_packet(Flow& f, bool from_client, const net::Packet& p) {
    Handshake* h = handshake_of(f);
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
        if (h && h->client_hello == HelloState::Pending && h->quic) {
            switch (h->quic->feed_client(p.payload)) {
                case quic::Status::Complete:
                    parsed_hello(*h, true, h->quic->client_hello(), 'q', false);
                    break;
                case quic::Status::NotQuic:
                case quic::Status::Failed:
                    ++stats_.quic_failures;
                    h->client_hello = HelloState::Failed;
                    break;
                case quic::Status::NeedMore:
                    break;
            }
        }
        if (type == kHandshake && f.quic_server_handshake_ns && !f.quic_client_handshake_seen) {
            f.quic_client_handshake_seen = true;
            f.ack_ns = p.ts_ns;
            if (cfg_.foxio)
                foxio::ja4l(f.quic_server_handshake_ns, p.ts_ns, f.client_ttl, f.ja4l_c);
        }
    } else {
        if (type == kInitial && f.synack_ns == 0) {
            f.synack_ns = p.ts_ns;
            f.server_ttl = p.ttl;
            f.rtt_us = (f.synack_ns - f.syn_ns) / 1000;
            if (cfg_.foxio) foxio::ja4l(f.syn_ns, f.synack_ns, f.server_ttl, f.ja4l_s);
        }
        // The last server Handshake packet before the client's first one is JA4L's "C".
        if (type == kHandshake && !f.quic_client_handshake_seen)
            f.quic_server_handshake_ns = p.ts_ns;
        if (h && h->server_hello == HelloState::Pending && h->quic) {
            switch (h->quic->feed_server(p.payload)) {
                case quic::Status::Complete:
                    parsed_hello(*h, false, h->quic->server_hello(), 'q', false);
                    break;
                case quic::Status::NotQuic:
                case quic::Status::Failed:
                    h->server_hello = HelloState::Failed;
                    break;
                case quic::Status::NeedMore:
                    break;
            }
        }
    }
    // Both hellos settled: the decoder goes with the rest of the handshake state (after_packet);
    // JA4L-C needs only the packet types, read above without it.
}

void Engine::after_packet(uint32_t s) {
    Flow& f = flows_.at(s);
    const Handshake* h = handshake_of(f);
    const bool done = !h || h->done();
    if (cfg_.emit == EmitAt::Handshake && !f.emitted && done) {
        // Wait for the client's handshake ACK too, so JA4L-C is part of the first report.
        const bool ack_pending = f.transport == Transport::Tcp && f.synack_ns && !f.ack_ns;
        const bool quic_pending = f.transport == Transport::Quic && !f.quic_client_handshake_seen;
        if (!ack_pending && !quic_pending) emit(s, EndReason::Open);
    }
    if (h && done) handshake_over(s);
}

void Engine::handshake_over(uint32_t s) {
    Flow& f = flows_.at(s);
    if (f.emitted || cfg_.deferred_settles == 0) {
        settle(s);
        return;
    }
    handshakes_.mark_over(f.handshake);
    f.handshake_over = true;
    if (handshakes_.over_count() > cfg_.deferred_settles)
        settle(handshakes_.flow_of(handshakes_.oldest_over()));
}

void Engine::settle(uint32_t s) {
    Flow& f = flows_.at(s);
    const Handshake& h = handshakes_.at(f.handshake);
    // A flow already reported (handshake mode) needs its facts no more.
    if (!f.emitted) {
        if (pack_stack_facts(h.facts, packed_)) f.stack_facts = facts_.acquire(packed_);
        if (pack_order_shape(h.facts, packed_)) f.order_shape = facts_.acquire(packed_);
        if (pack_order_facts(h.facts, packed_)) f.order_facts = facts_.acquire(packed_);
    }
    handshakes_.release(f.handshake);
    f.handshake = Flow::kNone;
    f.handshake_over = false;
}

void Engine::emit(uint32_t s, EndReason why) {
    Flow& f = flows_.at(s);
    Observation* o;
    if (f.handshake != Flow::kNone) {
        // In progress, or over and not yet interned; mostly out of cache by the time the
        // connection ends, and the JSON line reads a dozen scattered fields of it.
        o = &handshakes_.at(f.handshake).facts;
        prefetch_object(*o);
    } else {
        o = &out_;
        unpack_stack_facts(f.stack_facts == Flow::kNone ? "" : facts_.get(f.stack_facts), out_);
        unpack_order_facts(f.order_shape == Flow::kNone ? "" : facts_.get(f.order_shape),
                           f.order_facts == Flow::kNone ? "" : facts_.get(f.order_facts), out_);
    }
    // A connection we know nothing about (mid-stream, no hello, no SYN) is not reported.
    if (!f.syn_seen && !o->client_hello_seen && !o->server_hello_seen &&
        f.transport == Transport::Tcp)
        return;
    // The connection's own fields, over the handshake's.
    const net::FlowKey& k = flows_.key(s);
    o->ts_ns = f.ts_ns;
    o->transport = f.transport;
    o->src = f.client_is_a ? k.a : k.b;
    o->src_port = f.client_is_a ? k.a_port : k.b_port;
    o->dst = f.client_is_a ? k.b : k.a;
    o->dst_port = f.client_is_a ? k.b_port : k.a_port;
    o->ja4l_c = f.ja4l_c;
    o->ja4l_s = f.ja4l_s;
    o->syn_ns = f.syn_ns;
    o->synack_ns = f.synack_ns;
    o->ack_ns = f.ack_ns;
    o->client_ttl = f.client_ttl;
    o->server_ttl = f.server_ttl;
    o->rtt_us = f.rtt_us;
    o->cadence = f.cadence;
    o->end = why;
    o->syn_seen = f.syn_seen;
    f.emitted = true;
    ++stats_.observations;
    sink_.on_observation(*o);
}

void Engine::finish(uint32_t s, EndReason why) {
    Flow& f = flows_.at(s);
    // Close the last request burst so the cadence summary is complete.
    if (f.burst_dir == 1) {
        Cadence& c = f.cadence;
        c.max_request_bytes = std::max(c.max_request_bytes, f.burst_bytes);
        if (c.requests == 1 || f.burst_bytes < c.min_request_bytes)
            c.min_request_bytes = f.burst_bytes;
        f.burst_dir = 0;
    }
    if (cfg_.cadence_from_packets) f.cadence.duration_us = (f.last_ns - f.first_ns) / 1000;
    if (!f.emitted) emit(s, why);
    if (f.handshake != Flow::kNone) handshakes_.release(f.handshake);
    if (f.stack_facts != Flow::kNone) facts_.release(f.stack_facts);
    if (f.order_shape != Flow::kNone) facts_.release(f.order_shape);
    if (f.order_facts != Flow::kNone) facts_.release(f.order_facts);
    f.handshake = f.stack_facts = f.order_shape = f.order_facts = Flow::kNone;
    f.handshake_over = false;
    flows_.erase(s);
}

bool Engine::end_flow(const net::FlowKey& key, EndReason why, const Cadence* cadence) {
    const uint32_t s = flows_.find(key);
    if (s == net::FlowTable<Flow>::kNone) return false;
    Flow& f = flows_.at(s);
    if (cadence) {
        f.cadence = *cadence;
        f.burst_dir = 0;  // the kernel's summary is complete: nothing of ours to close
    }
    finish(s, why);
    return true;
}

void Engine::expire(int64_t now_ns) {
    for (uint32_t s = flows_.oldest(); s != net::FlowTable<Flow>::kNone; s = flows_.oldest()) {
        const Flow& f = flows_.at(s);
        const int64_t idle = f.transport == Transport::Tcp ? cfg_.tcp_idle_ns : cfg_.udp_idle_ns;
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
