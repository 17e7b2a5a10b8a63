// The `sinks:` section: every key per sink type, and the errors an operator meets, each with
// file:line:column and the indexed key ("sinks[1].protocol").
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config/load_config.hpp"

namespace sybilwatch::config {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::string error_of(std::string_view yaml) {
    try {
        load_config_text(yaml, "test.yaml");
    } catch (const ConfigError& e) {
        return e.what();
    }
    return "";
}

constexpr std::string_view kAllTypes = R"(sinks:
  - name: archive
    type: file
    format: ocsf
    min_severity: medium
    include_tags: [farm, distillation]
    exclude_tags: [noisy]
    rules: [shared_stack, lockstep]
    closes: false
    rate: 12.5
    burst: 40
    spool_max_bytes: 67108864
    path: /var/log/sybilwatch/ocsf.jsonl
    rotate_bytes: 1048576
    keep: 3
  - name: console
    type: stdout
    format: cef
  - name: siem-tls
    type: syslog
    format: cef
    address: siem.example.com:6514
    protocol: tls
    facility: local4
    app_name: sybilwatch-edge
    ca_file: /etc/sybilwatch/siem-ca.pem
    server_name: siem.example.com
    client_cert: /etc/sybilwatch/edge.pem
    client_key: /etc/sybilwatch/edge.key
    verify: false
  - name: siem_udp
    type: syslog
    address: "[2001:db8::5]:514"
    protocol: udp
  - name: splunk
    type: hec
    format: json
    url: https://splunk.example.com:8088
    token_env: SPLUNK_HEC_TOKEN
    index: fraud
    sourcetype: "sybilwatch:finding:v1"
    ack: true
    ca_file: /etc/sybilwatch/splunk-ca.pem
  - name: soar
    type: webhook
    url: https://soar.example.com/hooks/sybilwatch
    key_file: /etc/sybilwatch/webhook.key
    headers: {X-Team: fraud-ops, X-Route: edge}
    batch: true
    verify: true
)";

TEST(SinksConfig, EveryTypeAndKey) {
    const DaemonConfig c = load_config_text(kAllTypes, "sinks.yaml");
    ASSERT_EQ(c.sinks.size(), 6u);
    const SinkSection& f = c.sinks[0];
    EXPECT_EQ(f.name, "archive");
    EXPECT_EQ(f.type, SinkType::File);
    EXPECT_EQ(f.format, SinkFormat::Ocsf);
    EXPECT_EQ(f.min_severity, SinkSeverity::Medium);
    EXPECT_EQ(f.include_tags, (std::vector<std::string>{"farm", "distillation"}));
    EXPECT_EQ(f.exclude_tags, (std::vector<std::string>{"noisy"}));
    EXPECT_EQ(f.rules, (std::vector<std::string>{"shared_stack", "lockstep"}));
    EXPECT_FALSE(f.closes);
    EXPECT_DOUBLE_EQ(f.rate, 12.5);
    EXPECT_EQ(f.burst, 40u);
    EXPECT_EQ(f.spool_max_bytes, 64u << 20);
    EXPECT_EQ(f.path, "/var/log/sybilwatch/ocsf.jsonl");
    EXPECT_EQ(f.rotate_bytes, 1u << 20);
    EXPECT_EQ(f.keep, 3u);
    EXPECT_EQ(c.sinks[1].type, SinkType::Stdout);
    EXPECT_EQ(c.sinks[1].format, SinkFormat::Cef);
    const SinkSection& t = c.sinks[2];
    EXPECT_EQ(t.type, SinkType::Syslog);
    EXPECT_EQ(t.address, "siem.example.com:6514");
    EXPECT_EQ(t.protocol, SyslogProtocol::Tls);
    EXPECT_EQ(t.facility, "local4");
    EXPECT_EQ(t.app_name, "sybilwatch-edge");
    EXPECT_EQ(t.ca_file, "/etc/sybilwatch/siem-ca.pem");
    EXPECT_EQ(t.server_name, "siem.example.com");
    EXPECT_EQ(t.client_cert, "/etc/sybilwatch/edge.pem");
    EXPECT_EQ(t.client_key, "/etc/sybilwatch/edge.key");
    EXPECT_FALSE(t.verify);
    EXPECT_EQ(c.sinks[3].address, "[2001:db8::5]:514");
    EXPECT_EQ(c.sinks[3].protocol, SyslogProtocol::Udp);
    EXPECT_EQ(c.sinks[3].facility, "local0");  // defaults
    EXPECT_TRUE(c.sinks[3].verify);
    const SinkSection& h = c.sinks[4];
    EXPECT_EQ(h.type, SinkType::Hec);
    EXPECT_EQ(h.url, "https://splunk.example.com:8088");
    EXPECT_EQ(h.token_env, "SPLUNK_HEC_TOKEN");
    EXPECT_EQ(h.token_file, "");
    EXPECT_EQ(h.index, "fraud");
    EXPECT_EQ(h.sourcetype, "sybilwatch:finding:v1");
    EXPECT_TRUE(h.ack);
    const SinkSection& w = c.sinks[5];
    EXPECT_EQ(w.type, SinkType::Webhook);
    EXPECT_EQ(w.key_file, "/etc/sybilwatch/webhook.key");
    EXPECT_EQ(w.headers, (std::vector<std::pair<std::string, std::string>>{{"X-Team", "fraud-ops"},
                                                                           {"X-Route", "edge"}}));
    EXPECT_TRUE(w.batch);
    // The built-ins are untouched by `sinks:`.
    EXPECT_EQ(c.output, OutputSection{});
}

