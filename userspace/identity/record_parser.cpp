#include "identity/record_parser.hpp"

#include <nlohmann/json.hpp>

#include <cmath>

#include "identity/timestamp_text.hpp"

namespace sybilwatch::identity {
namespace {

using json = nlohmann::json;

enum Field : uint8_t {
    kNone,
    kTs,
    kIp,
    kPort,
    kServerPort,
    kAccount,
    kUserAgent,
    kRequestId,
    kOther
};
constexpr uint8_t kRequired = (1 << kTs) | (1 << kIp) | (1 << kPort) | (1 << kAccount);

Field field_of(std::string_view k) {
    if (k == "ts") return kTs;
    if (k == "client_ip") return kIp;
    if (k == "client_port") return kPort;
    if (k == "server_port") return kServerPort;
    if (k == "account") return kAccount;
    if (k == "user_agent") return kUserAgent;
    if (k == "request_id") return kRequestId;
    return kOther;
}

bool is_control(unsigned char c) {
    return c < 0x20 || c == 0x7f;
}

std::optional<uint16_t> port_from_text(std::string_view s) {
    if (s.empty() || s.size() > 5) return std::nullopt;
    uint32_t v = 0;
    for (char c : s) {
        if (c < '0' || c > '9') return std::nullopt;
        v = v * 10 + static_cast<uint32_t>(c - '0');
    }
    if (v == 0 || v > 65535) return std::nullopt;
    return static_cast<uint16_t>(v);
}

// A gateway listening on a dual-stack socket reports IPv4 clients as ::ffff:a.b.c.d, while the
// packets on the wire are IPv4: store them as IPv4 so they meet.
net::IpAddress normalize(net::IpAddress a) {
    static constexpr uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (a.family == 6 && std::memcmp(a.bytes.data(), kMapped, 12) == 0) {
        net::IpAddress v4;
        v4.family = 4;
        std::memcpy(v4.bytes.data(), a.bytes.data() + 12, 4);
        return v4;
    }
    return a;
}

// Copies a client-supplied string: control characters become '?', and it is cut to `cap`
// bytes without splitting a UTF-8 sequence (the parser has checked the UTF-8 is well formed).
bool copy_bounded(std::string_view in, size_t cap, std::string& out) {
    bool cut = false;
    if (in.size() > cap) {
        size_t n = cap;
        while (n > 0 && (static_cast<unsigned char>(in[n]) & 0xC0) == 0x80)
            --n;
        in = in.substr(0, n);
        cut = true;
    }
    out.assign(in);
    for (char& c : out)
        if (is_control(static_cast<unsigned char>(c))) c = '?';
    return cut;
}

// SAX events of nlohmann::json: the record is filled as values arrive, without building a
// document, and parsing stops at the first field that is wrong.
class Handler {
  public:
    explicit Handler(AttributionRecord& out) : out_(out) {}

    ParseResult result = ParseResult::Ok;
    uint8_t seen = 0;  // fields present (and not null)
    uint8_t keys = 0;  // fields named, null or not
    bool account_null = false;
    bool ua_cut = false, rid_cut = false;

    bool null() {
        if (!value_start()) return false;
        if (depth_ == 1 && cur_ == kAccount) account_null = true;
        // Null is "not given": required fields then count as missing.
        return done();
    }
    bool boolean(bool) {
        return value_start() && (in_field() ? fail(ParseResult::WrongType) : done());
    }
    bool number_integer(json::number_integer_t v) {
        if (!value_start()) return false;
        if (!in_field()) return done();
        switch (cur_) {
            case kTs:
                return v < 0 ? fail(ParseResult::BadTimestamp) : set_ts(static_cast<double>(v));
            case kPort:
            case kServerPort:
                return fail(ParseResult::BadPort);  // negative
            default:
                return fail(ParseResult::WrongType);
        }
    }
    bool number_unsigned(json::number_unsigned_t v) {
        if (!value_start()) return false;
        if (!in_field()) return done();
        switch (cur_) {
            case kTs:
                return v > static_cast<uint64_t>(kMaxEpochSeconds) ? fail(ParseResult::BadTimestamp)
                                                                   : set_ts(static_cast<double>(v));
            case kPort:
            case kServerPort:
                if (v == 0 || v > 65535) return fail(ParseResult::BadPort);
                return set_port(static_cast<uint16_t>(v));
            default:
                return fail(ParseResult::WrongType);
        }
    }
    bool number_float(json::number_float_t v, const json::string_t&) {
        if (!value_start()) return false;
        if (!in_field()) return done();
        switch (cur_) {
            case kTs:
                return set_ts(v);
            case kPort:
            case kServerPort:
                return fail(ParseResult::BadPort);  // 443.5 or 4.43e2: not a port
            default:
                return fail(ParseResult::WrongType);
        }
    }
    bool string(json::string_t& s) {
        if (!value_start()) return false;
        if (!in_field()) return done();
        switch (cur_) {
            case kTs: {
                const auto t = parse_timestamp_text(s);
                return t ? set_ts(*t) : fail(ParseResult::BadTimestamp);
            }
            case kIp: {
                const net::IpAddress a = net::IpAddress::parse(s);
                if (a.family == 0) return fail(ParseResult::BadIp);
                out_.client_ip = normalize(a);
                return set();
            }
            case kPort:
            case kServerPort: {
                const auto p = port_from_text(s);
                return p ? set_port(*p) : fail(ParseResult::BadPort);
            }
            case kAccount:
                if (s.empty() || s == "-") return fail(ParseResult::NoAccount);
                if (s.size() > kMaxAccount) return fail(ParseResult::FieldTooLong);
                for (char c : s)
                    if (is_control(static_cast<unsigned char>(c)))
                        return fail(ParseResult::BadCharacters);
                out_.account.assign(s);
                return set();
            case kUserAgent:
                ua_cut = copy_bounded(s, kMaxUserAgent, out_.user_agent);
                return set();
            case kRequestId:
                rid_cut = copy_bounded(s, kMaxRequestId, out_.request_id);
                return set();
            default:
                return done();
        }
    }
    // Only the binary formats (CBOR, MessagePack, ...) produce these; text JSON never does.
    bool binary(json::binary_t&) { return fail(ParseResult::NotJson); }

