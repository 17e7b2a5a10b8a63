// Observation JSON lines (the `sybilwatch tail` format) from untrusted text: one line parsed
// directly, and the same bytes as a stream of lines. Any input must give an observation or a
// message, never a crash, an overflow or a read past the input.
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>
#include <string_view>

#include "rules/eval_context.hpp"
#include "rules/observation_reader.hpp"

using namespace sybilwatch;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    rules::ObservationLine line;
    if (rules::parse_observation(text, line).empty()) {
        // Whatever was accepted must be usable by the rules engine's field view.
        const rules::EvalContext ctx(line.attributed());
        for (size_t f = 0; f < rules::kFieldCount; ++f)
            (void)ctx.get(static_cast<rules::FieldId>(f));
    }
    std::istringstream in{std::string(text)};
    rules::ObservationReader rd(in);
    size_t n = 0;
    while (rd.next(line) && n < 1000)
        ++n;
    return 0;
}
