#include "config/load_config.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <initializer_list>
#include <set>
#include <sstream>

#include "config/duration.hpp"
#include "config/listen_address.hpp"
#include "shm/ring_layout.hpp"
#include "shm/segment.hpp"

namespace sybilwatch::config {

ConfigError::ConfigError(std::string file, int line, int column, std::string key,
                         std::string problem)
    : std::runtime_error(
          file +
          (line > 0 ? ":" + std::to_string(line) + ":" + std::to_string(column) : std::string()) +
          ": " + (key.empty() ? "" : key + ": ") + problem),
      file_(std::move(file)),
      line_(line),
      column_(column),
      key_(std::move(key)),
      problem_(std::move(problem)) {}

namespace {

size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<size_t> row(b.size() + 1);
    for (size_t j = 0; j <= b.size(); ++j)
        row[j] = j;
    for (size_t i = 1; i <= a.size(); ++i) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= b.size(); ++j) {
            const size_t up = row[j];
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] != b[j - 1])});
            diag = up;
        }
    }
    return row[b.size()];
}

// The closest candidate within 2 edits, for "did you mean" hints.
std::string_view closest(std::string_view word, const std::vector<std::string_view>& candidates) {
    std::string_view best;
    size_t best_d = 3;
    for (std::string_view c : candidates) {
        const size_t d = edit_distance(word, c);
        if (d < best_d) {
            best_d = d;
            best = c;
        }
    }
    return best;
}

class Loader;

// One leaf value with where it came from, and typed readers that fail with its position.
struct Value {
    const Loader& loader;
    const YAML::Node& node;
    const std::string& key;
    YAML::Mark mark;

    [[noreturn]] void fail(const std::string& problem) const;
    std::string scalar(const char* what) const;
    std::string str() const { return scalar("a string"); }
    bool boolean() const;
    uint64_t integer(uint64_t min, uint64_t max) const;
    uint32_t power_of_two(uint32_t min, uint32_t max) const;
    int64_t duration(bool allow_zero) const;
    std::string path(size_t max_len) const;  // "" or absolute
    double number(double min, double max) const;
    // A list of non-empty strings ("[a, b]"); `what` names one item in messages.
    std::vector<std::string> strings(const char* what) const;
    template <typename E>
    E choice(std::initializer_list<std::pair<std::string_view, E>> options) const;
};

class Loader {
  public:
    explicit Loader(std::string name) : name_(std::move(name)) {}
    DaemonConfig load(std::string_view text);

    [[noreturn]] void fail(const YAML::Mark& m, const std::string& key,
                           const std::string& problem) const {
        // yaml-cpp counts from 0; editors from 1.
        throw ConfigError(name_, m.is_null() ? 1 : m.line + 1, m.is_null() ? 1 : m.column + 1, key,
                          problem);
    }

  private:
    void walk(const YAML::Node& map, const std::string& prefix, const YAML::Mark& where);
    void set(const std::string& key, const YAML::Node& value, const YAML::Mark& key_mark);
    void load_sinks(const YAML::Node& list, const YAML::Mark& where);
    SinkSection load_sink(const YAML::Node& item, const std::string& prefix);
    void check_sink_paths();

    std::string name_;
    DaemonConfig cfg_;
    YAML::Mark listen_mark_ = YAML::Mark::null_mark();
    std::vector<YAML::Mark> sink_path_marks_;  // sinks[i].path, for checks after the whole file
};

using Setter = void (*)(const Value&, DaemonConfig&);
struct Leaf {
    std::string_view key;
    Setter set;
};

constexpr uint32_t kMaxFlows = 1u << 24;
constexpr size_t kMaxSocketPath = 107;  // sun_path less its terminating NUL

