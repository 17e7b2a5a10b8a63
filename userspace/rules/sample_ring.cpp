#include "rules/sample_ring.hpp"

#include <algorithm>
#include <string_view>

#include "fingerprint/short_copy.hpp"

namespace sybilwatch::rules {

namespace {
constexpr size_t sum_of_limits(const std::array<uint16_t, 7>& l) {
    size_t s = 0;
    for (uint16_t x : l)
        s += x;
    return s;
}
}  // namespace

static_assert((SampleRing::kSlots & (SampleRing::kSlots - 1)) == 0);

SampleRing::SampleRing() : slots_(kSlots), accounts_(kSlots, kNoAccount) {
    static_assert(sum_of_limits(kLimits) <= kTextBytes);
    using O = fingerprint::Observation;  // the fingerprints and the SNI are never cut
    static_assert(
        kLimits[1] >= decltype(O::sni)::capacity && kLimits[2] >= decltype(O::ja4)::capacity &&
        kLimits[3] >= decltype(O::ja3)::capacity && kLimits[4] >= decltype(O::ja4t)::capacity &&
        kLimits[5] >= decltype(O::tcp_sig)::capacity);
}

void SampleRing::prefetch(size_t n) const {
    // The header and the first texts (account, SNI, JA4): what a typical connection writes.
    const auto* p = reinterpret_cast<const char*>(&slots_[(next_ + n) & (kSlots - 1)]);
    for (size_t off = 0; off < 192; off += 64)
        __builtin_prefetch(p + off, 1);
}

void SampleRing::push(const identity::AttributedObservation& a, uint32_t account) {
    Slot& s = slots_[next_];
    accounts_[next_] = account;
    next_ = (next_ + 1) & (kSlots - 1);
    const fingerprint::Observation& o = a.obs;
    s.ts_ns = o.ts_ns;
    s.src = o.src;
    s.dst = o.dst;
    s.src_port = o.src_port;
    s.dst_port = o.dst_port;
    const std::array<std::string_view, 7> texts = {a.account,    o.sni.view(),  o.ja4.view(),
                                                   o.ja3.view(), o.ja4t.view(), o.tcp_sig.view(),
                                                   a.user_agent};
    char* p = s.text;
    for (size_t i = 0; i < texts.size(); ++i) {
        const size_t n = std::min<size_t>(texts[i].size(), kLimits[i]);
        fingerprint::copy_short(p, texts[i].data(), n);
        s.len[i] = static_cast<uint16_t>(n);
        p += n;
    }
}

SampleConnection SampleRing::connection(size_t age) const {
    const Slot& s = slots_[index(age)];
    SampleConnection c;
    c.ts_ns = s.ts_ns;
    c.src = s.src;
    c.dst = s.dst;
    c.src_port = s.src_port;
    c.dst_port = s.dst_port;
    std::string* const out[7] = {&c.account, &c.sni,     &c.ja4,       &c.ja3,
                                 &c.ja4t,    &c.tcp_sig, &c.user_agent};
    const char* p = s.text;
    for (size_t i = 0; i < 7; ++i) {
        out[i]->assign(p, s.len[i]);
        p += s.len[i];
    }
    return c;
}

}  // namespace sybilwatch::rules
