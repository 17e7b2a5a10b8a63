// HTTP requests to the metrics endpoint: any bytes get a well-formed reply.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "ops/metrics_endpoint.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static const sybilwatch::ops::MetricsEndpoint::Render render = [] {
        return std::string("sw_up 1\n");
    };
    const std::string r = sybilwatch::ops::MetricsEndpoint::reply(
        std::string_view(reinterpret_cast<const char*>(data), size), render);
    if (!r.starts_with("HTTP/1.1 ") || r.find("\r\n\r\n") == std::string::npos) __builtin_trap();
    return 0;
}