// Every key, in the order of docs/config.md and systemd/sybilwatch.yaml.
const std::vector<Leaf>& leaves() {
    static const std::vector<Leaf> kLeaves = {
        {"capture.interface",
         [](const Value& v, DaemonConfig& c) {
             std::string s = v.str();
             if (s.size() > 15) v.fail("interface name longer than 15 characters");
             if (s == "." || s == ".." || s.find_first_of("/: \t\n") != std::string::npos)
                 v.fail("not an interface name: '" + s + "'");
             c.capture.interface = std::move(s);
         }},
        {"capture.mode",
         [](const Value& v, DaemonConfig& c) {
             c.capture.mode = v.choice<CaptureMode>({{"auto", CaptureMode::Auto},
                                                     {"ebpf", CaptureMode::Ebpf},
                                                     {"pcap", CaptureMode::Pcap}});
         }},
        {"capture.ports",
         [](const Value& v, DaemonConfig& c) {
             if (!v.node.IsSequence()) v.fail("expected a list of ports, e.g. [443, 8443]");
             if (v.node.size() == 0) v.fail("at least one port is needed");
             std::vector<uint16_t> ports;
             for (size_t i = 0; i < v.node.size(); ++i) {
                 const YAML::Node item = v.node[i];
                 const std::string key = v.key + "[" + std::to_string(i) + "]";
                 const Value iv{v.loader, item, key, item.Mark()};
                 const auto p = static_cast<uint16_t>(iv.integer(1, 65535));
                 if (std::find(ports.begin(), ports.end(), p) != ports.end())
                     iv.fail("port " + std::to_string(p) + " listed twice");
                 ports.push_back(p);
             }
             c.capture.ports = std::move(ports);
         }},
        {"capture.ring_bytes",
         [](const Value& v, DaemonConfig& c) {
             c.capture.ring_bytes = v.power_of_two(4096, 1u << 30);
         }},
        {"capture.max_flows",
         [](const Value& v, DaemonConfig& c) {
             c.capture.max_flows = static_cast<uint32_t>(v.integer(1, kMaxFlows));
         }},
        {"fingerprints.foxio",
         [](const Value& v, DaemonConfig& c) { c.fingerprints.foxio = v.boolean(); }},
        {"fingerprints.raw",
         [](const Value& v, DaemonConfig& c) { c.fingerprints.raw = v.boolean(); }},
        {"fingerprints.max_flows",
         [](const Value& v, DaemonConfig& c) {
             c.fingerprints.max_flows = static_cast<uint32_t>(v.integer(1, kMaxFlows));
         }},
        {"fingerprints.reassembly_buffers",
         [](const Value& v, DaemonConfig& c) {
             // 16 KiB each: 1 << 18 is 4 GiB, more than any host should give hellos.
             c.fingerprints.reassembly_buffers = static_cast<uint32_t>(v.integer(1, 1u << 18));
         }},
        {"fingerprints.tcp_idle",
         [](const Value& v, DaemonConfig& c) { c.fingerprints.tcp_idle_ns = v.duration(false); }},
        {"fingerprints.udp_idle",
         [](const Value& v, DaemonConfig& c) { c.fingerprints.udp_idle_ns = v.duration(false); }},
        {"identity.socket.path",
         [](const Value& v, DaemonConfig& c) { c.identity.socket_path = v.path(kMaxSocketPath); }},
        {"identity.socket.mode",
         [](const Value& v, DaemonConfig& c) {
             // Octal, as chmod takes it; YAML would read a plain 0660 as decimal 660.
             const std::string s = v.scalar("an octal mode such as \"0660\"");
             unsigned m = 0;
             bool ok = !s.empty() && s.size() <= 4;
             for (char ch : s) {
                 if (ch < '0' || ch > '7')
                     ok = false;
                 else
                     m = m * 8 + static_cast<unsigned>(ch - '0');
             }
             if (!ok || m > 0777)
                 v.fail("expected an octal mode such as \"0660\", got '" + s + "'");
             c.identity.socket_mode = static_cast<mode_t>(m);
         }},
        {"identity.socket.group",
         [](const Value& v, DaemonConfig& c) {
             std::string s = v.str();
             if (s.find_first_of(": \t\n/") != std::string::npos)
                 v.fail("not a group name: '" + s + "'");
             c.identity.socket_group = std::move(s);
         }},
        {"identity.datagram.path",
         [](const Value& v, DaemonConfig& c) {
             c.identity.datagram_path = v.path(kMaxSocketPath);
         }},
        {"identity.tail.path",
         [](const Value& v, DaemonConfig& c) { c.identity.tail_path = v.path(4095); }},
        {"identity.tail.from_start",
         [](const Value& v, DaemonConfig& c) { c.identity.tail_from_start = v.boolean(); }},
        {"identity.join.wait",
         [](const Value& v, DaemonConfig& c) { c.identity.join_wait_ns = v.duration(true); }},
        {"identity.join.record_ttl",
         [](const Value& v, DaemonConfig& c) { c.identity.record_ttl_ns = v.duration(false); }},
        {"identity.join.max_pending_records",
         [](const Value& v, DaemonConfig& c) {
             c.identity.max_pending_records = static_cast<uint32_t>(v.integer(1, kMaxFlows));
         }},
        {"identity.join.max_waiting",
         [](const Value& v, DaemonConfig& c) {
             c.identity.max_waiting = static_cast<uint32_t>(v.integer(1, kMaxFlows));
         }},
        {"identity.join.max_connections",
         [](const Value& v, DaemonConfig& c) {
             c.identity.max_connections = static_cast<uint32_t>(v.integer(1, kMaxFlows));
         }},
        {"rules.paths",
         [](const Value& v, DaemonConfig& c) {
             if (!v.node.IsSequence())
                 v.fail(
                     "expected a list of rule files or directories, e.g. [/etc/sybilwatch/rules]");
             std::vector<std::string> paths;
             for (size_t i = 0; i < v.node.size(); ++i) {
                 const YAML::Node item = v.node[i];
                 const Value iv{v.loader, item, v.key + "[" + std::to_string(i) + "]", item.Mark()};
                 std::string path = iv.path(4095);
                 if (path.empty()) iv.fail("an empty path");
                 paths.push_back(std::move(path));
             }
             c.rules.paths = std::move(paths);
         }},
        {"rules.max_accounts",
         [](const Value& v, DaemonConfig& c) {
             c.rules.max_accounts = static_cast<uint32_t>(v.integer(1, 1u << 26));
         }},
        {"rules.finding_accounts",
         [](const Value& v, DaemonConfig& c) {
             c.rules.finding_accounts = static_cast<uint32_t>(v.integer(1, 1'000'000));
         }},
        {"rules.catch_up",
         [](const Value& v, DaemonConfig& c) { c.rules.catch_up_ns = v.duration(true); }},
        {"ring.name",
         [](const Value& v, DaemonConfig& c) {
             std::string s = v.str();
             try {
                 (void)shm::ring_shm_name(s);
             } catch (const std::exception&) {
                 v.fail("not a ring name: '" + s +
                        "' (1 to 200 of A-Z a-z 0-9 . _ -, not starting with '.')");
             }
             c.ring.name = std::move(s);
         }},
        {"ring.capacity",
         [](const Value& v, DaemonConfig& c) {
             c.ring.capacity = v.power_of_two(2, shm::kMaxCapacity);
         }},
        {"output.findings",
         [](const Value& v, DaemonConfig& c) { c.output.findings = v.path(4095); }},
        {"output.stdout",
         [](const Value& v, DaemonConfig& c) { c.output.to_stdout = v.boolean(); }},
        {"metrics.listen",
         [](const Value& v, DaemonConfig& c) {
             std::string s = v.str();
             std::string why;
             if (!s.empty() && !parse_listen_address(s, why)) v.fail(why);
             c.metrics.listen = std::move(s);
         }},
        {"metrics.allow_non_loopback",
         [](const Value& v, DaemonConfig& c) { c.metrics.allow_non_loopback = v.boolean(); }},
        {"control.socket",
         [](const Value& v, DaemonConfig& c) { c.control.socket = v.path(kMaxSocketPath); }},
        {"state.dir",
         [](const Value& v, DaemonConfig& c) {
             std::string s = v.path(4095);
             if (s.empty()) v.fail("a state directory is required");
             c.state.dir = std::move(s);
         }},
        {"state.save_interval",
         [](const Value& v, DaemonConfig& c) { c.state.save_interval_ns = v.duration(false); }},
        {"log.level",
         [](const Value& v, DaemonConfig& c) {
             c.log.level = v.choice<LogLevel>({{"trace", LogLevel::Trace},
                                               {"debug", LogLevel::Debug},
                                               {"info", LogLevel::Info},
                                               {"warn", LogLevel::Warn},
                                               {"error", LogLevel::Error},
                                               {"critical", LogLevel::Critical},
                                               {"off", LogLevel::Off}});
         }},
    };
    return kLeaves;
}

