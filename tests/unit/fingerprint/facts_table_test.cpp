// Interned handshake facts: reference counting, reuse of freed entries, and the packing of an
// Observation's handshake fields, checked on the reference values of a real Chrome hello.
#include "fingerprint/facts_table.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "fingerprint/hello_facts.hpp"

namespace sybilwatch::fingerprint {
namespace {

TEST(FactsTable, EqualValuesShareOneEntryUntilTheLastReferenceGoes) {
    FactsTable t;
    const uint32_t a = t.acquire("t13d1516h2_8daaf6152771_e5627efa2ab1");
    const uint32_t b = t.acquire("t13d1516h2_8daaf6152771_e5627efa2ab1");
    const uint32_t c = t.acquire("t12d1207h2_4b22cbed5bed_7af1ed941c26");
    EXPECT_EQ(a, b);
    EXPECT_NE(a, c);
    EXPECT_EQ(t.size(), 2u);
    EXPECT_EQ(t.refs(a), 2u);
    t.release(a);
    EXPECT_EQ(t.get(b), "t13d1516h2_8daaf6152771_e5627efa2ab1");
    t.release(b);
    EXPECT_EQ(t.size(), 1u);
    // The freed entry is reused, and the value it held is no longer found.
    const uint32_t d = t.acquire("another");
    EXPECT_EQ(d, a);
    const uint32_t e = t.acquire("t13d1516h2_8daaf6152771_e5627efa2ab1");
    EXPECT_NE(e, c);
    EXPECT_NE(e, d);
    EXPECT_EQ(t.size(), 3u);
    EXPECT_EQ(t.get(c), "t12d1207h2_4b22cbed5bed_7af1ed941c26");
    EXPECT_EQ(t.get(d), "another");
}

// Many values in and out in random order (the index grows and entries are deleted by backward
// shift): every live value is still found under its id, with its count.
TEST(FactsTable, RandomChurnKeepsEveryLiveValue) {
    FactsTable t;
    std::mt19937 rng(7);
    std::map<std::string, std::pair<uint32_t, uint32_t>> live;  // value -> (id, refs)
    for (int step = 0; step < 200000; ++step) {
        const std::string v = "value-" + std::to_string(rng() % 5000);
        auto it = live.find(v);
        if (rng() % 3 != 0 || it == live.end()) {
            const uint32_t id = t.acquire(v);
            if (it != live.end()) {
                ASSERT_EQ(id, it->second.first) << v;
                ++it->second.second;
            } else {
                live[v] = {id, 1};
            }
        } else {
            t.release(it->second.first);
            if (--it->second.second == 0) live.erase(it);
        }
    }
    ASSERT_EQ(t.size(), live.size());
    for (const auto& [v, e] : live) {
        EXPECT_EQ(t.get(e.first), v);
        EXPECT_EQ(t.refs(e.first), e.second);
    }
}

// The expected.tsv row of a hello: column name -> value.
std::map<std::string, std::string> expected(const std::string& name) {
    std::ifstream in(std::string(SW_SOURCE_DIR) + "/tests/data/tls/expected.tsv");
    std::vector<std::string> header;
    for (std::string line; std::getline(in, line);) {
        if (line.empty() || line[0] == '#') continue;
        std::vector<std::string> cols;
        std::stringstream ls(line);
        for (std::string c; std::getline(ls, c, '\t');)
            cols.push_back(c);
        if (header.empty()) {
            header = cols;
            continue;
        }
        if (cols[0] != name) continue;
        std::map<std::string, std::string> row;
        for (size_t i = 0; i < header.size() && i < cols.size(); ++i)
            row[header[i]] = cols[i];
        return row;
    }
    ADD_FAILURE() << "no expected row " << name;
    return {};
}

TEST(HelloFacts, PackedFieldsComeBackUnchanged) {
    auto want = expected("chrome_tls13");
    Observation o;
    o.client_hello_seen = o.server_hello_seen = true;
    o.tls_version = 0x0304;
    o.sni.assign(want["sni"]);
    o.alpn.assign("h2");
    o.ja4.assign(want["ja4"]);
    o.ja4_r = want["ja4_r"];
    o.ja4_o.assign(want["ja4_o"]);
    o.ja4_ro = want["ja4_ro"];
    o.ja3.assign(want["ja3"]);
    o.ja3_full = want["ja3_full"];
    o.ja4s.assign(want["ja4s"]);
    o.ja4s_r = want["ja4s_r"];
    o.ja4t.assign("64240_2-4-8-1-3_1460_7");
    o.tcp_sig.assign("4:64+0:0:1460:mss*44,7:mss,sok,ts,nop,ws:df,id+:0");

    std::string stack, shape, order;
    ASSERT_TRUE(pack_stack_facts(o, stack));
    ASSERT_TRUE(pack_order_shape(o, shape));
    ASSERT_TRUE(pack_order_facts(o, order));
    // The per-connection part holds the extension lists but not the ciphers.
    EXPECT_LT(order.size(), o.ja3_full.size() + o.ja4_ro.size());

    Observation back;
    back.sni.assign("stale");  // every field is overwritten
    back.ja4_ro = "stale";
    unpack_stack_facts(stack, back);
    unpack_order_facts(shape, order, back);
    EXPECT_TRUE(back.client_hello_seen && back.server_hello_seen);
    EXPECT_EQ(back.tls_version, 0x0304);
    for (const auto& [col, got] :
         std::vector<std::pair<std::string, std::string_view>>{{"sni", back.sni.view()},
                                                               {"ja4", back.ja4.view()},
                                                               {"ja4_r", back.ja4_r},
                                                               {"ja4_o", back.ja4_o.view()},
                                                               {"ja4_ro", back.ja4_ro},
                                                               {"ja3", back.ja3.view()},
                                                               {"ja3_full", back.ja3_full},
                                                               {"ja4s", back.ja4s.view()},
                                                               {"ja4s_r", back.ja4s_r}})
        EXPECT_EQ(got, want[col]) << col;
    EXPECT_EQ(back.alpn.view(), "h2");
    EXPECT_EQ(back.ja4t.view(), o.ja4t.view());
    EXPECT_TRUE(back.ja4ts.empty());
    EXPECT_EQ(back.tcp_sig.view(), o.tcp_sig.view());
}

TEST(HelloFacts, NothingKnownPacksNothingAndUnpacksToEmpty) {
    Observation o;
    std::string s;
    EXPECT_FALSE(pack_stack_facts(o, s));
    EXPECT_FALSE(pack_order_shape(o, s));
    EXPECT_FALSE(pack_order_facts(o, s));
    Observation back;
    back.ja4.assign("t13d1516h2_8daaf6152771_e5627efa2ab1");
    back.ja3_full = "771,1-2,3-4,5,0";
    back.client_hello_seen = true;
    unpack_stack_facts("", back);
    unpack_order_facts("", "", back);
    EXPECT_TRUE(back.ja4.empty());
    EXPECT_TRUE(back.ja3_full.empty());
    EXPECT_FALSE(back.client_hello_seen);
}

// A raw string without the expected sections (here a short one) stays whole.
TEST(HelloFacts, UnusualRawStringsStayWhole) {
    Observation o;
    o.ja3_full = "771,4865";
    o.ja4_ro = "t13d0000h2__";
    std::string shape, order;
    ASSERT_TRUE(pack_order_shape(o, shape));
    ASSERT_TRUE(pack_order_facts(o, order));
    Observation back;
    unpack_order_facts(shape, order, back);
    EXPECT_EQ(back.ja3_full, o.ja3_full);
    EXPECT_EQ(back.ja4_ro, o.ja4_ro);
}

}  // namespace
}  // namespace sybilwatch::fingerprint
