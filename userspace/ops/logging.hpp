// spdlog set up for a service: under systemd (JOURNAL_STREAM names our stderr) messages go to
// the journal with their priority and no timestamp of our own; otherwise to stderr with an
// ISO 8601 timestamp. One default logger for the whole daemon.
#pragma once

#include <string_view>

namespace sybilwatch::ops {

// level: trace | debug | info | warn | error | critical | off.
void setup_logging(std::string_view level);
void set_log_level(std::string_view level);
// Whether stderr is connected to the journal (systemd sets JOURNAL_STREAM to its dev:inode).
bool stderr_is_journal();

}  // namespace sybilwatch::ops
