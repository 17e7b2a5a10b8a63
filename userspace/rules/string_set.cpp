#include "rules/string_set.hpp"

#include <algorithm>
#include <cstring>

#include "rules/hash_index.hpp"

namespace sybilwatch::rules {

StringSet::StringSet(std::vector<std::string> items) : strings_(std::move(items)) {
    std::sort(strings_.begin(), strings_.end());
    strings_.erase(std::unique(strings_.begin(), strings_.end()), strings_.end());
    if (strings_.empty()) return;
    size_t n = 8;
    while (n < strings_.size() * 2)
        n *= 2;  // load at most 1/2
    slots_.assign(n, kEmpty);
    mask_ = n - 1;
    for (uint32_t k = 0; k < strings_.size(); ++k) {
        size_t i = hash(strings_[k]) & mask_;
        while (slots_[i] != kEmpty)
            i = (i + 1) & mask_;
        slots_[i] = k;
    }
}

uint64_t StringSet::hash(std::string_view s) {
    uint64_t a = 0, b = 0;
    if (s.size() >= 8) {
        std::memcpy(&a, s.data(), 8);
        std::memcpy(&b, s.data() + s.size() - 8, 8);
    } else if (!s.empty()) {
        std::memcpy(&a, s.data(), s.size());
    }
    // JA4s and the like differ in their tails (hash hex) and lengths, names in their heads or
    // tails ("acct0042", "svc-0042@corp.example"): every byte read reaches the slot's bits,
    // through one 64x64->128-bit multiply folded (wyhash's mix) rather than two finalisers.
    return fold_mul(a ^ kWySecret[0], b ^ s.size() ^ kWySecret[1]);
}

}  // namespace sybilwatch::rules
