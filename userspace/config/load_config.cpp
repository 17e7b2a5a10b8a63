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

    std::string name_;
    DaemonConfig cfg_;
    YAML::Mark listen_mark_ = YAML::Mark::null_mark();
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
                 v.fail("expected a list of rule files or directories, e.g. [/etc/sybilwatch/rules]");
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
        if (leaf)
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
    for (const Leaf& l : leaves())
        keys.emplace_back(l.key);
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
      << "  paths: [" << [&] {
             std::string out;
             for (const auto& p : c.rules.paths) out += (out.empty() ? "" : ", ") + quoted(p);
             return out;
         }() << "]\n"
      << "  max_accounts: " << c.rules.max_accounts << "\n"
      << "  finding_accounts: " << c.rules.finding_accounts << "\n"
      << "ring:\n"
      << "  name: " << quoted(c.ring.name) << "\n"
      << "  capacity: " << c.ring.capacity << "\n"
      << "output:\n"
      << "  findings: " << quoted(c.output.findings) << "\n"
      << "  stdout: " << b(c.output.to_stdout) << "\n"
      << "metrics:\n"
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