void Value::fail(const std::string& problem) const {
    loader.fail(mark, key, problem);
}

std::string Value::scalar(const char* what) const {
    if (node.IsNull()) fail(std::string("no value: expected ") + what + " (\"\" for none)");
    if (!node.IsScalar()) fail(std::string("expected ") + what);
    return node.Scalar();
}

bool Value::boolean() const {
    // YAML 1.2's spellings only: "yes"/"on" are a YAML 1.1 trap.
    const std::string s = scalar("true or false");
    if (s == "true") return true;
    if (s == "false") return false;
    fail("expected true or false, got '" + s + "'");
}

uint64_t Value::integer(uint64_t min, uint64_t max) const {
    const std::string s = scalar("an integer");
    uint64_t n = 0;
    bool ok = !s.empty() && s.size() <= 19;
    for (char c : s) {
        if (c < '0' || c > '9')
            ok = false;
        else
            n = n * 10 + static_cast<uint64_t>(c - '0');
    }
    if (!ok) fail("expected an integer, got '" + s + "'");
    if (n < min || n > max)
        fail(s + " is out of range " + std::to_string(min) + ".." + std::to_string(max));
    return n;
}

uint32_t Value::power_of_two(uint32_t min, uint32_t max) const {
    const auto n = static_cast<uint32_t>(integer(min, max));
    if ((n & (n - 1)) != 0) fail(std::to_string(n) + " is not a power of two");
    return n;
}

int64_t Value::duration(bool allow_zero) const {
    const std::string s = scalar("a duration such as \"5s\"");
    const auto d = parse_duration(s);
    if (!d)
        fail(
            "expected a duration: an integer and a unit (ns, us, ms, s, m, h), e.g. \"5s\"; got '" +
            s + "'");
    if (*d == 0 && !allow_zero) fail("the duration must be positive");
    return *d;
}

std::string Value::path(size_t max_len) const {
    std::string s = str();
    if (!s.empty() && s.front() != '/') fail("expected an absolute path, got '" + s + "'");
    if (s.size() > max_len) fail("path longer than " + std::to_string(max_len) + " characters");
    if (s.find('\0') != std::string::npos) fail("path contains a NUL byte");
    return s;
}

template <typename E>
E Value::choice(std::initializer_list<std::pair<std::string_view, E>> options) const {
    const std::string s = scalar("a name");
    std::vector<std::string_view> names;
    for (const auto& [name, e] : options) {
        if (s == name) return e;
        names.push_back(name);
    }
    std::string problem = "bad value '" + s + "': expected one of";
    for (size_t i = 0; i < names.size(); ++i)
        problem += (i ? ", " : " ") + std::string(names[i]);
    if (const std::string_view hint = closest(s, names); !hint.empty())
        problem += " (did you mean '" + std::string(hint) + "'?)";
    fail(problem);
}

double Value::number(double min, double max) const {
    const std::string s = scalar("a number");
    // Plain decimal only: no hex, exponents, inf or nan (strtod would take them).
    bool ok = !s.empty() && s.size() <= 32 && s.front() != '.' && s.back() != '.';
    size_t dots = 0;
    for (char c : s) {
        if (c == '.')
            ++dots;
        else if (c < '0' || c > '9')
            ok = false;
    }
    if (!ok || dots > 1) fail("expected a number, got '" + s + "'");
    const double d = std::strtod(s.c_str(), nullptr);
    if (d < min || d > max) {
        char range[64];
        std::snprintf(range, sizeof range, "%g..%g", min, max);
        fail(s + " is out of range " + range);
    }
    return d;
}

std::vector<std::string> Value::strings(const char* what) const {
    if (!node.IsSequence()) fail(std::string("expected a list of ") + what + ", e.g. [a, b]");
    std::vector<std::string> out;
    for (size_t i = 0; i < node.size(); ++i) {
        const YAML::Node item = node[i];
        const std::string k = key + "[" + std::to_string(i) + "]";
        const Value iv{loader, item, k, item.Mark().is_null() ? mark : item.Mark()};
        std::string v = iv.scalar(what);
        if (v.empty()) iv.fail(std::string("an empty ") + what);
        if (std::find(out.begin(), out.end(), v) != out.end()) iv.fail("'" + v + "' listed twice");
        out.push_back(std::move(v));
    }
    return out;
}

// ---- sinks ------------------------------------------------------------------------------

constexpr uint8_t type_bit(SinkType t) {
    return static_cast<uint8_t>(1u << static_cast<unsigned>(t));
}
constexpr uint8_t kAnySink = 0x1f;
constexpr uint8_t kFileSink = type_bit(SinkType::File);
constexpr uint8_t kSyslogSink = type_bit(SinkType::Syslog);
constexpr uint8_t kHecSink = type_bit(SinkType::Hec);
constexpr uint8_t kWebhookSink = type_bit(SinkType::Webhook);
constexpr uint8_t kTlsSinks = kSyslogSink | kHecSink | kWebhookSink;

bool printable_ascii(std::string_view s) {
    return std::all_of(s.begin(), s.end(), [](char c) { return c >= 33 && c <= 126; });
}

bool is_loopback_host(std::string_view h) {
    return h == "localhost" || h == "::1" || h.starts_with("127.");
}