    bool start_object(std::size_t) { return open(true); }
    bool start_array(std::size_t) { return open(false); }
    bool end_object() { return close(); }
    bool end_array() { return close(); }

    bool key(json::string_t& k) {
        if (depth_ != 1) return true;  // keys of nested objects belong to unknown fields
        cur_ = field_of(k);
        if (cur_ != kOther) {
            const uint8_t bit = uint8_t(1u << cur_);
            if (keys & bit) return fail(ParseResult::DuplicateField);
            keys |= bit;
        }
        return true;
    }

    bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) {
        if (result == ParseResult::Ok) result = ParseResult::NotJson;
        return false;
    }

  private:
    bool fail(ParseResult r) {
        result = r;
        return false;
    }
    // A scalar at the top level is a document that is not an object.
    bool value_start() { return depth_ == 0 ? fail(ParseResult::NotObject) : true; }
    bool in_field() const { return depth_ == 1 && cur_ != kOther && cur_ != kNone; }
    bool done() {
        if (depth_ == 1) cur_ = kNone;
        return true;
    }
    bool set() {
        seen |= uint8_t(1u << cur_);
        return done();
    }
    bool set_ts(double t) {
        if (!std::isfinite(t) || t < 0 || t > kMaxEpochSeconds)
            return fail(ParseResult::BadTimestamp);
        out_.ts = t;
        return set();
    }
    bool set_port(uint16_t p) {
        (cur_ == kPort ? out_.client_port : out_.server_port) = p;
        return set();
    }
    bool open(bool object) {
        if (depth_ == 0 && !object) return fail(ParseResult::NotObject);
        if (in_field()) return fail(ParseResult::WrongType);
        ++depth_;
        return true;
    }
    bool close() {
        --depth_;
        if (depth_ == 1) cur_ = kNone;
        return true;
    }

    AttributionRecord& out_;
    int depth_ = 0;
    Field cur_ = kNone;
};

}  // namespace

const char* to_string(ParseResult r) {
    switch (r) {
        case ParseResult::Ok:
            return "ok";
        case ParseResult::TooLong:
            return "too_long";
        case ParseResult::NotJson:
            return "not_json";
        case ParseResult::NotObject:
            return "not_object";
        case ParseResult::MissingField:
            return "missing_field";
        case ParseResult::DuplicateField:
            return "duplicate_field";
        case ParseResult::WrongType:
            return "wrong_type";
        case ParseResult::BadTimestamp:
            return "bad_timestamp";
        case ParseResult::BadIp:
            return "bad_ip";
        case ParseResult::BadPort:
            return "bad_port";
        case ParseResult::NoAccount:
            return "no_account";
        case ParseResult::FieldTooLong:
            return "field_too_long";
        case ParseResult::BadCharacters:
            return "bad_characters";
    }
    return "unknown";
}

uint64_t ParseStats::rejected_total() const {
    uint64_t n = 0;
    for (uint64_t v : rejected)
        n += v;
    return n;
}

ParseResult parse_record(std::string_view line, AttributionRecord& out, size_t max_line,
                         bool* user_agent_truncated, bool* request_id_truncated) {
    if (line.size() > max_line) return ParseResult::TooLong;
    out.server_port = 0;
    out.user_agent.clear();
    out.request_id.clear();
    Handler h(out);
    const char* first = line.data();
    json::sax_parse(first, first + line.size(), &h, nlohmann::detail::input_format_t::json,
                    /*strict=*/true, /*ignore_comments=*/false);
    if (h.result != ParseResult::Ok) return h.result;
    if ((h.seen & kRequired) != kRequired) {
        // A null account is how Envoy writes a missing header: the request had no account.
        if (!(h.seen & (1 << kAccount)) && h.account_null) return ParseResult::NoAccount;
        return ParseResult::MissingField;
    }
    if (user_agent_truncated) *user_agent_truncated = h.ua_cut;
    if (request_id_truncated) *request_id_truncated = h.rid_cut;
    return ParseResult::Ok;
}

ParseResult RecordParser::parse(std::string_view line, AttributionRecord& out) {
    bool ua_cut = false, rid_cut = false;
    const ParseResult r = parse_record(line, out, max_line_, &ua_cut, &rid_cut);
    if (r == ParseResult::Ok) {
        ++stats_.accepted;
        stats_.user_agent_truncated += ua_cut;
        stats_.request_id_truncated += rid_cut;
    } else {
        ++stats_.rejected[static_cast<size_t>(r)];
    }
    return r;
}

}  // namespace sybilwatch::identity
