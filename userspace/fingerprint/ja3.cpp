#include "fingerprint/ja3.hpp"

#include <charconv>

#include "tls/grease.hpp"
#include "tls/text_digest.hpp"

namespace sybilwatch::fingerprint {

namespace {

void put_decimal(std::string& s, unsigned v) {
    char buf[8];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
    s.append(buf, static_cast<size_t>(end - buf));
}

// Appends the non-GREASE values of `values` joined by '-'.
template <typename Range>
void put_list(std::string& s, const Range& values) {
    bool first = true;
    for (auto v : values) {
        if (tls::is_grease(static_cast<uint16_t>(v))) continue;
        if (!first) s.push_back('-');
        put_decimal(s, v);
        first = false;
    }
}

struct ExtensionTypes {
    tls::ExtensionList list;
    struct iterator {
        tls::ExtensionList::iterator it;
        uint16_t operator*() const { return it->type; }
        iterator& operator++() {
            ++it;
            return *this;
        }
        bool operator==(const iterator& o) const { return it == o.it; }
    };
    iterator begin() const { return {list.begin()}; }
    iterator end() const { return {list.end()}; }
};

}  // namespace

Ja3 ja3(const tls::ClientHello& ch, std::string& full) {
    full.clear();
    put_decimal(full, ch.legacy_version);
    full.push_back(',');
    put_list(full, ch.ciphers());
    full.push_back(',');
    put_list(full, ExtensionTypes{ch.extensions()});
    full.push_back(',');
    put_list(full, ch.supported_groups_list());
    full.push_back(',');
    // Point formats are single bytes: never GREASE (a GREASE value is two equal bytes 0x?a?a).
    put_list(full, ch.ec_point_formats_list());

    Ja3 out;
    tls::TextDigest d(tls::md5_md());
    d.put(full);
    if (d.finish_hex(out.hash)) out.len = out.hash.size();
    return out;
}

}  // namespace sybilwatch::fingerprint
