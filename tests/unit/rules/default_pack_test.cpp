// The default pack compiled into the binary (cmake/embed_rules.cmake): it loads without errors,
// holds the five farm rules, and is the pack in rules/ (every file, byte for byte).
#include "rules/default_pack.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "rules/rule_loader.hpp"

using namespace sybilwatch::rules;

TEST(DefaultPack, LoadsWithoutErrorsAndHasTheFiveFarmRules) {
    const LoadResult r = load_rules_text(default_pack());
    std::string errors;
    for (const auto& d : r.errors)
        errors += d.to_string() + "\n";
    ASSERT_TRUE(r.ok()) << errors;
    for (const char* id : {"shared_uncommon_stack", "proxy_rotation", "linked_account_cluster",
                           "lockstep_accounts", "new_account_burst"}) {
        const RuleSpec* s = r.rules.find(id);
        ASSERT_NE(s, nullptr) << id;
        EXPECT_TRUE(s->enabled) << id;
    }
    EXPECT_EQ(r.rules.rules().size(), 5u);
    EXPECT_GE(r.rules.list_count(), 2u);  // popular browsers and SDKs at least
}

TEST(DefaultPack, IsTheRulesDirectoryWithoutItsTests) {
    namespace fs = std::filesystem;
    const fs::path root = fs::path(SW_SOURCE_DIR);
    size_t on_disk = 0;
    for (const auto& de : fs::recursive_directory_iterator(root / "rules")) {
        const auto rel = fs::relative(de.path(), root).string();
        if (de.is_regular_file() && de.path().extension() == ".yaml" &&
            !rel.starts_with("rules/tests/"))
            ++on_disk;
    }
    EXPECT_EQ(default_pack().size(), on_disk);
    for (const RuleSource& src : default_pack()) {
        std::ifstream in(root / src.name, std::ios::binary);
        ASSERT_TRUE(in) << src.name;
        std::stringstream ss;
        ss << in.rdbuf();
        EXPECT_EQ(ss.str(), src.text) << src.name << " differs from the embedded copy";
    }
}