// HOST:PORT or [IPV6]:PORT; the host a name or a literal (SIEMs are usually remote).
void check_address(const Value& v, const std::string& s) {
    std::string_view host;
    std::string_view port;
    if (s.starts_with("[")) {
        const size_t close = s.find(']');
        if (close == std::string::npos || close + 1 >= s.size() || s[close + 1] != ':')
            v.fail("expected HOST:PORT or [IPV6]:PORT, got '" + s + "'");
        host = std::string_view(s).substr(1, close - 1);
        port = std::string_view(s).substr(close + 2);
        if (host.empty() || host.find_first_not_of("0123456789abcdefABCDEF:.") != std::string::npos)
            v.fail("not an IPv6 address: '" + std::string(host) + "'");
    } else {
        const size_t colon = s.rfind(':');
        if (colon == std::string::npos || s.find(':') != colon)
            v.fail("expected HOST:PORT or [IPV6]:PORT, got '" + s + "'");
        host = std::string_view(s).substr(0, colon);
        port = std::string_view(s).substr(colon + 1);
        if (host.empty() || host.size() > 253 ||
            host.find_first_not_of(
                "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-") !=
                std::string::npos)
            v.fail("not a host name or address: '" + std::string(host) + "'");
    }
    unsigned p = 0;
    bool ok = !port.empty() && port.size() <= 5;
    for (char c : port) {
        if (c < '0' || c > '9')
            ok = false;
        else
            p = p * 10 + static_cast<unsigned>(c - '0');
    }
    if (!ok || p == 0 || p > 65535) v.fail("port must be 1..65535 in '" + s + "'");
}

// https://HOST[:PORT][/path]; http:// only to a loopback receiver (the token or key would
// cross the network in clear otherwise). Messages show the origin only: webhook URL paths
// and queries often carry a secret of their own.
std::string check_url(const Value& v) {
    std::string s = v.str();
    const bool https = s.starts_with("https://");
    const bool http = s.starts_with("http://");
    if (!https && !http) v.fail("expected an https:// URL");
    const size_t start = https ? 8 : 7;
    const size_t end = std::min(s.find_first_of("/?#", start), s.size());
    std::string authority = s.substr(start, end - start);
    if (authority.find('@') != std::string::npos)
        v.fail("credentials in the URL: use token_file/key_file or token_env/key_env instead");
    if (authority.empty() || !printable_ascii(s)) v.fail("not a URL with a host");
    std::string host = authority;
    if (host.starts_with("[")) {
        host = host.substr(1, host.find(']') == std::string::npos ? 0 : host.find(']') - 1);
    } else if (const size_t c = host.rfind(':'); c != std::string::npos) {
        host = host.substr(0, c);
    }
    if (host.empty()) v.fail("not a URL with a host: " + s.substr(0, end));
    if (http && !is_loopback_host(host))
        v.fail("http:// only to a loopback receiver (" + s.substr(0, end) +
               "): findings and the token would cross the network in clear; use https://");
    return s;
}

std::string env_name(const Value& v) {
    const std::string s = v.str();
    bool ok = !s.empty() && s.size() <= 128 && !(s[0] >= '0' && s[0] <= '9');
    for (char c : s)
        if (!(c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
              (c >= '0' && c <= '9')))
            ok = false;
    // The value is not echoed: someone may have pasted the secret itself here.
    if (!ok)
        v.fail(
            "not an environment variable name (letters, digits and '_'; the variable holds "
            "the secret, the config only names it)");
    return s;
}

std::string secret_file(const Value& v) {
    std::string s = v.path(4095);
    if (s.empty()) v.fail("an empty path");
    return s;
}

bool valid_facility(std::string_view f) {
    static constexpr std::string_view kNames[] = {
        "kern",   "user",   "mail",     "daemon", "auth",   "syslog", "lpr",    "news",
        "uucp",   "cron",   "authpriv", "ftp",    "ntp",    "audit",  "alert",  "clock",
        "local0", "local1", "local2",   "local3", "local4", "local5", "local6", "local7"};
    for (std::string_view n : kNames)
        if (f == n) return true;
    if (!f.empty() && f.size() <= 2 && std::all_of(f.begin(), f.end(), ::isdigit))
        return std::stoi(std::string(f)) <= 23;
    return false;
}

using SinkSetter = void (*)(const Value&, SinkSection&);
struct SinkLeaf {
    std::string_view key;
    uint8_t types;  // the sink types it applies to (type_bit)
    SinkSetter set;
};

