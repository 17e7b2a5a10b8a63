#include "quic/crypto_stream.hpp"

namespace sybilwatch::quic {

CryptoStream::AddResult CryptoStream::add(uint64_t offset, std::span<const uint8_t> data) {
    if (data.empty()) return AddResult::Duplicate;
    if (offset >= capacity_) return AddResult::OutOfWindow;
    if (!stream_.started()) stream_.start(0);
    switch (stream_.add(static_cast<uint32_t>(offset), data, pool_)) {
        case net::StreamReassembler::Result::Added:
            return AddResult::Stored;
        case net::StreamReassembler::Result::Duplicate:
            return AddResult::Duplicate;
        case net::StreamReassembler::Result::OutOfWindow:
        case net::StreamReassembler::Result::NoMemory:
            return AddResult::OutOfWindow;
        case net::StreamReassembler::Result::TooFragmented:
            return AddResult::TooFragmented;
    }
    return AddResult::OutOfWindow;
}

CryptoStream::MessageState CryptoStream::first_message(std::span<const uint8_t>& out) const {
    const auto p = prefix();
    if (p.size() < 4) return MessageState::Incomplete;
    const size_t body = size_t{p[1]} << 16 | size_t{p[2]} << 8 | size_t{p[3]};
    const size_t total = 4 + body;
    if (total > capacity_) return MessageState::TooLarge;
    if (p.size() < total) return MessageState::Incomplete;
    out = p.first(total);
    return MessageState::Complete;
}

void CryptoStream::clear() {
    stream_.reset();
}

}  // namespace sybilwatch::quic
