// The mapped reader of classic pcap files yields exactly the frames libpcap yields, and fails
// the same way on a truncated file.
#include "capture/pcap_file.hpp"

#include <gtest/gtest.h>
#include <pcap/pcap.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <vector>

namespace sybilwatch::capture {
namespace {

namespace fs = std::filesystem;

struct Rec {
    int64_t ts_ns;
    uint32_t wire_len;
    std::vector<uint8_t> data;
    bool operator==(const Rec&) const = default;
};

std::vector<Rec> via_libpcap(const std::string& path, std::string* error = nullptr) {
    char err[PCAP_ERRBUF_SIZE];
    pcap_t* p =
        pcap_open_offline_with_tstamp_precision(path.c_str(), PCAP_TSTAMP_PRECISION_NANO, err);
    EXPECT_NE(p, nullptr) << err;
    std::vector<Rec> out;
    if (!p) return out;
    pcap_pkthdr* h;
    const u_char* d;
    int rc;
    while ((rc = pcap_next_ex(p, &h, &d)) == 1)
        out.push_back({int64_t(h->ts.tv_sec) * 1'000'000'000 + h->ts.tv_usec, h->len,
                       std::vector<uint8_t>(d, d + h->caplen)});
    if (rc == PCAP_ERROR && error) *error = pcap_geterr(p);
    pcap_close(p);
    return out;
}

std::vector<Rec> via_pcap_file(PcapFile& f) {
    std::vector<Rec> out;
    Frame fr;
    while (f.next(fr))
        out.push_back(
            {fr.ts_ns, fr.wire_len, std::vector<uint8_t>(fr.data.begin(), fr.data.end())});
    return out;
}

TEST(PcapFile, MappedReaderMatchesLibpcapOnEveryClassicCapture) {
    const fs::path dir = fs::path(SW_SHARED_DIR) / "conformance/foxio/pcap";
    size_t classic = 0, ng = 0;
    for (const auto& e : fs::directory_iterator(dir)) {
        PcapFile f(e.path().string());
        const auto ours = via_pcap_file(f);
        const auto ref = via_libpcap(e.path().string());
        EXPECT_EQ(ours.size(), ref.size()) << e.path();
        EXPECT_TRUE(ours == ref) << e.path();
        (f.mapped() ? classic : ng)++;
    }
    EXPECT_GE(classic, 15u);  // the mapped path really ran
    EXPECT_GE(ng, 10u);       // and pcapng went through libpcap
}

TEST(PcapFile, TruncatedFileKeepsCompleteRecordsAndSaysWhy) {
    const std::string src = std::string(SW_SHARED_DIR) + "/conformance/foxio/pcap/tls12.pcap";
    std::ifstream in(src, std::ios::binary);
    std::vector<char> bytes((std::istreambuf_iterator<char>(in)), {});
    ASSERT_GT(bytes.size(), 200u);
    const fs::path cut =
        fs::temp_directory_path() / ("sw_cut_" + std::to_string(::getpid()) + ".pcap");
    for (size_t drop : {1ul, 10ul, 17ul}) {  // inside data, inside a record header
        std::ofstream(cut, std::ios::binary).write(bytes.data(), bytes.size() - drop);
        std::string ref_error;
        const auto ref = via_libpcap(cut.string(), &ref_error);
        PcapFile f(cut.string());
        ASSERT_TRUE(f.mapped());
        const auto ours = via_pcap_file(f);
        EXPECT_TRUE(ours == ref) << drop;
        EXPECT_FALSE(f.error().empty()) << drop;
        EXPECT_NE(f.error().find("truncated"), std::string::npos) << f.error();
    }
    fs::remove(cut);
}

TEST(PcapFile, NotACaptureIsAnError) {
    const fs::path junk = fs::temp_directory_path() / ("sw_junk_" + std::to_string(::getpid()));
    std::ofstream(junk) << "this is not a capture file, just some text long enough";
    EXPECT_THROW(PcapFile(junk.string()), std::runtime_error);
    fs::remove(junk);
    EXPECT_THROW(PcapFile("/nonexistent/file.pcap"), std::runtime_error);
}

}  // namespace
}  // namespace sybilwatch::capture
