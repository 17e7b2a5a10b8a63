#include "identity/joiner.hpp"

#include <algorithm>

namespace sybilwatch::identity {
namespace {

// Times come from packets and from the caller's clock; none of them may overflow a sum.
int64_t add(int64_t a, int64_t b) {
    int64_t r;
    if (__builtin_add_overflow(a, b, &r)) return b > 0 ? INT64_MAX : INT64_MIN;
    return r;
}

net::FlowKey key_of(const net::IpAddress& ip, uint16_t port) {
    net::FlowKey k;
    k.a = ip;
    k.a_port = port;
    return k;
}

}  // namespace

Joiner::Joiner(const JoinerConfig& cfg, AttributedSink& out)
    : cfg_(cfg),
      out_(out),
      pending_(cfg.max_pending_records),
      waiting_(cfg.max_waiting),
      conns_(cfg.max_connections) {}

Joiner::Lifetime Joiner::lifetime_of(const fingerprint::Observation& obs) {
    Lifetime l;
    l.start_ns = obs.ts_ns;
    // An observation emitted at the close carries its duration: records after it belong to a
    // later connection from the same address and port.
    if (obs.end != fingerprint::EndReason::Open && obs.cadence.duration_us > 0 && obs.ts_ns > 0)
        l.end_ns = add(obs.ts_ns, obs.cadence.duration_us > INT64_MAX / 1000
                                      ? INT64_MAX
                                      : obs.cadence.duration_us * 1000);
    l.server_port = obs.dst_port;
    return l;
}

bool Joiner::within(const Lifetime& l, int64_t ts_ns) const {
    if (l.start_ns != 0 && ts_ns < add(l.start_ns, -cfg_.skew_ns)) return false;
    if (l.end_ns != 0 && ts_ns > add(l.end_ns, cfg_.skew_ns)) return false;
    return true;
}

double Joiner::hit_rate() const {
    const uint64_t out = stats_.matched + stats_.unattributed;
    return out ? static_cast<double>(stats_.matched) / static_cast<double>(out) : 0.0;
}

void Joiner::emit(const fingerprint::Observation& obs, std::string_view account,
                  std::string_view user_agent, std::string_view request_id, double record_ts) {
    if (account.empty()) {
        ++stats_.unattributed;
    } else {
        ++stats_.matched;
    }
    out_.on_attributed(AttributedObservation{obs, account, user_agent, request_id, record_ts});
}

void Joiner::remember(const net::FlowKey& key, const Lifetime& life, std::string_view account) {
    uint32_t s = conns_.find(key);
    if (s == conns_.kNone) {
        if (conns_.full()) {
            conns_.erase(conns_.oldest());
            ++stats_.evicted_connections;
        }
        s = conns_.insert(key);
    } else {
        conns_.touch(s);
    }
    Conn& c = conns_.at(s);
    c.life = life;
    c.expires_ns = add(now_, cfg_.linger_ns);
    c.account.assign(account);
}

void Joiner::release_waiting(uint32_t slot) {
    Waiting& w = waiting_.at(slot);
    const net::FlowKey key = waiting_.key(slot);
    emit(w.obs, {}, {}, {}, 0);
    remember(key, w.life, {});
    waiting_.erase(slot);
}

void Joiner::on_observation(const fingerprint::Observation& obs) {
    ++stats_.observations;
    const net::FlowKey key = key_of(obs.src, obs.src_port);
    const Lifetime life = lifetime_of(obs);

    // A new connection from the same address and port ends whatever we held for the old one.
    if (const uint32_t w = waiting_.find(key); w != waiting_.kNone) release_waiting(w);

    if (const uint32_t p = pending_.find(key); p != pending_.kNone) {
        Pending& rec = pending_.at(p);
        if (port_ok(life, rec.server_port)) {
            if (life.start_ns != 0 && rec.last_ns < add(life.start_ns, -cfg_.skew_ns)) {
                // Records from before this connection: theirs never came.
                pending_.erase(p);
                ++stats_.expired_records;
            } else if (within(life, rec.first_ns) || within(life, rec.last_ns)) {
                ++stats_.matched_record_first;
                emit(obs, rec.account, StringPool::view(rec.user_agent), rec.request_id, rec.ts);
                remember(key, life, rec.account);
                pending_.erase(p);
                return;
            }
            // Otherwise the records are for a later connection on this address and port.
        }
    }

    if (cfg_.wait_ns <= 0) {
        emit(obs, {}, {}, {}, 0);
        remember(key, life, {});
        return;
    }
    if (waiting_.full()) {
        ++stats_.waiting_evicted;
        release_waiting(waiting_.oldest());
    }
    const uint32_t s = waiting_.insert(key);
    Waiting& w = waiting_.at(s);
    w.obs = obs;  // copy-assignment: the slot's strings keep their capacity
    w.life = life;
    w.deadline_ns = add(now_, cfg_.wait_ns);
    // The previous connection remembered on this address and port is over.
    if (const uint32_t c = conns_.find(key); c != conns_.kNone) conns_.erase(c);
}

bool Joiner::to_connection(const AttributionRecord& rec, const net::FlowKey& key, int64_t ts_ns) {
    if (const uint32_t s = waiting_.find(key); s != waiting_.kNone) {
        Waiting& w = waiting_.at(s);
        if (within(w.life, ts_ns) && port_ok(w.life, rec.server_port)) {
            // Known now: no reason to keep the connection waiting.
            emit(w.obs, rec.account, rec.user_agent, rec.request_id, rec.ts);
            remember(key, w.life, rec.account);
            waiting_.erase(s);
            return true;
        }
    }
    if (const uint32_t s = conns_.find(key); s != conns_.kNone) {
        Conn& c = conns_.at(s);
        // A record from after a closed connection's end that names another account is for a
        // later connection on the same address and port (a client that closed second has no
        // TIME_WAIT and may reuse the port at once): it waits for that one.
        const bool reused = c.life.end_ns != 0 && ts_ns > c.life.end_ns && !c.account.empty() &&
                            c.account != rec.account;
        if (!reused && within(c.life, ts_ns) && port_ok(c.life, rec.server_port)) {
            if (c.account.empty()) {
                ++stats_.late;
                c.account.assign(rec.account);
                LateAttribution late;
                late.client_ip = rec.client_ip;
                late.client_port = rec.client_port;
                late.server_port = c.life.server_port;
                late.connection_ts_ns = c.life.start_ns;
                late.record_ts = rec.ts;
                late.account = rec.account;
                late.user_agent = rec.user_agent;
                late.request_id = rec.request_id;
                out_.on_late_attribution(late);
            } else if (c.account == rec.account) {
                ++stats_.repeats;
            } else {
                ++stats_.conflicts;
            }
            c.expires_ns = add(now_, cfg_.linger_ns);
            conns_.touch(s);
            return true;
        }
    }
    return false;
}

void Joiner::to_pending(const AttributionRecord& rec, const net::FlowKey& key, int64_t ts_ns) {
    if (const uint32_t s = pending_.find(key); s != pending_.kNone) {
        Pending& p = pending_.at(s);
        if (p.account == rec.account) {
            ++stats_.repeats;
            p.first_ns = std::min(p.first_ns, ts_ns);
            p.last_ns = std::max(p.last_ns, ts_ns);
            p.expires_ns = add(now_, cfg_.record_ttl_ns);
            pending_.touch(s);
        } else {
            ++stats_.conflicts;  // the first account stays
        }
        return;
    }
    if (pending_.full()) {
        pending_.erase(pending_.oldest());
        ++stats_.evicted_records;
    }
    const uint32_t s = pending_.insert(key);
    Pending& p = pending_.at(s);
    p.first_ns = p.last_ns = ts_ns;
    p.expires_ns = add(now_, cfg_.record_ttl_ns);
    p.ts = rec.ts;
    p.server_port = rec.server_port;
    p.account.assign(rec.account);
    p.user_agent = agents_.intern(rec.user_agent);
    p.request_id.assign(rec.request_id);
}

void Joiner::on_attribution(const AttributionRecord& rec) {
    ++stats_.records;
    const net::FlowKey key = key_of(rec.client_ip, rec.client_port);
    const int64_t ts_ns = rec.ts_ns();
    if (to_connection(rec, key, ts_ns)) return;
    if (now_ != 0 && ts_ns < add(now_, -cfg_.record_ttl_ns)) {
        ++stats_.stale_records;  // its connection, if we ever saw it, is long forgotten
        return;
    }
    to_pending(rec, key, ts_ns);
}

void Joiner::tick(int64_t now_ns) {
    if (now_ns > now_) now_ = now_ns;
    // Deadlines are set from the clock at insertion (or refresh), so the oldest entry of each
    // table is always the first to expire.
    for (uint32_t s = waiting_.oldest(); s != waiting_.kNone && waiting_.at(s).deadline_ns <= now_;
         s = waiting_.oldest())
        release_waiting(s);
    for (uint32_t s = pending_.oldest(); s != pending_.kNone && pending_.at(s).expires_ns <= now_;
         s = pending_.oldest()) {
        pending_.erase(s);
        ++stats_.expired_records;
    }
    for (uint32_t s = conns_.oldest(); s != conns_.kNone && conns_.at(s).expires_ns <= now_;
         s = conns_.oldest())
        conns_.erase(s);
}

void Joiner::flush() {
    for (uint32_t s = waiting_.oldest(); s != waiting_.kNone; s = waiting_.oldest())
        release_waiting(s);
}

}  // namespace sybilwatch::identity
