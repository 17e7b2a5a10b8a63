#include "service/ops_server.hpp"

#include <poll.h>

#include <stdexcept>

#include "config/listen_address.hpp"

namespace sybilwatch::service {

OpsServer::OpsServer(const std::string& metrics_listen, const std::string& control_path) {
    if (!metrics_listen.empty()) {
        std::string why;
        const auto a = config::parse_listen_address(metrics_listen, why);
        if (!a) throw std::runtime_error("metrics.listen: " + why);
        metrics_ = std::make_unique<ops::MetricsEndpoint>(a->host, a->port, [this] {
            std::lock_guard lock(mu_);
            return metrics_text_;
        });
    }
    if (!control_path.empty())
        control_ = std::make_unique<ops::ControlServer>(
            control_path, 0660, [this](std::string_view cmd) { return control(cmd); });
    thread_ = std::thread([this] { loop(); });
}

OpsServer::~OpsServer() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
}

void OpsServer::publish(std::string metrics, std::string status) {
    std::lock_guard lock(mu_);
    metrics_text_ = std::move(metrics);
    status_json_ = std::move(status);
}

std::string OpsServer::control(std::string_view cmd) {
    if (cmd == "status" || cmd.empty()) {
        std::lock_guard lock(mu_);
        return status_json_ + "\n";
    }
    if (cmd == "metrics") {
        std::lock_guard lock(mu_);
        return metrics_text_;
    }
    if (cmd == "reload") {
        reload_ = true;
        return "{\"reload\":\"requested\"}\n";
    }
    return "{\"error\":\"unknown command; try status, metrics or reload\"}\n";
}

void OpsServer::loop() {
    pollfd fds[2];
    while (!stop_) {
        nfds_t n = 0;
        if (metrics_) fds[n++] = {metrics_->fd(), POLLIN, 0};
        if (control_) fds[n++] = {control_->fd(), POLLIN, 0};
        // The timeout bounds how long stop() waits; it also expires slow clients.
        ::poll(fds, n, 200);
        if (metrics_) metrics_->poll(0);
        if (control_) control_->poll(0);
    }
}

}  // namespace sybilwatch::service