// Every key of a sink, in the order of docs/config.md.
const std::vector<SinkLeaf>& sink_leaves() {
    static const std::vector<SinkLeaf> kLeaves = {
        {"name", kAnySink,
         [](const Value& v, SinkSection& s) {
             std::string n = v.str();
             if (n.empty() || n.size() > 64 ||
                 n.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_-") != std::string::npos)
                 v.fail("not a sink name: '" + n + "' (1 to 64 of a-z 0-9 _ -)");
             s.name = std::move(n);
         }},
        {"type", kAnySink,
         [](const Value& v, SinkSection& s) {
             s.type = v.choice<SinkType>({{"file", SinkType::File},
                                          {"stdout", SinkType::Stdout},
                                          {"syslog", SinkType::Syslog},
                                          {"hec", SinkType::Hec},
                                          {"webhook", SinkType::Webhook}});
         }},
        {"format", kAnySink,
         [](const Value& v, SinkSection& s) {
             s.format = v.choice<SinkFormat>({{"json", SinkFormat::Json},
                                              {"ocsf", SinkFormat::Ocsf},
                                              {"ecs", SinkFormat::Ecs},
                                              {"cef", SinkFormat::Cef}});
         }},
        {"min_severity", kAnySink,
         [](const Value& v, SinkSection& s) {
             s.min_severity = v.choice<SinkSeverity>({{"info", SinkSeverity::Info},
                                                      {"low", SinkSeverity::Low},
                                                      {"medium", SinkSeverity::Medium},
                                                      {"high", SinkSeverity::High},
                                                      {"critical", SinkSeverity::Critical}});
         }},
        {"include_tags", kAnySink,
         [](const Value& v, SinkSection& s) { s.include_tags = v.strings("tag"); }},
        {"exclude_tags", kAnySink,
         [](const Value& v, SinkSection& s) { s.exclude_tags = v.strings("tag"); }},
        {"rules", kAnySink, [](const Value& v, SinkSection& s) { s.rules = v.strings("rule id"); }},
        {"closes", kAnySink, [](const Value& v, SinkSection& s) { s.closes = v.boolean(); }},
        {"rate", kAnySink, [](const Value& v, SinkSection& s) { s.rate = v.number(0, 1e6); }},
        {"burst", kAnySink,
         [](const Value& v, SinkSection& s) {
             s.burst = static_cast<uint32_t>(v.integer(0, 1'000'000));
         }},
        {"spool_max_bytes", kAnySink,
         [](const Value& v, SinkSection& s) {
             s.spool_max_bytes = v.integer(1u << 20, 1ull << 40);
         }},
        {"path", kFileSink,
         [](const Value& v, SinkSection& s) {
             s.path = v.path(4095);
             if (s.path.empty()) v.fail("a file sink needs a path");
         }},
        {"rotate_bytes", kFileSink,
         [](const Value& v, SinkSection& s) {
             s.rotate_bytes = v.integer(0, 1ull << 40);
             if (s.rotate_bytes != 0 && s.rotate_bytes < 4096)
                 v.fail(std::to_string(s.rotate_bytes) + " is below 4096 (0 = never rotate)");
         }},
        {"keep", kFileSink,
         [](const Value& v, SinkSection& s) {
             s.keep = static_cast<uint32_t>(v.integer(0, 1000));
         }},
        {"address", kSyslogSink,
         [](const Value& v, SinkSection& s) {
             std::string a = v.str();
             check_address(v, a);
             s.address = std::move(a);
         }},
        {"protocol", kSyslogSink,
         [](const Value& v, SinkSection& s) {
             s.protocol = v.choice<SyslogProtocol>({{"udp", SyslogProtocol::Udp},
                                                    {"tcp", SyslogProtocol::Tcp},
                                                    {"tls", SyslogProtocol::Tls}});
         }},
        {"facility", kSyslogSink,
         [](const Value& v, SinkSection& s) {
             std::string f = v.str();
             if (!valid_facility(f))
                 v.fail("not a syslog facility: '" + f +
                        "' (kern, user, mail, daemon, auth, ..., local0 to local7, or 0 to 23)");
             s.facility = std::move(f);
         }},
        {"app_name", kSyslogSink,
         [](const Value& v, SinkSection& s) {
             std::string a = v.str();
             if (a.empty() || a.size() > 48 || !printable_ascii(a))
                 v.fail("APP-NAME must be 1 to 48 printable ASCII characters without spaces");
             s.app_name = std::move(a);
         }},
        {"server_name", kSyslogSink,
         [](const Value& v, SinkSection& s) {
             std::string n = v.str();
             if (n.size() > 253 || !printable_ascii(n) || n.find('/') != std::string::npos)
                 v.fail("not a host name: '" + n + "'");
             s.server_name = std::move(n);
         }},
        {"client_cert", kSyslogSink,
         [](const Value& v, SinkSection& s) { s.client_cert = v.path(4095); }},
        {"client_key", kSyslogSink,
         [](const Value& v, SinkSection& s) { s.client_key = v.path(4095); }},
        {"url", kHecSink | kWebhookSink,
         [](const Value& v, SinkSection& s) { s.url = check_url(v); }},
        {"token_file", kHecSink,
         [](const Value& v, SinkSection& s) { s.token_file = secret_file(v); }},
        {"token_env", kHecSink, [](const Value& v, SinkSection& s) { s.token_env = env_name(v); }},
        {"index", kHecSink,
         [](const Value& v, SinkSection& s) {
             std::string i = v.str();
             if (i.size() > 80 || !printable_ascii(i)) v.fail("not an index name: '" + i + "'");
             s.index = std::move(i);
         }},
        {"sourcetype", kHecSink,
         [](const Value& v, SinkSection& s) {
             std::string t = v.str();
             if (t.empty() || t.size() > 256 || !printable_ascii(t))
                 v.fail("expected 1 to 256 printable ASCII characters without spaces");
             s.sourcetype = std::move(t);
         }},
        {"ack", kHecSink, [](const Value& v, SinkSection& s) { s.ack = v.boolean(); }},
        {"key_file", kWebhookSink,
         [](const Value& v, SinkSection& s) { s.key_file = secret_file(v); }},
        {"key_env", kWebhookSink, [](const Value& v, SinkSection& s) { s.key_env = env_name(v); }},
        {"headers", kWebhookSink,
         [](const Value& v, SinkSection& s) {
             if (!v.node.IsMap()) v.fail("expected a mapping of header names to values");
             std::vector<std::pair<std::string, std::string>> headers;
             for (auto it = v.node.begin(); it != v.node.end(); ++it) {
                 const YAML::Node hk = it->first;
                 const YAML::Node hv = it->second;
                 const std::string name = hk.IsScalar() ? hk.Scalar() : std::string();
                 const std::string key = v.key + "." + name;
                 const Value kv{v.loader, hk, key, hk.Mark()};
                 if (name.empty() ||
                     name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                            "0123456789!#$%&'*+-.^_`|~") != std::string::npos)
                     kv.fail("not an HTTP header name");
                 std::string lower = name;
                 for (char& c : lower)
                     c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
                 if (lower.starts_with("x-sybilwatch-") || lower == "content-type" ||
                     lower == "content-length" || lower == "host" || lower == "transfer-encoding")
                     kv.fail("'" + name + "' is set by the daemon");
                 for (const auto& h : headers) {
                     std::string l = h.first;
                     for (char& c : l)
                         c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
                     if (l == lower) kv.fail("duplicate header");
                 }
                 // Header values may be credentials: checked, never echoed.
                 const Value vv{v.loader, hv, key, hv.Mark().is_null() ? hk.Mark() : hv.Mark()};
                 std::string value = vv.scalar("a header value");
                 for (char c : value)
                     if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
                         vv.fail("the value contains a control character");
                 headers.emplace_back(name, std::move(value));
             }
             s.headers = std::move(headers);
         }},
        {"batch", kWebhookSink, [](const Value& v, SinkSection& s) { s.batch = v.boolean(); }},
        {"ca_file", kTlsSinks, [](const Value& v, SinkSection& s) { s.ca_file = v.path(4095); }},
        {"verify", kTlsSinks, [](const Value& v, SinkSection& s) { s.verify = v.boolean(); }},
    };
    return kLeaves;
}

// Names the daemon gives its built-in outputs (output.findings, output.stdout): their spools.
constexpr std::string_view kReservedSinkNames[] = {"findings_file", "stdout"};

