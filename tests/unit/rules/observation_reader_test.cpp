// The observation reader against the real producer: every connection of the lab capture,
// printed as `sybilwatch tail` prints it (fingerprint JSON plus account and user_agent), reads
// back into the same Observation; malformed lines give messages naming the line and field.
#include "rules/observation_reader.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <sstream>
#include <string>
#include <vector>

#include "capture/pcap_file.hpp"
#include "capture/source.hpp"
#include "fingerprint/engine.hpp"
#include "fingerprint/observation_json.hpp"
#include "rules/eval_context.hpp"

using namespace sybilwatch;
using namespace sybilwatch::rules;

namespace {

struct Keep : fingerprint::ObservationSink {
    std::vector<fingerprint::Observation> all;
    void on_observation(const fingerprint::Observation& o) override { all.push_back(o); }
};

std::vector<fingerprint::Observation> lab_observations() {
    Keep keep;
    capture::PcapFile file(std::string(SW_SOURCE_DIR) + "/tests/data/lab/lab.pcap");
    fingerprint::Engine engine(fingerprint::EngineConfig{}, keep);
    capture::EngineFeed feed(engine);
    while (file.poll(0, feed) >= 0) {
    }
    engine.flush();
    return keep.all;
}

// As tail_command.cpp's LineWriter does: the object, then the attribution before the '}'.
std::string tail_line(const fingerprint::Observation& o, const std::string& account) {
    std::string s;
    fingerprint::append_json(o, s);
    s.resize(s.size() - 2);
    s += ",\"account\":";
    fingerprint::append_json_string(account, s);
    s += ",\"user_agent\":\"curl/7.88.1\"}\n";
    return s;
}

}  // namespace

TEST(ObservationReader, ReadsBackEveryLabConnectionAsTailPrintsIt) {
    const auto lab = lab_observations();
    ASSERT_GE(lab.size(), 13u);  // one per client run in tests/data/lab/lab.tsv, Chromium two
    std::string text;
    for (size_t i = 0; i < lab.size(); ++i)
        text += tail_line(lab[i], "acct-" + std::to_string(i));
    std::istringstream in(text);
    ObservationReader rd(in);
    ObservationLine line;
    for (size_t i = 0; i < lab.size(); ++i) {
        ASSERT_TRUE(rd.next(line)) << rd.error();
        const auto& want = lab[i];
        const auto& got = line.obs;
        EXPECT_EQ(got.ts_ns / 1000, want.ts_ns / 1000);  // printed to the microsecond
        EXPECT_EQ(got.src, want.src);
        EXPECT_EQ(got.dst, want.dst);
        EXPECT_EQ(got.src_port, want.src_port);
        EXPECT_EQ(got.dst_port, want.dst_port);
        EXPECT_EQ(got.transport, want.transport);
        EXPECT_EQ(got.sni.view(), want.sni.view());
        EXPECT_EQ(got.alpn.view(), want.alpn.view());
        EXPECT_EQ(got.ja4.view(), want.ja4.view());
        EXPECT_EQ(got.ja4_r, want.ja4_r);
        EXPECT_EQ(got.ja3.view(), want.ja3.view());
        EXPECT_EQ(got.ja4t.view(), want.ja4t.view());
        EXPECT_EQ(got.ja4l_c.view(), want.ja4l_c.view());
        EXPECT_EQ(got.tcp_sig.view(), want.tcp_sig.view());
        EXPECT_EQ(got.client_ttl, want.client_ttl);
        EXPECT_EQ(got.rtt_us, want.rtt_us);
        EXPECT_EQ(got.end, want.end);
        EXPECT_EQ(got.cadence.requests, want.cadence.requests);
        EXPECT_EQ(got.cadence.client_bytes, want.cadence.client_bytes);
        EXPECT_EQ(got.cadence.server_bytes, want.cadence.server_bytes);
        EXPECT_EQ(got.cadence.duration_us, want.cadence.duration_us);
        EXPECT_EQ(line.account, "acct-" + std::to_string(i));
        EXPECT_EQ(line.user_agent, "curl/7.88.1");
        // The rules see the same derived fields (gap mean and cv rebuilt from mean, stddev
        // and the request count).
        const EvalContext a(want), b(line.attributed());
        for (FieldId f : {FieldId::Net24, FieldId::RttMs, FieldId::GapMeanMs, FieldId::GapCv,
                          FieldId::Ttl, FieldId::Hour}) {
            const FieldValue x = a.get(f), y = b.get(f);
            EXPECT_EQ(x.present, y.present) << "field " << static_cast<int>(f) << " line " << i;
            if (x.present && y.present) {
                EXPECT_NEAR(x.num, y.num, 1e-3 * (1 + std::abs(x.num)));
            }
        }
    }
    EXPECT_FALSE(rd.next(line));
    EXPECT_EQ(rd.error(), "");
}