TEST(SinksConfig, DumpReadsBack) {
    const DaemonConfig c = load_config_text(kAllTypes, "sinks.yaml");
    const std::string dump = dump_config(c);
    EXPECT_EQ(load_config_text(dump, "dump"), c) << dump;
}

TEST(SinksConfig, EmptyListAndNullMeanNone) {
    EXPECT_TRUE(load_config_text("sinks: []\n", "s").sinks.empty());
    EXPECT_TRUE(load_config_text("sinks:\n", "s").sinks.empty());
    EXPECT_EQ(load_config_text("sinks: []\n", "s"), DaemonConfig{});
}

TEST(SinksConfig, ShapeErrors) {
    EXPECT_EQ(error_of("sinks:\n  name: x\n"),
              "test.yaml:2:3: sinks: expected a list of sinks (each a mapping with name, type, "
              "...), or []");
    EXPECT_EQ(error_of("sinks:\n  - siem\n"),
              "test.yaml:2:5: sinks[0]: expected a mapping of sink keys (name, type, ...)");
    EXPECT_EQ(error_of("sink: []\n"),
              "test.yaml:1:1: sink: unknown key 'sink' (did you mean 'sinks'?)");
}

TEST(SinksConfig, UnknownKeyWithHint) {
    EXPECT_EQ(error_of("sinks:\n  - name: a\n    type: stdout\n  - name: b\n    type: syslog\n"
                       "    adress: 10.0.0.1:514\n"),
              "test.yaml:6:5: sinks[1].adress: unknown key 'adress' (did you mean 'address'?)");
    EXPECT_EQ(error_of("sinks:\n  - name: a\n    type: hec\n    tokn_file: /t\n"),
              "test.yaml:4:5: sinks[0].tokn_file: unknown key 'tokn_file' (did you mean "
              "'token_file'?)");
}

TEST(SinksConfig, ValueErrorsNameTheIndexedKey) {
    const std::string head =
        "sinks:\n  - name: a\n    type: stdout\n  - name: b\n    type: syslog\n"
        "    address: 10.0.0.1:514\n  - name: c\n    type: syslog\n";
    EXPECT_EQ(error_of(head + "    address: h:514\n    protocol: tpc\n"),
              "test.yaml:10:15: sinks[2].protocol: bad value 'tpc': expected one of udp, tcp, tls "
              "(did you mean 'tcp'?)");
    EXPECT_EQ(error_of(head + "    address: siem.example.com\n"),
              "test.yaml:9:14: sinks[2].address: expected HOST:PORT or [IPV6]:PORT, got "
              "'siem.example.com'");
    EXPECT_EQ(error_of(head + "    address: h:70000\n"),
              "test.yaml:9:14: sinks[2].address: port must be 1..65535 in 'h:70000'");
    EXPECT_EQ(error_of(head + "    address: h:514\n    facility: local9\n"),
              "test.yaml:10:15: sinks[2].facility: not a syslog facility: 'local9' (kern, user, "
              "mail, daemon, auth, ..., local0 to local7, or 0 to 23)");
    EXPECT_EQ(error_of("sinks:\n  - name: a\n    type: file\n    path: /x\n    format: leef\n"),
              "test.yaml:5:13: sinks[0].format: bad value 'leef': expected one of json, ocsf, ecs, "
              "cef (did you mean 'cef'?)");
    EXPECT_EQ(error_of("sinks:\n  - name: a\n    type: stdout\n    min_severity: hihg\n"),
              "test.yaml:4:19: sinks[0].min_severity: bad value 'hihg': expected one of info, "
              "low, medium, high, critical (did you mean 'high'?)");
    EXPECT_EQ(error_of("sinks:\n  - name: a\n    type: stdout\n    rate: fast\n"),
              "test.yaml:4:11: sinks[0].rate: expected a number, got 'fast'");
    EXPECT_EQ(error_of("sinks:\n  - name: a\n    type: stdout\n    rate: -1\n"),
              "test.yaml:4:11: sinks[0].rate: expected a number, got '-1'");
    EXPECT_EQ(error_of("sinks:\n  - name: a\n    type: stdout\n    spool_max_bytes: 1000\n"),
              "test.yaml:4:22: sinks[0].spool_max_bytes: 1000 is out of range "
              "1048576..1099511627776");
    EXPECT_EQ(error_of("sinks:\n  - name: a\n    type: stdout\n    include_tags: farm\n"),
              "test.yaml:4:19: sinks[0].include_tags: expected a list of tag, e.g. [a, b]");
    EXPECT_EQ(error_of("sinks:\n  - name: a\n    type: stdout\n    rules: [x, x]\n"),
              "test.yaml:4:16: sinks[0].rules[1]: 'x' listed twice");
    EXPECT_EQ(error_of("sinks:\n  - name: a\n    type: file\n    path: rel.jsonl\n"),
              "test.yaml:4:11: sinks[0].path: expected an absolute path, got 'rel.jsonl'");
    EXPECT_EQ(error_of("sinks:\n  - name: a\n    type: stdout\n    closes: yes\n"),
              "test.yaml:4:13: sinks[0].closes: expected true or false, got 'yes'");
}

