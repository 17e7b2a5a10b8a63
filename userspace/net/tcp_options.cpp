#include "net/tcp_options.hpp"

namespace sybilwatch::net {

TcpOptions parse_tcp_options(std::span<const uint8_t> b) {
    TcpOptions o;
    size_t i = 0;
    while (i < b.size() && o.count < TcpOptions::kMax) {
        const uint8_t kind = b[i];
        o.kinds[o.count++] = kind;
        if (kind == 0 && !o.eol_seen) {  // EOL: the rest is padding, which should be zero
            o.eol_seen = true;
            o.eol_padding = static_cast<uint8_t>(b.size() - i - 1);
            for (size_t j = i + 1; j < b.size(); ++j)
                o.data_after_eol |= b[j] != 0;
        }
        if (o.eol_seen) {
            // Past EOL every byte is padding. Each zero still shows as a kind-0 entry, as
            // Wireshark lists them and JA4T counts them ("...-4-0-0" for two padding bytes);
            // anything else is not parsed as options.
            if (kind != 0) {
                --o.count;
                return o;
            }
            ++i;
            continue;
        }
        if (kind == 1) {  // NOP
            ++i;
            continue;
        }
        if (i + 1 >= b.size()) {
            o.malformed = true;
            return o;
        }
        const uint8_t len = b[i + 1];
        if (len < 2 || i + len > b.size()) {
            o.malformed = true;
            return o;
        }
        const uint8_t* v = b.data() + i + 2;
        switch (kind) {
            case 2:
                if (len == 4)
                    o.mss = (v[0] << 8) | v[1];
                else
                    o.malformed = true;
                break;
            case 3:
                if (len == 3)
                    o.wscale = v[0];
                else
                    o.malformed = true;
                break;
            case 4:
                if (len == 2)
                    o.sack_ok = true;
                else
                    o.malformed = true;
                break;
            case 8:
                if (len == 10) {
                    o.has_ts = true;
                    o.ts_val = (uint32_t(v[0]) << 24) | (v[1] << 16) | (v[2] << 8) | v[3];
                    o.ts_ecr = (uint32_t(v[4]) << 24) | (v[5] << 16) | (v[6] << 8) | v[7];
                } else {
                    o.malformed = true;
                }
                break;
            default:
                break;
        }
        i += len;
    }
    return o;
}

}  // namespace sybilwatch::net
