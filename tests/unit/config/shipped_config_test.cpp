// The shipped default config, its documentation and the loader must not drift apart.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <fstream>
#include <set>
#include <sstream>

#include "config/load_config.hpp"

namespace sybilwatch::config {
namespace {

const std::string kShipped = std::string(SW_SOURCE_DIR) + "/systemd/sybilwatch.yaml";
const std::string kDoc = std::string(SW_SOURCE_DIR) + "/docs/config.md";

// known_keys() without the keys of a sink ("sinks[].type"): the shipped file has `sinks: []`.
std::vector<std::string> top_keys() {
    std::vector<std::string> keys;
    for (const auto& k : known_keys())
        if (!k.starts_with("sinks[]")) keys.push_back(k);
    return keys;
}

// Dotted keys of the leaves of a YAML mapping, in file order.
void leaf_keys(const YAML::Node& n, const std::string& prefix, std::vector<std::string>& out) {
    for (auto it = n.begin(); it != n.end(); ++it) {
        const std::string key =
            prefix.empty() ? it->first.Scalar() : prefix + "." + it->first.Scalar();
        if (it->second.IsMap())
            leaf_keys(it->second, key, out);
        else
            out.push_back(key);
    }
}

// The first column of docs/config.md's key table: rows "| `key` | ...".
std::vector<std::string> doc_keys() {
    std::ifstream in(kDoc);
    EXPECT_TRUE(in) << kDoc;
    std::vector<std::string> keys;
    std::string line;
    while (std::getline(in, line)) {
        if (!line.starts_with("| `")) continue;
        const size_t end = line.find('`', 3);
        if (end != std::string::npos) keys.push_back(line.substr(3, end - 3));
    }
    return keys;
}

TEST(ShippedConfig, LoadsToTheDefaults) {
    const DaemonConfig c = load_config(kShipped);
    EXPECT_EQ(c, DaemonConfig{}) << "systemd/sybilwatch.yaml differs from the built-in defaults:\n"
                                 << dump_config(c) << "\nvs\n"
                                 << dump_config(DaemonConfig{});
}

TEST(ShippedConfig, SpellsOutEveryKey) {
    std::vector<std::string> file;
    leaf_keys(YAML::LoadFile(kShipped), "", file);
    EXPECT_EQ(file, top_keys());
}

// The commented `sinks:` example in the shipped file: "# sinks:" and the "#   " lines after it.
std::string shipped_sink_example() {
    std::ifstream in(kShipped);
    std::string line, yaml;
    bool in_example = false;
    while (std::getline(in, line)) {
        if (line == "# sinks:") {
            in_example = true;
        } else if (in_example && !line.starts_with("#   ")) {
            break;
        }
        if (in_example) yaml += line.substr(2) + "\n";
    }
    return yaml;
}

TEST(ShippedConfig, SinkExampleLoadsAndShowsEveryKey) {
    const std::string yaml = shipped_sink_example();
    ASSERT_FALSE(yaml.empty()) << "no '# sinks:' example in " << kShipped;
    const DaemonConfig c = load_config_text(yaml, "the sinks example in systemd/sybilwatch.yaml");
    std::set<std::string> types;
    for (const auto& s : c.sinks)
        types.insert(to_string(s.type));
    EXPECT_EQ(types, (std::set<std::string>{"file", "stdout", "syslog", "hec", "webhook"}));
    // Every key of a sink appears in some example.
    std::set<std::string> used;
    for (const auto& item : YAML::Load(yaml)["sinks"])
        for (auto it = item.begin(); it != item.end(); ++it)
            used.insert("sinks[]." + it->first.Scalar());
    for (const auto& k : known_keys())
        if (k.starts_with("sinks[].")) {
            EXPECT_TRUE(used.count(k)) << k << " has no example";
        }
}

TEST(ShippedConfig, DocumentsEveryKey) {
    EXPECT_EQ(doc_keys(), known_keys());
}

TEST(ShippedConfig, DocumentedDefaultsAreTheDefaults) {
    // The table's default column, assembled into YAML, loads to DaemonConfig{}.
    std::ifstream in(kDoc);
    std::string line;
    std::string yaml;
    std::vector<std::string> prev;
    size_t rows = 0;
    while (std::getline(in, line)) {
        if (!line.starts_with("| `")) continue;
        std::vector<std::string> cells;
        std::stringstream ss(line.substr(1));
        std::string cell;
        while (std::getline(ss, cell, '|'))
            cells.push_back(cell);
        ASSERT_GE(cells.size(), 2u) << line;
        auto strip = [](std::string s) {
            s.erase(0, s.find_first_not_of(" `"));
            s.erase(s.find_last_not_of(" `") + 1);
            return s;
        };
        const std::string key = strip(cells[0]);
        const std::string value = strip(cells[1]);
        ++rows;
        // A sink's keys have per-sink defaults; the list itself defaults to [].
        if (key.starts_with("sinks[]")) continue;
        // Dotted key back into nested YAML: headers for the sections that differ from the
        // previous row's (the table is grouped by section).
        std::vector<std::string> parts;
        std::stringstream ks(key);
        std::string part;
        while (std::getline(ks, part, '.'))
            parts.push_back(part);
        size_t same = 0;
        while (same + 1 < parts.size() && same + 1 < prev.size() && parts[same] == prev[same])
            ++same;
        for (size_t i = same; i + 1 < parts.size(); ++i)
            yaml += std::string(2 * i, ' ') + parts[i] + ":\n";
        yaml += std::string(2 * (parts.size() - 1), ' ') + parts.back() + ": " + value + "\n";
        prev = parts;
    }
    EXPECT_EQ(rows, known_keys().size());
    std::vector<std::string> built;
    leaf_keys(YAML::Load(yaml), "", built);
    ASSERT_EQ(built, top_keys());  // else an empty document would pass for the defaults
    EXPECT_EQ(load_config_text(yaml, "docs/config.md defaults"), DaemonConfig{}) << yaml;
}

}  // namespace
}  // namespace sybilwatch::config
