// The working state of a connection whose handshake is in progress: reassembly of its first
// flights, the QUIC Initial decoder, and the Observation its hellos are fingerprinted into.
// Large (~2 KB), so it is held only while needed, in a bounded pool apart from the flow table:
// once both hellos are settled the flow keeps its facts interned and gives this back.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "fingerprint/observation.hpp"
#include "net/stream_reassembler.hpp"
#include "quic/initial_decoder.hpp"

namespace sybilwatch::fingerprint {

// What is known of one direction's first flight (ClientHello or ServerHello).
enum class HelloState : uint8_t { Pending, Parsed, NotTls, Failed };

struct Handshake {
    HelloState client_hello = HelloState::Pending;
    HelloState server_hello = HelloState::Pending;
    // A plaintext preamble (HTTP CONNECT, SOCKS, STARTTLS) can come before TLS: segments of
    // each direction skipped while looking for a hello record.
    uint8_t client_preamble = 0, server_preamble = 0;
    net::StreamReassembler client_stream, server_stream;
    std::unique_ptr<quic::InitialDecoder> quic;
    // Only the handshake-derived fields are kept here (hello_facts.hpp); the connection's own
    // (addresses, timing, cadence) live in its Flow.
    Observation facts;

    bool done() const {
        return client_hello != HelloState::Pending && server_hello != HelloState::Pending;
    }
};

// Fixed capacity; states are reused (buffers and strings keep their capacity) and kept in the
// order they were taken, so that when the pool is full the oldest handshake can be ended.
class HandshakePool {
  public:
    static constexpr uint32_t kNone = UINT32_MAX;

    explicit HandshakePool(uint32_t capacity) : capacity_(capacity ? capacity : 1) {
        states_.reserve(capacity_);  // address space only: pages are touched as states are made
        free_.reserve(capacity_);
    }

    bool full() const { return size_ == capacity_; }
    uint32_t size() const { return size_; }
    uint32_t capacity() const { return capacity_; }

    // A reset state for the flow in `flow_slot`; the pool must not be full.
    uint32_t acquire(uint32_t flow_slot);
    // Gives the state back (its reassembly buffers and QUIC decoder are freed).
    void release(uint32_t id);
    Handshake& at(uint32_t id) { return states_[id].hs; }
    // The handshake taken longest ago and the flow it belongs to; kNone when empty.
    uint32_t oldest() const { return head_; }
    uint32_t flow_of(uint32_t id) const { return states_[id].flow; }

  private:
    struct State {
        Handshake hs;
        uint32_t flow = kNone;
        uint32_t prev = kNone, next = kNone;
    };
    uint32_t capacity_;
    uint32_t size_ = 0;
    uint32_t head_ = kNone, tail_ = kNone;
    std::vector<State> states_;
    std::vector<uint32_t> free_;
};

}  // namespace sybilwatch::fingerprint
