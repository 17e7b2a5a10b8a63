// The handshake facts of a connection: the Observation fields that come from its hellos and
// SYNs, and so are the same over the many connections of one client stack and server. An open
// connection whose handshake is over keeps them interned (FactsTable) rather than inline; they
// are packed into three values: the stack's facts; the shape of the order-dependent ones (the
// raw strings JA3_full and JA4_ro but for their extension lists); and what a client that
// permutes its extensions (Chrome, Edge) changes on every connection: JA3, JA4_o and the two
// extension lists in the order sent. So such a client makes only the last value unique per
// connection (~200 bytes with the raw strings, ~70 without), not the others.
#pragma once

#include <string>
#include <string_view>

#include "fingerprint/observation.hpp"

namespace sybilwatch::fingerprint {

// Pack the group's fields of `o` into `out` (replaced); false when every one of them is empty.
bool pack_stack_facts(const Observation& o, std::string& out);
bool pack_order_shape(const Observation& o, std::string& out);
bool pack_order_facts(const Observation& o, std::string& out);

// Set the group's fields of `o` from a packed value; an empty value clears them.
void unpack_stack_facts(std::string_view packed, Observation& o);
// The order-dependent fields need both of their values.
void unpack_order_facts(std::string_view shape, std::string_view packed, Observation& o);

}  // namespace sybilwatch::fingerprint
