#include "fingerprint/hello_facts.hpp"

#include <cstdint>
#include <cstring>

namespace sybilwatch::fingerprint {

namespace {

// Each field: a 16-bit length (native order: the value never leaves the process), then bytes.
// Nothing is cut: the longest raw string, from a hello of the 16 KiB reassembly limit, is ~40 KB.
void put(std::string& out, std::string_view s) {
    const auto n = static_cast<uint16_t>(s.size());
    out.append(reinterpret_cast<const char*>(&n), sizeof n);
    out.append(s.substr(0, n));
}

class Reader {
  public:
    explicit Reader(std::string_view s) : s_(s) {}
    uint8_t byte() {
        if (s_.empty()) return 0;
        const auto b = static_cast<uint8_t>(s_[0]);
        s_.remove_prefix(1);
        return b;
    }
    std::string_view str() {
        uint16_t n = 0;
        if (s_.size() < sizeof n) return {};
        std::memcpy(&n, s_.data(), sizeof n);
        s_.remove_prefix(sizeof n);
        const std::string_view v = s_.substr(0, n);
        s_.remove_prefix(v.size());
        return v;
    }

  private:
    std::string_view s_;
};

enum : uint8_t { kClientHelloSeen = 1, kServerHelloSeen = 2 };

}  // namespace

bool pack_stack_facts(const Observation& o, std::string& out) {
    out.clear();
    const uint8_t flags =
        (o.client_hello_seen ? kClientHelloSeen : 0) | (o.server_hello_seen ? kServerHelloSeen : 0);
    if (!flags && !o.tls_version && o.tcp_sig.empty() && o.ja4t.empty() && o.ja4ts.empty())
        return false;  // nothing from hellos nor SYNs (hellos carry the other fields)
    out.push_back(static_cast<char>(flags));
    out.push_back(static_cast<char>(o.tls_version >> 8));
    out.push_back(static_cast<char>(o.tls_version & 0xff));
    for (std::string_view s :
         {o.sni.view(), o.alpn.view(), o.ja4.view(), std::string_view(o.ja4_r), o.ja4s.view(),
          std::string_view(o.ja4s_r), o.ja4t.view(), o.ja4ts.view(), o.tcp_sig.view()})
        put(out, s);
    return true;
}

namespace {

// JA3_full ("771,ciphers,extensions,groups,formats") and JA4_ro ("t13d1516h2_ciphers_
// extensions_sigalgs") hold the extension list, in the order sent, as their third section: it
// is cut out to be stored apart. A string without that section stays whole in the shape; the
// three parts always join back to the original.
struct Split {
    std::string_view head, extensions, tail;
};
Split split(std::string_view s, char sep) {
    const size_t a = s.find(sep);
    const size_t b = a == s.npos ? s.npos : s.find(sep, a + 1);
    const size_t c = b == s.npos ? s.npos : s.find(sep, b + 1);
    if (c == s.npos) return {s, {}, {}};
    return {s.substr(0, b + 1), s.substr(b + 1, c - b - 1), s.substr(c)};
}

}  // namespace

bool pack_order_shape(const Observation& o, std::string& out) {
    out.clear();
    if (o.ja3_full.empty() && o.ja4_ro.empty()) return false;
    const Split j3 = split(o.ja3_full, ','), j4 = split(o.ja4_ro, '_');
    for (std::string_view s : {j3.head, j3.tail, j4.head, j4.tail})
        put(out, s);
    return true;
}

bool pack_order_facts(const Observation& o, std::string& out) {
    out.clear();
    if (o.ja3.empty() && o.ja4_o.empty() && o.ja3_full.empty() && o.ja4_ro.empty()) return false;
    const Split j3 = split(o.ja3_full, ','), j4 = split(o.ja4_ro, '_');
    for (std::string_view s : {o.ja3.view(), o.ja4_o.view(), j3.extensions, j4.extensions})
        put(out, s);
    return true;
}

void unpack_stack_facts(std::string_view packed, Observation& o) {
    Reader r(packed);
    const uint8_t flags = r.byte();
    o.client_hello_seen = flags & kClientHelloSeen;
    o.server_hello_seen = flags & kServerHelloSeen;
    const uint8_t hi = r.byte();
    o.tls_version = static_cast<uint16_t>(hi << 8 | r.byte());
    o.sni.assign(r.str());
    o.alpn.assign(r.str());
    o.ja4.assign(r.str());
    o.ja4_r.assign(r.str());
    o.ja4s.assign(r.str());
    o.ja4s_r.assign(r.str());
    o.ja4t.assign(r.str());
    o.ja4ts.assign(r.str());
    o.tcp_sig.assign(r.str());
}

void unpack_order_facts(std::string_view shape, std::string_view packed, Observation& o) {
    Reader sr(shape), r(packed);
    o.ja3.assign(r.str());
    o.ja4_o.assign(r.str());
    const std::string_view j3_head = sr.str(), j3_tail = sr.str();
    const std::string_view j4_head = sr.str(), j4_tail = sr.str();
    o.ja3_full.assign(j3_head);
    o.ja3_full.append(r.str());
    o.ja3_full.append(j3_tail);
    o.ja4_ro.assign(j4_head);
    o.ja4_ro.append(r.str());
    o.ja4_ro.append(j4_tail);
}

}  // namespace sybilwatch::fingerprint
