// Keeps a write to a socket the peer has closed from killing the process with SIGPIPE.
// OpenSSL's socket BIO and libcurl (with CURLOPT_NOSIGNAL) write with plain write()/send(), so
// MSG_NOSIGNAL is not available there. Ignoring SIGPIPE process-wide is the daemon's choice, not
// a library's: this blocks it for the calling thread only and discards one raised meanwhile.
#pragma once

#include <signal.h>

namespace sybilwatch::alerts {

class SigpipeGuard {
  public:
    SigpipeGuard();
    ~SigpipeGuard();
    SigpipeGuard(const SigpipeGuard&) = delete;
    SigpipeGuard& operator=(const SigpipeGuard&) = delete;

  private:
    sigset_t old_mask_;
    bool was_pending_ = false;
};

}  // namespace sybilwatch::alerts