SinkSection Loader::load_sink(const YAML::Node& item, const std::string& prefix) {
    std::vector<std::string_view> names;
    for (const SinkLeaf& l : sink_leaves())
        names.push_back(l.key);
    SinkSection s;
    std::vector<std::pair<const SinkLeaf*, YAML::Mark>> given;
    std::set<std::string> seen;
    for (auto it = item.begin(); it != item.end(); ++it) {
        const YAML::Node k = it->first;
        const YAML::Node v = it->second;
        if (!k.IsScalar()) fail(k.Mark(), prefix, "keys must be plain names");
        const std::string& name = k.Scalar();
        const std::string full = prefix + "." + name;
        if (!seen.insert(name).second) fail(k.Mark(), full, "duplicate key");
        const auto leaf = std::find_if(sink_leaves().begin(), sink_leaves().end(),
                                       [&](const SinkLeaf& l) { return l.key == name; });
        if (leaf == sink_leaves().end()) {
            std::string problem = "unknown key '" + name + "'";
            if (const std::string_view hint = closest(name, names); !hint.empty())
                problem += " (did you mean '" + std::string(hint) + "'?)";
            fail(k.Mark(), full, problem);
        }
        const YAML::Mark m = v.IsNull() || v.Mark().is_null() ? k.Mark() : v.Mark();
        leaf->set(Value{*this, v, full, m}, s);
        given.emplace_back(&*leaf, k.Mark());
    }
    auto mark_of = [&](std::string_view key) {
        for (const auto& [l, m] : given)
            if (l->key == key) return m;
        return item.Mark();
    };
    auto given_key = [&](std::string_view key) {
        return std::any_of(given.begin(), given.end(),
                           [&](const auto& g) { return g.first->key == key; });
    };
    if (!given_key("name")) fail(item.Mark(), prefix, "missing key 'name'");
    if (!given_key("type"))
        fail(item.Mark(), prefix,
             "missing key 'type' (file, stdout, syslog, hec or webhook) in sink '" + s.name + "'");
    const std::string type = to_string(s.type);
    for (const auto& [l, m] : given)
        if (!(l->types & type_bit(s.type)))
            fail(m, prefix + "." + std::string(l->key),
                 "not a key of a " + type + " sink ('" + s.name + "')");
    for (std::string_view r : kReservedSinkNames)
        if (s.name == r)
            fail(mark_of("name"), prefix + ".name",
                 "'" + s.name +
                     "' is the name of a built-in output (output.findings, "
                     "output.stdout); choose another");
    auto need = [&](bool ok, std::string_view what) {
        if (!ok) fail(item.Mark(), prefix, "a " + type + " sink needs '" + std::string(what) + "'");
    };
    switch (s.type) {
        case SinkType::File:
            need(!s.path.empty(), "path");
            break;
        case SinkType::Stdout:
            break;
        case SinkType::Syslog:
            need(!s.address.empty(), "address");
            if (s.protocol != SyslogProtocol::Tls)
                for (std::string_view k :
                     {"ca_file", "server_name", "client_cert", "client_key", "verify"})
                    if (given_key(k))
                        fail(mark_of(k), prefix + "." + std::string(k), "only with protocol: tls");
            if (s.client_cert.empty() != s.client_key.empty())
                fail(mark_of(s.client_cert.empty() ? "client_key" : "client_cert"),
                     prefix + (s.client_cert.empty() ? ".client_key" : ".client_cert"),
                     "client_cert and client_key go together");
            break;
        case SinkType::Hec:
            need(!s.url.empty(), "url");
            if (s.token_file.empty() == s.token_env.empty())
                fail(s.token_file.empty() ? item.Mark() : mark_of("token_env"), prefix,
                     "an hec sink needs exactly one of 'token_file' or 'token_env'");
            break;
        case SinkType::Webhook:
            need(!s.url.empty(), "url");
            if (!s.key_file.empty() && !s.key_env.empty())
                fail(mark_of("key_env"), prefix + ".key_env",
                     "give the key once: 'key_file' or 'key_env', not both");
            break;
    }
    return s;
}

void Loader::load_sinks(const YAML::Node& list, const YAML::Mark& where) {
    if (list.IsNull()) return;  // "sinks:" alone: none
    if (!list.IsSequence())
        fail(list.Mark().is_null() ? where : list.Mark(), "sinks",
             "expected a list of sinks (each a mapping with name, type, ...), or []");
    for (size_t i = 0; i < list.size(); ++i) {
        const YAML::Node item = list[i];
        const std::string prefix = "sinks[" + std::to_string(i) + "]";
        if (!item.IsMap())
            fail(item.Mark().is_null() ? where : item.Mark(), prefix,
                 "expected a mapping of sink keys (name, type, ...)");
        SinkSection s = load_sink(item, prefix);
        for (size_t j = 0; j < cfg_.sinks.size(); ++j)
            if (cfg_.sinks[j].name == s.name)
                fail(item["name"].Mark(), prefix + ".name",
                     "duplicate sink name '" + s.name + "' (also sinks[" + std::to_string(j) +
                         "]): each sink has its own spool, state.dir/spool/NAME");
        sink_path_marks_.push_back(s.type == SinkType::File ? item["path"].Mark() : item.Mark());
        cfg_.sinks.push_back(std::move(s));
    }
}

// Two writers on one file interleave and rotate it under each other.
void Loader::check_sink_paths() {
    for (size_t i = 0; i < cfg_.sinks.size(); ++i) {
        const SinkSection& s = cfg_.sinks[i];
        if (s.type != SinkType::File) continue;
        const std::string key = "sinks[" + std::to_string(i) + "].path";
        if (s.path == cfg_.output.findings)
            fail(sink_path_marks_[i], key, "'" + s.path + "' is output.findings too");
        for (size_t j = 0; j < i; ++j)
            if (cfg_.sinks[j].type == SinkType::File && cfg_.sinks[j].path == s.path)
                fail(sink_path_marks_[i], key,
                     "'" + s.path + "' is the path of sinks[" + std::to_string(j) + "] too");
    }
}

