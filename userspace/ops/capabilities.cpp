#include "ops/capabilities.hpp"

#include <sys/capability.h>
#include <sys/prctl.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <stdexcept>

namespace sybilwatch::ops {

namespace {

struct CapFree {
    void operator()(void* p) const { cap_free(p); }
};
using Caps = std::unique_ptr<std::remove_pointer_t<cap_t>, CapFree>;

[[noreturn]] void fail(const char* what) {
    throw std::runtime_error(std::string("capabilities: ") + what + ": " + std::strerror(errno));
}

bool has(cap_t caps, cap_value_t v, cap_flag_t set) {
    cap_flag_value_t f = CAP_CLEAR;
    return cap_get_flag(caps, v, set, &f) == 0 && f == CAP_SET;
}

}  // namespace

std::vector<std::string> effective_capabilities() {
    Caps caps(cap_get_proc());
    if (!caps) fail("cap_get_proc");
    std::vector<std::string> out;
    for (cap_value_t v = 0; v <= CAP_LAST_CAP; ++v) {
        if (!has(caps.get(), v, CAP_EFFECTIVE)) continue;
        std::unique_ptr<char, CapFree> name(cap_to_name(v));
        out.emplace_back(name ? name.get() : std::to_string(v));
    }
    return out;
}

std::vector<std::string> keep_only_capabilities(const std::vector<std::string>& keep) {
    Caps now(cap_get_proc());
    if (!now) fail("cap_get_proc");
    Caps next(cap_init());  // everything clear
    if (!next) fail("cap_init");
    for (const auto& name : keep) {
        cap_value_t v;
        if (cap_from_name(name.c_str(), &v) != 0)
            throw std::runtime_error("capabilities: unknown capability " + name);
        if (!has(now.get(), v, CAP_PERMITTED)) continue;
        for (cap_flag_t set : {CAP_EFFECTIVE, CAP_PERMITTED})
            if (cap_set_flag(next.get(), set, 1, &v, CAP_SET) != 0) fail("cap_set_flag");
    }
    // Ambient capabilities (systemd's AmbientCapabilities=) would survive into children.
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL)
        fail("clearing the ambient set");
    if (cap_set_proc(next.get()) != 0) fail("cap_set_proc");
    return effective_capabilities();
}

}  // namespace sybilwatch::ops
