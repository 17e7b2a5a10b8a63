#include "fingerprint/handshake.hpp"

#include "net/slot_reuse.hpp"

namespace sybilwatch::fingerprint {

uint32_t HandshakePool::acquire(uint32_t flow_slot) {
    const uint32_t id = net::take_slot(free_, states_, links_);
    // The state the next connection will take: it is written all over (facts.clear()) as soon
    // as it is taken, and has gone cold since it was freed. Requested now, it is in cache when
    // that connection's SYN comes.
    if (!free_.empty()) {
        const char* const next = reinterpret_cast<const char*>(&states_[free_.back()]);
        for (size_t off = 0; off < sizeof(Handshake); off += 64)
            __builtin_prefetch(next + off, 1);
    }
    Handshake& h = states_[id];
    h.client_hello = h.server_hello = HelloState::Pending;
    h.client_preamble = h.server_preamble = 0;
    h.client_stream.reset();
    h.server_stream.reset();
    h.quic.reset();
    h.facts.clear();
    links_[id].flow = flow_slot;
    links_[id].over = false;
    link_tail(active_, id);
    return id;
}

void HandshakePool::mark_over(uint32_t id) {
    Handshake& h = states_[id];
    h.client_stream.reset();
    h.server_stream.reset();
    h.quic.reset();
    unlink(active_, id);
    link_tail(over_, id);
    links_[id].over = true;
}

void HandshakePool::release(uint32_t id) {
    Handshake& h = states_[id];
    Link& l = links_[id];
    // Reassembly buffers go back to their pool now, not when the state is next reused (a
    // state whose handshake was over gave them back then).
    if (!l.over) {
        h.client_stream.reset();
        h.server_stream.reset();
        h.quic.reset();
    }
    unlink(l.over ? over_ : active_, id);
    l.flow = kNone;
    l.over = false;
    free_.push_back(id);
}

void HandshakePool::link_tail(List& list, uint32_t id) {
    Link& l = links_[id];
    l.prev = list.tail;
    l.next = kNone;
    if (list.tail != kNone)
        links_[list.tail].next = id;
    else
        list.head = id;
    list.tail = id;
    ++list.size;
}

void HandshakePool::unlink(List& list, uint32_t id) {
    Link& l = links_[id];
    if (l.prev != kNone)
        links_[l.prev].next = l.next;
    else
        list.head = l.next;
    if (l.next != kNone)
        links_[l.next].prev = l.prev;
    else
        list.tail = l.prev;
    l.prev = l.next = kNone;
    --list.size;
}

}  // namespace sybilwatch::fingerprint
