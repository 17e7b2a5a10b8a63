#include "foxio/ja4t.hpp"

#include <array>

#include "fingerprint/text_writer.hpp"

namespace sybilwatch::foxio {

void ja4t(const net::Packet& syn, const net::TcpOptions& o, fingerprint::FixedString<200>& out) {
    std::array<char, 200> buf;
    fingerprint::TextWriter w(buf);
    w.num(syn.window).put('_');
    if (o.count == 0) w.put("00");
    for (size_t i = 0; i < o.count; ++i) {
        if (i) w.put('-');
        w.num(o.kinds[i]);
    }
    w.put('_').num(o.mss > 0 ? o.mss : 0, 2).put('_');
    // An absent scale prints as "00"; a present one as its value, zero included ("0", "8").
    if (o.wscale >= 0)
        w.num(o.wscale);
    else
        w.put("00");
    if (w.overflow())
        out.clear();
    else
        out.assign(w.view());
}

}  // namespace sybilwatch::foxio
