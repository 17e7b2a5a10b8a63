#include "fingerprint/handshake.hpp"

namespace sybilwatch::fingerprint {

uint32_t HandshakePool::acquire(uint32_t flow_slot) {
    uint32_t id;
    if (!free_.empty()) {
        id = free_.back();
        free_.pop_back();
    } else {
        id = static_cast<uint32_t>(states_.size());
        states_.emplace_back();
    }
    State& st = states_[id];
    Handshake& h = st.hs;
    h.client_hello = h.server_hello = HelloState::Pending;
    h.client_preamble = h.server_preamble = 0;
    h.client_stream.reset();
    h.server_stream.reset();
    h.quic.reset();
    h.facts.clear();
    st.flow = flow_slot;
    st.prev = tail_;
    st.next = kNone;
    if (tail_ != kNone)
        states_[tail_].next = id;
    else
        head_ = id;
    tail_ = id;
    ++size_;
    return id;
}

void HandshakePool::release(uint32_t id) {
    State& st = states_[id];
    // Reassembly buffers go back to their pool now, not when the state is next reused.
    st.hs.client_stream.reset();
    st.hs.server_stream.reset();
    st.hs.quic.reset();
    if (st.prev != kNone)
        states_[st.prev].next = st.next;
    else
        head_ = st.next;
    if (st.next != kNone)
        states_[st.next].prev = st.prev;
    else
        tail_ = st.prev;
    st.prev = st.next = st.flow = kNone;
    free_.push_back(id);
    --size_;
}

}  // namespace sybilwatch::fingerprint