TEST(ObservationReader, ReportsTheLineAndTheField) {
    std::istringstream in(
        "{\"ts\":1700000000,\"src\":\"198.51.100.7\",\"account\":\"a\"}\n"
        "\n"
        "{\"ts\":1700000001,\"src\":\"198.51.100.7\",\"src_port\":70000}\n");
    ObservationReader rd(in);
    ObservationLine line;
    ASSERT_TRUE(rd.next(line)) << rd.error();
    EXPECT_EQ(line.obs.ts_ns, 1'700'000'000'000'000'000);
    EXPECT_EQ(line.account, "a");
    EXPECT_FALSE(rd.next(line));
    EXPECT_EQ(rd.error(), "line 3: field 'src_port': must be an integer in 0..65535");
    EXPECT_FALSE(rd.next(line));  // stays stopped
}

TEST(ObservationReader, RefusesWhatIsNotAnObservation) {
    ObservationLine l;
    auto err = [&](const std::string& s) { return parse_observation(s, l); };
    EXPECT_EQ(err(R"({"ts":1700000000,"x":{"y":[1,2]},"future_field":"ok"})"), "");  // ignored
    EXPECT_EQ(err(R"({"src":"10.0.0.1"})"),
              "field 'ts' is missing (epoch seconds of the connection)");
    EXPECT_EQ(err(R"({"ts":1,"src":"10.0.0.300"})"), "field 'src': not an IPv4 or IPv6 address");
    EXPECT_EQ(err(R"({"ts":1,"ja4":12})"), "field 'ja4': must be a string");
    EXPECT_EQ(err(R"({"ts":1,"ja4":")" + std::string(41, 'a') + "\"}"),
              "field 'ja4': longer than 40 bytes");
    EXPECT_EQ(err(R"({"ts":1,"account":")" + std::string(129, 'a') + "\"}"),
              "field 'account': longer than 128 bytes");
    EXPECT_EQ(err(R"({"ts":-1})"), "field 'ts': must be a number in 0..9200000000");
    EXPECT_EQ(err(R"({"ts":1,"transport":"sctp"})"),
              "field 'transport': must be tcp, quic or dtls");
    EXPECT_EQ(err(R"({"ts":1,"client_ttl":256})"),
              "field 'client_ttl': must be an integer in 0..255");
    EXPECT_EQ(err(R"({"ts":1,"cadence":{"requests":-2}})"),
              "field 'cadence.requests': must be an integer in 0..4294967295");
    EXPECT_EQ(err(R"({"ts":1,"cadence":[]})"), "field 'cadence': must be an object");
    EXPECT_EQ(err("[1]"), "not a JSON object");
    EXPECT_EQ(err(std::string(100, '[')), "nested deeper than 8 levels");
    EXPECT_TRUE(err("{\"ts\":").starts_with("not valid JSON: parse error")) << err("{\"ts\":");
    // An integral float is an integer; a fraction is not.
    EXPECT_EQ(err(R"({"ts":1,"dst_port":443.0})"), "");
    EXPECT_EQ(l.obs.dst_port, 443);
    EXPECT_EQ(err(R"({"ts":1,"dst_port":443.5})"),
              "field 'dst_port': must be an integer in 0..65535");
}

TEST(ObservationReader, FractionalTimestampsKeepTheirMicroseconds) {
    ObservationLine l;
    ASSERT_EQ(parse_observation(R"({"ts":1700000000.123456,"syn_ts":1700000000.000001})", l), "");
    EXPECT_EQ(l.obs.ts_ns, 1'700'000'000'123'456'000);
    EXPECT_EQ(l.obs.syn_ns, 1'700'000'000'000'001'000);
    EXPECT_TRUE(l.obs.syn_seen);
}
