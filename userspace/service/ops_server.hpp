// The daemon's operator interfaces on their own thread: the Prometheus endpoint and the control
// socket. They answer from the latest snapshot the pipeline thread published (at most a second
// old), so a scrape or `sybilwatch status` never touches, blocks or slows the data path.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "ops/control_socket.hpp"
#include "ops/metrics_endpoint.hpp"

namespace sybilwatch::service {

class OpsServer {
  public:
    // metrics_listen: "HOST:PORT" as config::parse_listen_address takes it, "" = none;
    // control_path: "" = none. Throws std::runtime_error when either cannot be opened.
    OpsServer(const std::string& metrics_listen, const std::string& control_path);
    ~OpsServer();  // stops the thread, removes the control socket
    OpsServer(const OpsServer&) = delete;
    OpsServer& operator=(const OpsServer&) = delete;

    void publish(std::string metrics, std::string status);
    // A `reload` command came in on the control socket since the last call.
    bool take_reload_request() { return reload_.exchange(false); }
    uint16_t metrics_port() const { return metrics_ ? metrics_->port() : 0; }

  private:
    void loop();
    std::string control(std::string_view command);

    std::mutex mu_;
    std::string metrics_text_, status_json_;
    std::unique_ptr<ops::MetricsEndpoint> metrics_;
    std::unique_ptr<ops::ControlServer> control_;
    std::atomic<bool> stop_{false}, reload_{false};
    std::thread thread_;
};

}  // namespace sybilwatch::service
