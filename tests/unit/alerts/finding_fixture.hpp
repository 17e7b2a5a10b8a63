// A link finding built from real connections: the first three TLS connections of
// browsers-x509.pcapng with the FoxIO reference JA4/JA4T values (conformance VECTORS.tsv), an
// account assigned to each, and the JA3 tshark computes for the same Chromium ClientHello
// (tests/data/tls/expected.tsv, row chrome_tls13: the same JA4); tcp_sig is p0f's raw_sig of
// those SYNs (tests/data/p0f/raw_sigs.tsv).
#pragma once

#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "rules/finding.hpp"

namespace sybilwatch::alerts::test {

using Row = std::map<std::string, std::string>;

inline std::vector<Row> read_tsv(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw std::runtime_error("cannot read " + path);
    std::vector<Row> rows;
    std::vector<std::string> head;
    for (std::string line; std::getline(in, line);) {
        if (line.empty() || line[0] == '#') continue;
        std::vector<std::string> cols;
        std::stringstream ss(line);
        for (std::string c; std::getline(ss, c, '\t');)
            cols.push_back(c);
        if (head.empty()) {
            head = cols;
            continue;
        }
        Row r;
        for (size_t i = 0; i < head.size(); ++i)
            r[head[i]] = i < cols.size() ? cols[i] : "";
        rows.push_back(std::move(r));
    }
    return rows;
}

inline std::pair<std::string, uint16_t> split_endpoint(const std::string& s) {
    const auto colon = s.rfind(':');
    return {s.substr(0, colon), static_cast<uint16_t>(std::stoi(s.substr(colon + 1)))};
}

// 2023-11-14T22:13:20.123456789Z
inline constexpr int64_t kT0 = 1'700'000'000'123'456'789;

inline std::vector<Row> browser_rows() {
    std::vector<Row> out;
    for (auto& r : read_tsv(std::string(SW_SHARED_DIR) + "/conformance/foxio/VECTORS.tsv"))
        if (r["pcap"] == "browsers-x509.pcapng" && r["transport"] == "tcp" && !r["ja4"].empty() &&
            out.size() < 3)
            out.push_back(r);
    return out;
}

inline std::string chrome_ja3() {
    for (auto& r : read_tsv(std::string(SW_SOURCE_DIR) + "/tests/data/tls/expected.tsv"))
        if (r["name"] == "chrome_tls13") return r["ja3"];
    return {};
}

inline rules::Finding farm_finding() {
    const auto rows = browser_rows();
    if (rows.size() != 3) throw std::runtime_error("VECTORS.tsv: browsers-x509 rows missing");
    rules::Finding f;
    f.finding_id = "link-shared-client-stack:7f3a9c01";
    f.revision = 2;
    f.activity = rules::FindingActivity::Update;
    f.rule = "link-shared-client-stack";
    f.kind = "link";
    f.title = "Accounts sharing one client stack";
    f.output = "3 accounts share JA4 " + rows[0].at("ja4");
    f.severity = rules::Severity::High;
    f.tags = {"account-farm", "ja4"};
    f.group = {{"ja4", rows[0].at("ja4")}};
    f.measures = {{"distinct(account)", 3}};
    f.account_count = 3;
    f.accounts = {"acct-1001", "acct-1002", "acct-1003"};
    f.keys = {{"ja4", rows[0].at("ja4"), 3}};
    f.networks = {{"net24", "172.27.7.0/24", 3}};
    f.client_stacks = {{"ja4", rows[0].at("ja4"), 3}, {"ja3", chrome_ja3(), 3}};
    f.observations = 3;
    f.requests = 12;
    f.client_bytes = 4096;
    f.server_bytes = 65536;
    f.first_seen_ns = kT0;
    f.last_seen_ns = kT0 + 2'000'000'000;
    f.emitted_ns = kT0 + 2'500'000'000;
    for (size_t i = 0; i < rows.size(); ++i) {
        const auto& r = rows[i];
        rules::SampleConnection s;
        s.ts_ns = kT0 + static_cast<int64_t>(i) * 1'000'000'000;
        auto [cip, cport] = split_endpoint(r.at("client"));
        auto [sip, sport] = split_endpoint(r.at("server"));
        s.src = net::IpAddress::parse(cip);
        s.src_port = cport;
        s.dst = net::IpAddress::parse(sip);
        s.dst_port = sport;
        s.account = f.accounts[i];
        s.sni = r.at("sni");
        s.ja4 = r.at("ja4");
        s.ja4t = r.at("ja4t");
        s.tcp_sig = "4:128+0:0:1460:mss*44,8:mss,nop,ws,nop,nop,sok:df,id+:0";
        s.user_agent = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Edg/116.0";
        f.samples.push_back(s);
    }
    return f;
}

}  // namespace sybilwatch::alerts::test
