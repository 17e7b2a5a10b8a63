#include "alerts/sigpipe_guard.hpp"

#include <pthread.h>

#include <ctime>

namespace sybilwatch::alerts {

SigpipeGuard::SigpipeGuard() {
    sigset_t pending;
    sigemptyset(&pending);
    sigpending(&pending);
    was_pending_ = sigismember(&pending, SIGPIPE) == 1;
    sigset_t block;
    sigemptyset(&block);
    sigaddset(&block, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &block, &old_mask_);
}

SigpipeGuard::~SigpipeGuard() {
    if (!was_pending_) {
        // Consume a SIGPIPE our writes raised while blocked, so unblocking does not deliver it.
        sigset_t pending;
        sigemptyset(&pending);
        sigpending(&pending);
        if (sigismember(&pending, SIGPIPE) == 1) {
            sigset_t only;
            sigemptyset(&only);
            sigaddset(&only, SIGPIPE);
            const timespec zero{0, 0};
            sigtimedwait(&only, nullptr, &zero);
        }
    }
    pthread_sigmask(SIG_SETMASK, &old_mask_, nullptr);
}

}  // namespace sybilwatch::alerts
