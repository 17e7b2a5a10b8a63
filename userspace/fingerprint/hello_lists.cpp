#include "fingerprint/hello_lists.hpp"

#include "tls/grease.hpp"
#include "tls/ja4_fields.hpp"

namespace sybilwatch::fingerprint {

namespace {

// Extension types of an extensions block, as a range of values.
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

template <typename Range>
void HelloLists::put_list(List l, const Range& values) {
    const size_t count_at = size_++;
    start_[l] = count_at;
    uint16_t* out = words_.data();
    size_t n = size_;
    for (auto v : values) {
        // Point formats are single bytes, never GREASE; the test costs nothing there.
        const auto w = static_cast<uint16_t>(v);
        out[n] = w;
        n += !tls::is_grease(w);
    }
    words_[count_at] = static_cast<uint16_t>(n - size_);
    size_ = n;
}

void HelloLists::assign(const tls::ClientHello& ch, char transport) {
    const tls::U16List sigs = ch.signature_algorithms_list();
    const tls::U16List groups = ch.supported_groups_list();
    const std::span<const uint8_t> formats = ch.ec_point_formats_list();
    // Bounds from the bytes themselves (an extension takes at least four), not from the
    // parser's counts: the stores below stay within them whatever the ClientHello holds.
    const size_t need = kHeader + 5 + ch.cipher_suites.size() / 2 + ch.extensions_block.size() / 4 +
                        sigs.size() + groups.size() + formats.size();
    if (words_.size() < need) words_.resize(need);

    size_ = kHeader;
    words_[kVersion] = ch.legacy_version;
    put_list(Ciphers, ch.ciphers());
    put_list(Extensions, ExtensionTypes{ch.extensions()});
    put_list(SignatureAlgorithms, sigs);
    put_list(Groups, groups);
    put_list(PointFormats, formats);

    const auto ver = tls::ja4_version_code(ch.max_offered_version());
    const auto nc = tls::two_digits(list(Ciphers).size());
    const auto ne = tls::two_digits(list(Extensions).size());
    const auto alpn = tls::ja4_alpn_chars(ch.first_alpn());
    a_ = {transport, ver[0], ver[1], ch.has(tls::ClientHello::HasServerName) ? 'd' : 'i',
          nc[0],     nc[1],  ne[0],  ne[1],
          alpn[0],   alpn[1]};
    for (size_t i = 0; i < a_.size(); i += 2)
        words_[i / 2] = static_cast<uint16_t>(uint8_t(a_[i]) << 8 | uint8_t(a_[i + 1]));
}

}  // namespace sybilwatch::fingerprint
