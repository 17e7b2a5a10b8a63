#include "rules/eval_context.hpp"

#include <cmath>

namespace sybilwatch::rules {

namespace {

constexpr int64_t kNsPerSec = 1'000'000'000;

FieldValue str(std::string_view s) {
    FieldValue v;
    v.present = !s.empty();
    v.str = s;
    return v;
}

FieldValue num(double d, bool present = true) {
    FieldValue v;
    v.present = present;
    v.num = d;
    return v;
}

FieldValue addr(const net::IpAddress& a) {
    FieldValue v;
    v.present = a.family != 0;
    v.ip = a;
    v.prefix = a.family == 6 ? 128 : 32;
    return v;
}

}  // namespace

EvalContext::EvalContext(const identity::AttributedObservation& a)
    : obs_(&a.obs), account_(a.account), user_agent_(a.user_agent), request_id_(a.request_id) {
    derive();
}

EvalContext::EvalContext(const fingerprint::Observation& obs) : obs_(&obs) {
    derive();
}

void EvalContext::derive() {
    const fingerprint::Observation& o = *obs_;
    net24_ = o.src;
    if (o.src.family == 4) {
        net24_prefix_ = 24;
        net24_.bytes[3] = 0;
    } else if (o.src.family == 6) {
        net24_prefix_ = 48;
        for (size_t i = 6; i < 16; ++i)
            net24_.bytes[i] = 0;
    }
    if (o.rtt_us >= 0) rtt_ms_ = static_cast<double>(o.rtt_us) / 1000.0;
    const fingerprint::Cadence& c = o.cadence;
    has_gap_mean_ = c.gap_count >= 1;
    has_gap_stddev_ = c.gap_count >= 2;
    gap_mean_ms_ = c.gap_mean_us / 1000.0;
    gap_stddev_ms_ = c.gap_stddev_us() / 1000.0;
    has_gap_cv_ = has_gap_stddev_ && c.gap_mean_us > 0;
    gap_cv_ = has_gap_cv_ ? c.gap_stddev_us() / c.gap_mean_us : 0;
    ts_s_ = static_cast<double>(o.ts_ns) / 1e9;
    // Floor division: times before 1970 still get a valid hour and weekday.
    int64_t secs = o.ts_ns / kNsPerSec;
    if (o.ts_ns % kNsPerSec < 0) --secs;
    int64_t days = secs / 86400;
    int64_t sod = secs % 86400;
    if (sod < 0) {
        sod += 86400;
        --days;
    }
    hour_ = static_cast<int>(sod / 3600);
    weekday_ = static_cast<int>(((days % 7) + 7 + 4) % 7);  // 1970-01-01 was a Thursday
}

FieldValue EvalContext::get(FieldId id) const {
    const fingerprint::Observation& o = *obs_;
    switch (id) {
        case FieldId::Account:
            return str(account_);
        case FieldId::UserAgent:
            return str(user_agent_);
        case FieldId::RequestId:
            return str(request_id_);
        case FieldId::Ip:
            return addr(o.src);
        case FieldId::Dst:
            return addr(o.dst);
        case FieldId::SrcPort:
            return num(o.src_port, o.src.family != 0);
        case FieldId::DstPort:
            return num(o.dst_port, o.dst.family != 0);
        case FieldId::Net24:
        case FieldId::Net48: {
            FieldValue v;
            v.present = net24_prefix_ != 0 && (id == FieldId::Net24 || o.src.family == 6);
            v.ip = net24_;
            v.prefix = net24_prefix_;
            return v;
        }
        case FieldId::Transport:
            return str(fingerprint::to_string(o.transport));
        case FieldId::Sni:
            return str(o.sni.view());
        case FieldId::Alpn:
            return str(o.alpn.view());
        case FieldId::Ja4:
            return str(o.ja4.view());
        case FieldId::Ja4R:
            return str(o.ja4_r);
        case FieldId::Ja4O:
            return str(o.ja4_o.view());
        case FieldId::Ja4Ro:
            return str(o.ja4_ro);
        case FieldId::Ja3:
            return str(o.ja3.view());
        case FieldId::Ja3Full:
            return str(o.ja3_full);
        case FieldId::Ja4s:
            return str(o.ja4s.view());
        case FieldId::Ja4sR:
            return str(o.ja4s_r);
        case FieldId::Ja4t:
            return str(o.ja4t.view());
        case FieldId::Ja4ts:
            return str(o.ja4ts.view());
        case FieldId::Ja4lC:
            return str(o.ja4l_c.view());
        case FieldId::Ja4lS:
            return str(o.ja4l_s.view());
        case FieldId::TcpSig:
            return str(o.tcp_sig.view());
        case FieldId::Ttl:
            return num(o.client_ttl, o.client_ttl != 0);
        case FieldId::RttMs:
            return num(rtt_ms_, o.rtt_us >= 0);
        case FieldId::Requests:
            return num(o.cadence.requests);
        case FieldId::Responses:
            return num(o.cadence.responses);
        case FieldId::ClientBytes:
            return num(static_cast<double>(o.cadence.client_bytes));
        case FieldId::ServerBytes:
            return num(static_cast<double>(o.cadence.server_bytes));
        case FieldId::GapMeanMs:
            return num(gap_mean_ms_, has_gap_mean_);
        case FieldId::GapStddevMs:
            return num(gap_stddev_ms_, has_gap_stddev_);
        case FieldId::GapCv:
            return num(gap_cv_, has_gap_cv_);
        case FieldId::DurationMs:
            return num(static_cast<double>(o.cadence.duration_us) / 1000.0);
        case FieldId::Ts:
            return num(ts_s_);
        case FieldId::Hour:
            return num(hour_);
        case FieldId::Weekday:
            return num(weekday_);
        case FieldId::Count_:
            break;
    }
    return {};
}

}  // namespace sybilwatch::rules
