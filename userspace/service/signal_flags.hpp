// The daemon's signals as flags its loop polls: SIGTERM/SIGINT ask it to stop, SIGHUP to reload.
// SIGPIPE is ignored (a reader that goes away is an error return, not a death).
#pragma once

namespace sybilwatch::service {

void install_signal_flags();
bool stop_requested();
bool take_reload_request();  // true once per SIGHUP received
void request_stop();         // as SIGTERM (tests, replay end)

}  // namespace sybilwatch::service
