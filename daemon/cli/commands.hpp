// The sybilwatch command-line tool's subcommands; each parses its own arguments and wires
// libraries together.
#pragma once

namespace sybilwatch::cli {

// argv[0] is the subcommand name.
int fingerprint_command(int argc, char** argv);
int capture_command(int argc, char** argv);
int tail_command(int argc, char** argv);
int top_command(int argc, char** argv);
int rules_command(int argc, char** argv);
int rules_test_command(int argc, char** argv);  // argv[0] is "test"
int status_command(int argc, char** argv);
int replay_command(int argc, char** argv);

}  // namespace sybilwatch::cli
