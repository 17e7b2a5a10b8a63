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
// A state whose handshake is over but whose facts are not yet interned (Engine: deferred
// settling) moves to a second list, in the order its handshake ended; it holds its facts only.
class HandshakePool {
  public:
    static constexpr uint32_t kNone = UINT32_MAX;

    explicit HandshakePool(uint32_t capacity) : capacity_(capacity ? capacity : 1) {
        states_.reserve(capacity_);  // address space only: pages are touched as states are made
        links_.reserve(capacity_);
        free_.reserve(capacity_);
    }

    bool full() const { return active_.size + over_.size == capacity_; }
    // States of handshakes in progress.
    uint32_t size() const { return active_.size; }
    uint32_t capacity() const { return capacity_; }

    // A reset state for the flow in `flow_slot`; the pool must not be full.
    uint32_t acquire(uint32_t flow_slot);
    // Gives the state back (its reassembly buffers and QUIC decoder are freed).
    void release(uint32_t id);
    Handshake& at(uint32_t id) { return states_[id]; }
    // The handshake taken longest ago and the flow it belongs to; kNone when empty.
    uint32_t oldest() const { return active_.head; }
    uint32_t flow_of(uint32_t id) const { return links_[id].flow; }

    // The handshake is over; the state keeps its facts only (reassembly buffers and the QUIC
    // decoder are freed now) until released.
    void mark_over(uint32_t id);
    bool is_over(uint32_t id) const { return links_[id].over; }
    uint32_t over_count() const { return over_.size; }
    // The state whose handshake ended longest ago; kNone when there is none.
    uint32_t oldest_over() const { return over_.head; }

  private:
    // Bookkeeping apart from the ~2 KB states, so that list operations touch a few compact
    // cache lines rather than the far end of a state.
    struct Link {
        uint32_t flow = kNone;
        uint32_t prev = kNone, next = kNone;
        bool over = false;
    };
    struct List {
        uint32_t head = kNone, tail = kNone, size = 0;
    };
    void link_tail(List& l, uint32_t id);
    void unlink(List& l, uint32_t id);

    uint32_t capacity_;
    List active_, over_;
    std::vector<Handshake> states_;
    std::vector<Link> links_;
    std::vector<uint32_t> free_;
};

}  // namespace sybilwatch::fingerprint
