#include "alerts/stdout_transport.hpp"

#include <poll.h>

#include <cerrno>
#include <cstring>

#include "alerts/sigpipe_guard.hpp"

namespace sybilwatch::alerts {

size_t StdoutTransport::send(std::span<const std::string_view> payloads, std::string& error) {
    std::lock_guard lk(mu_);
    SigpipeGuard guard;
    size_t accepted = 0;
    for (auto p : payloads) {
        buf_.assign(p);
        if (buf_.empty() || buf_.back() != '\n') buf_.push_back('\n');
        size_t done = 0;
        while (done < buf_.size()) {
            ssize_t r = ::write(fd_, buf_.data() + done, buf_.size() - done);
            if (r < 0 && errno == EINTR) continue;
            if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
                // A non-blocking stdout: wait a little for room rather than tear the line.
                pollfd pfd{fd_, POLLOUT, 0};
                if (::poll(&pfd, 1, 1000) > 0) continue;
            }
            if (r <= 0) {
                error = std::string("stdout: ") + (r == 0 ? "no progress" : std::strerror(errno));
                return accepted;
            }
            done += static_cast<size_t>(r);
        }
        ++accepted;
    }
    return accepted;
}

}  // namespace sybilwatch::alerts
