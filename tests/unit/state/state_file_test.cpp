#include "state/state_file.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <vector>

using namespace sybilwatch::state;

namespace {

std::vector<Section> sample() {
    return {{"rules", {1, 2, 3, 4, 5}}, {"empty", {}}, {"joiner", std::vector<uint8_t>(70000, 7)}};
}

std::string temp_dir() {
    char tmpl[] = "/tmp/sw-state.XXXXXX";
    return ::mkdtemp(tmpl);
}

}  // namespace

TEST(StateFile, RoundTrip) {
    const auto bytes = encode_state(sample());
    const auto back = decode_state(bytes);
    ASSERT_EQ(back.size(), 3u);
    for (size_t i = 0; i < back.size(); ++i) {
        EXPECT_EQ(back[i].name, sample()[i].name);
        EXPECT_EQ(back[i].data, sample()[i].data);
    }
    ASSERT_NE(find_section(back, "joiner"), nullptr);
    EXPECT_EQ(find_section(back, "nope"), nullptr);
}

TEST(StateFile, EveryDamageIsDetected) {
    const auto good = encode_state(sample());
    // Any single flipped bit, and any truncation, is an error, never a wrong result.
    for (size_t i = 0; i < good.size(); i += 97) {
        auto bad = good;
        bad[i] ^= 0x10;
        EXPECT_THROW(decode_state(bad), StateError) << "bit flip at " << i;
    }
    for (size_t n : {size_t{0}, size_t{5}, size_t{20}, good.size() / 2, good.size() - 1}) {
        std::vector<uint8_t> cut(good.begin(), good.begin() + n);
        EXPECT_THROW(decode_state(cut), StateError) << "cut to " << n;
    }
}

TEST(StateFile, SaveIsAtomicAndLoadFindsIt) {
    const std::string dir = temp_dir();
    const std::string path = dir + "/state.bin";
    EXPECT_FALSE(load_state(path).has_value());  // none yet: start empty
    save_state(path, sample());
    save_state(path, sample());  // replacing an existing file
    EXPECT_NE(::access((path + ".tmp").c_str(), F_OK), 0) << "temporary file left behind";
    const auto back = load_state(path);
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(back->size(), 3u);
    // A damaged file is an error naming the path, so the daemon can say what it set aside.
    {
        std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
        f.seekp(30);
        f.put('\xAA');
    }
    try {
        load_state(path);
        FAIL() << "expected StateError";
    } catch (const StateError& e) {
        EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
    }
    ::unlink(path.c_str());
    ::rmdir(dir.c_str());
}

TEST(StateFile, UnwritableDirectoryIsAnError) {
    EXPECT_THROW(save_state("/proc/sw-no/state.bin", sample()), StateError);
}