TEST(SinksConfig, NamesAndTypes) {
    EXPECT_EQ(error_of("sinks:\n  - type: stdout\n"),
              "test.yaml:2:5: sinks[0]: missing key 'name'");
    EXPECT_EQ(error_of("sinks:\n  - name: a\n"),
              "test.yaml:2:5: sinks[0]: missing key 'type' (file, stdout, syslog, hec or "
              "webhook) in sink 'a'");
    EXPECT_EQ(error_of("sinks:\n  - name: Siem\n    type: stdout\n"),
              "test.yaml:2:11: sinks[0].name: not a sink name: 'Siem' (1 to 64 of a-z 0-9 _ -)");
    EXPECT_EQ(error_of("sinks:\n  - name: a\n    type: splunk\n"),
              "test.yaml:3:11: sinks[0].type: bad value 'splunk': expected one of file, stdout, "
              "syslog, hec, webhook");
    EXPECT_EQ(error_of("sinks:\n  - name: a\n    type: stdout\n  - name: a\n    type: stdout\n"),
              "test.yaml:4:11: sinks[1].name: duplicate sink name 'a' (also sinks[0]): each sink "
              "has its own spool, state.dir/spool/NAME");
    EXPECT_EQ(error_of("sinks:\n  - name: stdout\n    type: stdout\n"),
              "test.yaml:2:5: sinks[0].name: 'stdout' is the name of a built-in output "
              "(output.findings, output.stdout); choose another");
    EXPECT_EQ(error_of("sinks:\n  - name: a\n    type: stdout\n    type: file\n"),
              "test.yaml:4:5: sinks[0].type: duplicate key");
}

TEST(SinksConfig, KeysOfAnotherType) {
    // The type may come after the key: the check runs on the whole item.
    EXPECT_EQ(error_of("sinks:\n  - name: a\n    rotate_bytes: 0\n    type: syslog\n"
                       "    address: h:514\n"),
              "test.yaml:3:5: sinks[0].rotate_bytes: not a key of a syslog sink ('a')");
    EXPECT_EQ(error_of("sinks:\n  - name: a\n    type: hec\n    url: https://h\n"
                       "    token_env: T\n    headers: {A: b}\n"),
              "test.yaml:6:5: sinks[0].headers: not a key of a hec sink ('a')");
    EXPECT_EQ(error_of("sinks:\n  - name: a\n    type: syslog\n    address: h:514\n"
                       "    ca_file: /ca.pem\n"),
              "test.yaml:5:5: sinks[0].ca_file: only with protocol: tls");
}