void Loader::set(const std::string& key, const YAML::Node& value, const YAML::Mark& key_mark) {
    const YAML::Mark m = value.IsNull() || value.Mark().is_null() ? key_mark : value.Mark();
    if (key == "metrics.listen") listen_mark_ = m;
    for (const Leaf& l : leaves()) {
        if (l.key == key) {
            l.set(Value{*this, value, key, m}, cfg_);
            return;
        }
    }
}

void Loader::walk(const YAML::Node& map, const std::string& prefix, const YAML::Mark& where) {
    if (map.IsNull()) return;  // "capture:" with nothing under it: the defaults
    if (!map.IsMap()) {
        const YAML::Mark m = map.Mark().is_null() ? where : map.Mark();
        fail(m, prefix,
             prefix.empty() ? "the config must be a mapping of sections"
                            : "expected a mapping of keys");
    }
    // The names allowed here: the next component of every key under `prefix`.
    const std::string dotted = prefix.empty() ? "" : prefix + ".";
    std::vector<std::string_view> names;
    for (const Leaf& l : leaves()) {
        if (!l.key.starts_with(dotted)) continue;
        std::string_view rest = l.key.substr(dotted.size());
        rest = rest.substr(0, rest.find('.'));
        if (std::find(names.begin(), names.end(), rest) == names.end()) names.push_back(rest);
    }
    if (prefix.empty())  // the list of sinks, after output as documented
        names.insert(std::find(names.begin(), names.end(), "output") + 1, "sinks");
    std::set<std::string> seen;
    for (auto it = map.begin(); it != map.end(); ++it) {
        const YAML::Node k = it->first;
        const YAML::Node v = it->second;
        if (!k.IsScalar()) fail(k.Mark(), prefix, "keys must be plain names");
        const std::string& name = k.Scalar();
        const std::string full = dotted + name;
        if (!seen.insert(name).second) fail(k.Mark(), full, "duplicate key");
        if (std::find(names.begin(), names.end(), name) == names.end()) {
            std::string problem = "unknown key '" + name + "'";
            if (const std::string_view hint = closest(name, names); !hint.empty())
                problem += " (did you mean '" + std::string(hint) + "'?)";
            fail(k.Mark(), full, problem);
        }
        const bool leaf = std::any_of(leaves().begin(), leaves().end(),
                                      [&](const Leaf& l) { return l.key == full; });
        if (full == "sinks")
            load_sinks(v, k.Mark());
        else if (leaf)
            set(full, v, k.Mark());
        else
            walk(v, full, k.Mark());
    }
}

DaemonConfig Loader::load(std::string_view text) {
    // YAML::Load, not LoadAll: yaml-cpp 0.7's LoadAll loops forever, allocating, on input such
    // as a line starting with ',' (jbeder/yaml-cpp#1319, fixed after 0.8). Load reads the
    // first document only.
    YAML::Node doc;
    try {
        doc = YAML::Load(std::string(text));
    } catch (const YAML::Exception& e) {
        fail(e.mark, "", "YAML syntax error: " + e.msg);
    }
    if (!doc.IsDefined() || doc.IsNull()) {
        // Only comments and document markers mean the defaults; anything else that read as
        // null ("~", or what yaml-cpp 0.7 fails to tokenize, e.g. a leading ',') is an error.
        size_t line = 0;
        for (size_t pos = 0; pos < text.size(); ++line) {
            const size_t end = std::min(text.find('\n', pos), text.size());
            const std::string_view l = text.substr(pos, end - pos);
            const size_t first = l.find_first_not_of(" \t\r");
            if (first != std::string_view::npos && l[first] != '#' && !l.starts_with("---") &&
                !l.starts_with("...")) {
                YAML::Mark m;
                m.line = static_cast<int>(line);
                m.column = static_cast<int>(first);
                fail(m, "", "the config must be a mapping of sections");
            }
            pos = end + 1;
        }
        return cfg_;
    }
    walk(doc, "", YAML::Mark::null_mark());
    check_sink_paths();
    // Checked once the whole section is read: allow_non_loopback may come after listen.
    if (!cfg_.metrics.listen.empty()) {
        std::string why;
        const auto a = parse_listen_address(cfg_.metrics.listen, why);
        if (a && !a->loopback && !cfg_.metrics.allow_non_loopback)
            fail(listen_mark_, "metrics.listen",
                 "'" + cfg_.metrics.listen +
                     "' is not a loopback address (metrics are unauthenticated; set "
                     "metrics.allow_non_loopback: true to expose them)");
    }
    return cfg_;
}

std::string quoted(std::string_view s) {
    std::string out = "\"";
    for (char c : s) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    return out + "\"";
}

std::string quoted_list(const std::vector<std::string>& v) {
    std::string out;
    for (const auto& s : v)
        out += (out.empty() ? "" : ", ") + quoted(s);
    return "[" + out + "]";
}

