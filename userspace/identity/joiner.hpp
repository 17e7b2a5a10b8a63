// Joins connections (Observations from the fingerprint engine) with the attribution records
// that name them, on the client's address and port (and the server port when the record gives
// it), within the connection's lifetime, whichever arrives first:
//  - a record that arrives first waits (record_ttl) in a bounded table for its connection;
//  - a connection that arrives first waits (wait) for its record, then is passed on without
//    an account. Either way each Observation is passed on exactly once, with the account when
//    one was known in time. A record for a connection already passed on without an account is
//    counted as late and reported through on_late_attribution.
//  - passed-on connections are remembered (linger) so that more records on a keep-alive
//    connection are recognised: the first account stays, a different one counts as a conflict
//    (unless it comes after the connection closed: then it waits for a later connection that
//    reused the address and port).
// Every table has a fixed capacity; when one is full its oldest entry goes (counted). Time is
// the caller's: tick(now) with the wall clock when live, with packet time when replaying; all
// waits are measured on that clock. Not thread-safe, and not re-entrant from the sink.
#pragma once

#include <cstdint>
#include <string>

#include "fingerprint/engine.hpp"
#include "fingerprint/observation.hpp"
#include "identity/attributed_observation.hpp"
#include "identity/attribution_record.hpp"
#include "identity/string_pool.hpp"
#include "net/flow_table.hpp"

namespace sybilwatch::identity {

struct JoinerConfig {
    int64_t wait_ns = 5'000'000'000;          // a connection waits this long (0: passed on at once)
    int64_t record_ttl_ns = 120'000'000'000;  // a record waits this long for its connection
    int64_t linger_ns = 300'000'000'000;      // a passed-on connection is remembered this long
                                              // after its last record
    // Slack between the gateway's clock and packet timestamps when deciding whether a record's
    // ts falls within a connection's lifetime.
    int64_t skew_ns = 2'000'000'000;
    uint32_t max_pending_records = 65536;
    uint32_t max_waiting = 16384;       // connections held for their record (each a copy)
    uint32_t max_connections = 262144;  // passed-on connections remembered
};

// Records: records == matched + late + repeats + conflicts + stale_records + expired_records
//                     + evicted_records + pending_records().
// Connections: observations == matched + unattributed + waiting().
struct JoinerStats {
    uint64_t observations = 0;
    uint64_t records = 0;
    uint64_t matched = 0;               // connections passed on with an account
    uint64_t matched_record_first = 0;  // ... whose record had arrived before them
    uint64_t unattributed = 0;          // connections passed on without an account
    uint64_t waiting_evicted = 0;       // ... of which early, to make room (max_waiting)
    uint64_t late = 0;                  // records for a connection passed on without an account
    uint64_t repeats = 0;               // more records with the same account for one connection
    uint64_t conflicts = 0;             // records naming another account than a connection's first
    uint64_t stale_records = 0;         // older than record_ttl on arrival, matching nothing
    uint64_t expired_records = 0;       // waited record_ttl, or predate the connection that came
    uint64_t evicted_records = 0;       // dropped to make room (max_pending_records)
    uint64_t evicted_connections = 0;   // remembered connections dropped to make room
};

class Joiner : public fingerprint::ObservationSink {
  public:
    Joiner(const JoinerConfig& cfg, AttributedSink& out);

    void on_observation(const fingerprint::Observation& obs) override;
    void on_attribution(const AttributionRecord& rec);

    // Advances the clock (it never goes back): passes on connections whose wait is over,
    // forgets records and connections past their time.
    void tick(int64_t now_ns);
    // Passes on every waiting connection without an account (end of input, shutdown).
    void flush();

    const JoinerStats& stats() const { return stats_; }
    // Share of passed-on connections that carried an account; 0 before the first.
    double hit_rate() const;
    uint32_t pending_records() const { return pending_.size(); }
    uint32_t waiting() const { return waiting_.size(); }
    uint32_t connections() const { return conns_.size(); }
    int64_t now_ns() const { return now_; }

  private:
    struct Lifetime {
        int64_t start_ns = 0;  // 0: unknown
        int64_t end_ns = 0;    // 0: still open, or unknown
        uint16_t server_port = 0;
    };
    struct Pending {
        int64_t first_ns = 0, last_ns = 0;  // ts of the first and latest record
        int64_t expires_ns = 0;
        double ts = 0;
        uint16_t server_port = 0;
        std::string account, request_id;
        StringPool::Ref user_agent;  // shared: a few client builds across many records
    };
    struct Waiting {
        fingerprint::Observation obs;
        Lifetime life;
        int64_t deadline_ns = 0;
    };
    struct Conn {
        Lifetime life;
        int64_t expires_ns = 0;
        std::string account;  // empty: passed on without one (so far)
    };

    static Lifetime lifetime_of(const fingerprint::Observation& obs);
    bool within(const Lifetime& l, int64_t ts_ns) const;
    static bool port_ok(const Lifetime& l, uint16_t server_port) {
        return server_port == 0 || l.server_port == 0 || l.server_port == server_port;
    }
    void emit(const fingerprint::Observation& obs, std::string_view account,
              std::string_view user_agent, std::string_view request_id, double record_ts);
    void release_waiting(uint32_t slot);
    void remember(const net::FlowKey& key, const Lifetime& life, std::string_view account);
    bool to_connection(const AttributionRecord& rec, const net::FlowKey& key, int64_t ts_ns);
    void to_pending(const AttributionRecord& rec, const net::FlowKey& key, int64_t ts_ns);

    JoinerConfig cfg_;
    AttributedSink& out_;
    StringPool agents_;  // before the tables, whose records refer to it
    net::FlowTable<Pending> pending_;
    net::FlowTable<Waiting> waiting_;
    net::FlowTable<Conn> conns_;
    int64_t now_ = 0;
    JoinerStats stats_;
};

}  // namespace sybilwatch::identity