TEST(SinksConfig, RequiredPerType) {
    EXPECT_EQ(error_of("sinks:\n  - name: a\n    type: file\n"),
              "test.yaml:2:5: sinks[0]: a file sink needs 'path'");
    EXPECT_EQ(error_of("sinks:\n  - name: a\n    type: syslog\n"),
              "test.yaml:2:5: sinks[0]: a syslog sink needs 'address'");
    EXPECT_EQ(error_of("sinks:\n  - name: a\n    type: webhook\n"),
              "test.yaml:2:5: sinks[0]: a webhook sink needs 'url'");
    EXPECT_EQ(error_of("sinks:\n  - name: a\n    type: hec\n    url: https://h\n"),
              "test.yaml:2:5: sinks[0]: an hec sink needs exactly one of 'token_file' or "
              "'token_env'");
    EXPECT_EQ(error_of("sinks:\n  - name: a\n    type: hec\n    url: https://h\n"
                       "    token_file: /t\n    token_env: T\n"),
              "test.yaml:6:5: sinks[0]: an hec sink needs exactly one of 'token_file' or "
              "'token_env'");
    EXPECT_EQ(error_of("sinks:\n  - name: a\n    type: webhook\n    url: https://h\n"
                       "    key_file: /k\n    key_env: K\n"),
              "test.yaml:6:5: sinks[0].key_env: give the key once: 'key_file' or 'key_env', not "
              "both");
    EXPECT_EQ(error_of("sinks:\n  - name: a\n    type: syslog\n    address: h:6514\n"
                       "    protocol: tls\n    client_cert: /c.pem\n"),
              "test.yaml:6:5: sinks[0].client_cert: client_cert and client_key go together");
}

TEST(SinksConfig, FilePathsAreNotShared) {
    EXPECT_EQ(error_of("output:\n  findings: /f.jsonl\nsinks:\n  - name: a\n    type: file\n"
                       "    path: /f.jsonl\n"),
              "test.yaml:6:11: sinks[0].path: '/f.jsonl' is output.findings too");
    EXPECT_EQ(error_of("sinks:\n  - name: a\n    type: file\n    path: /f\n  - name: b\n"
                       "    type: file\n    path: /f\n"),
              "test.yaml:7:11: sinks[1].path: '/f' is the path of sinks[0] too");
}

TEST(SinksConfig, UrlsAndSecretsAreNeverEchoed) {
    // A pasted token where a variable name belongs: refused without repeating it.
    const std::string token = "3f1c9a77-2b7e-4d6a-9c1e-5b8f0e2d4a61";
    const std::string e1 = error_of(
        "sinks:\n  - name: a\n    type: hec\n    url: https://h\n"
        "    token_env: " +
        token + "\n");
    EXPECT_THAT(e1, HasSubstr("test.yaml:5:16: sinks[0].token_env: not an environment variable"));
    EXPECT_THAT(e1, Not(HasSubstr(token)));
    // Credentials in a URL, and a webhook path that carries a secret: neither printed.
    const std::string e2 = error_of(
        "sinks:\n  - name: a\n    type: webhook\n"
        "    url: https://user:hunter2@soar.example.com/hook\n");
    EXPECT_THAT(e2, HasSubstr("sinks[0].url: credentials in the URL"));
    EXPECT_THAT(e2, Not(HasSubstr("hunter2")));
    const std::string e3 = error_of(
        "sinks:\n  - name: a\n    type: webhook\n"
        "    url: http://soar.example.com/hook/s3cr3t-path\n");
    EXPECT_THAT(e3, HasSubstr("sinks[0].url: http:// only to a loopback receiver "
                              "(http://soar.example.com)"));
    EXPECT_THAT(e3, Not(HasSubstr("s3cr3t")));
    // A header value with a control character: the value is not shown.
    const std::string e4 = error_of(
        "sinks:\n  - name: a\n    type: webhook\n    url: https://h\n"
        "    headers: {Authorization: \"Bearer tok\\u0001en\"}\n");
    EXPECT_THAT(e4, HasSubstr("sinks[0].headers.Authorization: the value contains a control"));
    EXPECT_THAT(e4, Not(HasSubstr("Bearer")));
    EXPECT_THAT(error_of("sinks:\n  - name: a\n    type: webhook\n    url: https://h\n"
                         "    headers: {X-Sybilwatch-Signature: x}\n"),
                HasSubstr("sinks[0].headers.X-Sybilwatch-Signature: 'X-Sybilwatch-Signature' is "
                          "set by the daemon"));
    // http:// to a loopback receiver is fine (a local forwarder).
    EXPECT_EQ(
        load_config_text("sinks:\n  - name: a\n    type: hec\n    url: http://127.0.0.1:8088\n"
                         "    token_file: /t\n",
                         "s")
            .sinks[0]
            .url,
        "http://127.0.0.1:8088");
}

}  // namespace
}  // namespace sybilwatch::config