// Every key that applies to the sink's type, so the dump reads back to an equal SinkSection.
std::string dump_sinks(const std::vector<SinkSection>& sinks) {
    if (sinks.empty()) return "sinks: []\n";
    auto b = [](bool v) { return v ? "true" : "false"; };
    std::ostringstream o;
    o << "sinks:\n";
    for (const SinkSection& s : sinks) {
        const uint8_t bit = type_bit(s.type);
        char rate[32];
        std::snprintf(rate, sizeof rate, "%.17g", s.rate);
        std::string headers;
        for (const auto& [k, v] : s.headers)
            headers += (headers.empty() ? "" : ", ") + quoted(k) + ": " + quoted(v);
        const std::vector<std::pair<std::string_view, std::string>> values = {
            {"name", quoted(s.name)},
            {"type", to_string(s.type)},
            {"format", to_string(s.format)},
            {"min_severity", to_string(s.min_severity)},
            {"include_tags", quoted_list(s.include_tags)},
            {"exclude_tags", quoted_list(s.exclude_tags)},
            {"rules", quoted_list(s.rules)},
            {"closes", b(s.closes)},
            {"rate", rate},
            {"burst", std::to_string(s.burst)},
            {"spool_max_bytes", std::to_string(s.spool_max_bytes)},
            {"path", quoted(s.path)},
            {"rotate_bytes", std::to_string(s.rotate_bytes)},
            {"keep", std::to_string(s.keep)},
            {"address", quoted(s.address)},
            {"protocol", to_string(s.protocol)},
            {"facility", quoted(s.facility)},
            {"app_name", quoted(s.app_name)},
            {"server_name", quoted(s.server_name)},
            {"client_cert", quoted(s.client_cert)},
            {"client_key", quoted(s.client_key)},
            {"url", quoted(s.url)},
            {"token_file", quoted(s.token_file)},
            {"token_env", quoted(s.token_env)},
            {"index", quoted(s.index)},
            {"sourcetype", quoted(s.sourcetype)},
            {"ack", b(s.ack)},
            {"key_file", quoted(s.key_file)},
            {"key_env", quoted(s.key_env)},
            {"headers", "{" + headers + "}"},
            {"batch", b(s.batch)},
            {"ca_file", quoted(s.ca_file)},
            {"verify", b(s.verify)},
        };
        bool first = true;
        for (const SinkLeaf& l : sink_leaves()) {
            if (!(l.types & bit)) continue;
            // Unset alternatives stay out: "" is not a valid secret source or TLS-only key.
            const auto it = std::find_if(values.begin(), values.end(),
                                         [&](const auto& p) { return p.first == l.key; });
            const std::string& v = it->second;
            if (v == "\"\"" && l.key != "name") continue;
            if (s.type == SinkType::Syslog && s.protocol != SyslogProtocol::Tls &&
                (l.key == "ca_file" || l.key == "verify"))
                continue;
            o << (first ? "  - " : "    ") << l.key << ": " << v << "\n";
            first = false;
        }
    }
    return o.str();
}

}  // namespace

DaemonConfig load_config_text(std::string_view yaml, std::string_view name) {
    return Loader(std::string(name)).load(yaml);
}

DaemonConfig load_config(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw ConfigError(path, 0, 0, "", std::string("cannot open: ") + std::strerror(errno));
    std::ostringstream text;
    text << in.rdbuf();
    if (in.bad()) throw ConfigError(path, 0, 0, "", "read error");
    return load_config_text(text.str(), path);
}

std::vector<std::string> known_keys() {
    std::vector<std::string> keys;
    for (const Leaf& l : leaves()) {
        keys.emplace_back(l.key);
        if (l.key == "output.stdout") {
            keys.emplace_back("sinks");
            for (const SinkLeaf& s : sink_leaves())
                keys.push_back("sinks[]." + std::string(s.key));
        }
    }
    return keys;
}

std::string dump_config(const DaemonConfig& c) {
    auto b = [](bool v) { return v ? "true" : "false"; };
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(c.identity.socket_mode));
    std::string ports;
    for (size_t i = 0; i < c.capture.ports.size(); ++i)
        ports += (i ? ", " : "") + std::to_string(c.capture.ports[i]);
    std::ostringstream o;
    o << "capture:\n"
      << "  interface: " << quoted(c.capture.interface) << "\n"
      << "  mode: " << to_string(c.capture.mode) << "\n"
      << "  ports: [" << ports << "]\n"
      << "  ring_bytes: " << c.capture.ring_bytes << "\n"
      << "  max_flows: " << c.capture.max_flows << "\n"
      << "fingerprints:\n"
      << "  foxio: " << b(c.fingerprints.foxio) << "\n"
      << "  raw: " << b(c.fingerprints.raw) << "\n"
      << "  max_flows: " << c.fingerprints.max_flows << "\n"
      << "  reassembly_buffers: " << c.fingerprints.reassembly_buffers << "\n"
      << "  tcp_idle: " << format_duration(c.fingerprints.tcp_idle_ns) << "\n"
      << "  udp_idle: " << format_duration(c.fingerprints.udp_idle_ns) << "\n"
      << "identity:\n"
      << "  socket:\n"
      << "    path: " << quoted(c.identity.socket_path) << "\n"
      << "    mode: \"" << mode << "\"\n"
      << "    group: " << quoted(c.identity.socket_group) << "\n"
      << "  datagram:\n"
      << "    path: " << quoted(c.identity.datagram_path) << "\n"
      << "  tail:\n"
      << "    path: " << quoted(c.identity.tail_path) << "\n"
      << "    from_start: " << b(c.identity.tail_from_start) << "\n"
      << "  join:\n"
      << "    wait: " << format_duration(c.identity.join_wait_ns) << "\n"
      << "    record_ttl: " << format_duration(c.identity.record_ttl_ns) << "\n"
      << "    max_pending_records: " << c.identity.max_pending_records << "\n"
      << "    max_waiting: " << c.identity.max_waiting << "\n"
      << "    max_connections: " << c.identity.max_connections << "\n"
      << "rules:\n"
      << "  paths: [" <<
        [&] {
            std::string out;
            for (const auto& p : c.rules.paths)
                out += (out.empty() ? "" : ", ") + quoted(p);
            return out;
        }()
      << "]\n"
      << "  max_accounts: " << c.rules.max_accounts << "\n"
      << "  finding_accounts: " << c.rules.finding_accounts << "\n"
      << "  catch_up: " << format_duration(c.rules.catch_up_ns) << "\n"
      << "ring:\n"
      << "  name: " << quoted(c.ring.name) << "\n"
      << "  capacity: " << c.ring.capacity << "\n"
      << "output:\n"
      << "  findings: " << quoted(c.output.findings) << "\n"
      << "  stdout: " << b(c.output.to_stdout) << "\n"
      << dump_sinks(c.sinks) << "metrics:\n"
      << "  listen: " << quoted(c.metrics.listen) << "\n"
      << "  allow_non_loopback: " << b(c.metrics.allow_non_loopback) << "\n"
      << "control:\n"
      << "  socket: " << quoted(c.control.socket) << "\n"
      << "state:\n"
      << "  dir: " << quoted(c.state.dir) << "\n"
      << "  save_interval: " << format_duration(c.state.save_interval_ns) << "\n"
      << "log:\n"
      << "  level: " << to_string(c.log.level) << "\n";
    return o.str();
}

}  // namespace sybilwatch::config
