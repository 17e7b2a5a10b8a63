// Reading sybilwatchd's YAML config. Every problem is a ConfigError whose message names the
// place and the key: "FILE:LINE:COLUMN: KEY: problem" (1-based line and column), so an
// operator fixes a bad file (or a rejected SIGHUP reload) from the log line alone.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "config/daemon_config.hpp"

namespace sybilwatch::config {

class ConfigError : public std::runtime_error {
  public:
    ConfigError(std::string file, int line, int column, std::string key, std::string problem);
    const std::string& file() const { return file_; }
    int line() const { return line_; }               // 1-based; 0 when the file could not be read
    int column() const { return column_; }           // 1-based; 0 when the file could not be read
    const std::string& key() const { return key_; }  // dotted ("capture.ports"); "" for syntax
    const std::string& problem() const { return problem_; }

  private:
    std::string file_;
    int line_;
    int column_;
    std::string key_;
    std::string problem_;
};

// Reads and validates the file. A missing or unreadable file is an error (the daemon runs on
// DaemonConfig{} only when no file is named); an empty one gives the defaults.
DaemonConfig load_config(const std::string& path);
// The same for text in memory; `name` stands for the file in messages. Only the first YAML
// document is read (see load_config.cpp on yaml-cpp 0.7's LoadAll).
DaemonConfig load_config_text(std::string_view yaml, std::string_view name);

// Every key the loader accepts, dotted ("identity.socket.path"), in documentation order; the
// list of sinks is "sinks" followed by its items' keys as "sinks[].type".
std::vector<std::string> known_keys();

// `cfg` as YAML that load_config_text reads back to the same DaemonConfig.
std::string dump_config(const DaemonConfig& cfg);

}  // namespace sybilwatch::config
