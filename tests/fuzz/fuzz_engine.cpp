// The whole fingerprint engine on arbitrary packet sequences: flows, reassembly, TLS and QUIC
// parsing, fingerprints and JSON output. Input: records of [link selector][len hi][len lo]
// [frame], each 1 ms after the previous (some records jump the clock to exercise expiry).
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "fingerprint/engine.hpp"
#include "fingerprint/observation_json.hpp"

namespace {

using namespace sybilwatch;

class JsonSink : public fingerprint::ObservationSink {
  public:
    void on_observation(const fingerprint::Observation& o) override {
        out.clear();
        fingerprint::append_json(o, out);
        if (out.back() != '\n') __builtin_trap();
    }
    std::string out;
};

constexpr net::LinkType kLinks[] = {net::LinkType::Ethernet, net::LinkType::Raw,
                                    net::LinkType::LinuxSll, net::LinkType::LinuxSll2,
                                    net::LinkType::Null};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    fingerprint::EngineConfig cfg;
    cfg.max_flows = 16;  // small, so eviction and buffer exhaustion happen
    cfg.reassembly_buffers = 4;
    cfg.emit = (size & 1) ? fingerprint::EmitAt::Handshake : fingerprint::EmitAt::Close;
    JsonSink sink;
    fingerprint::Engine engine(cfg, sink);
    std::span<const uint8_t> in(data, size);
    int64_t ts = 1'700'000'000'000'000'000;
    while (in.size() >= 3) {
        const uint8_t sel = in[0];
        const size_t len = (size_t(in[1]) << 8) | in[2];
        in = in.subspan(3);
        const size_t n = len < in.size() ? len : in.size();
        ts += (sel & 0x80) ? 400'000'000'000 : 1'000'000;  // sometimes jump past the idle timeouts
        engine.on_frame(kLinks[(sel & 0x7f) % std::size(kLinks)], ts, in.first(n),
                        static_cast<uint32_t>(n));
        in = in.subspan(n);
    }
    engine.flush();
    if (engine.open_flows() != 0) __builtin_trap();
    return 0;
}
