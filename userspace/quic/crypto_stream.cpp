#include "quic/crypto_stream.hpp"

#include <algorithm>
#include <cstring>

namespace sybilwatch::quic {

CryptoStream::AddResult CryptoStream::add(uint64_t offset, std::span<const uint8_t> data) {
    if (data.empty()) return AddResult::Duplicate;
    if (offset >= capacity_) return AddResult::OutOfWindow;
    if (!data_) {
        data_ = std::make_unique_for_overwrite<uint8_t[]>(capacity_);
        bits_ = std::make_unique<uint64_t[]>((capacity_ + 63) / 64);  // zeroed: nothing yet
    }
    const size_t begin = static_cast<size_t>(offset);
    const size_t end = begin + std::min(data.size(), capacity_ - begin);

    // Copy each run of missing bytes; bytes already present keep their first copy.
    bool stored = false;
    size_t i = begin;
    while (i < end) {
        if (has(i)) {
            ++i;
            continue;
        }
        size_t j = i + 1;
        while (j < end && !has(j))
            ++j;
        std::memcpy(data_.get() + i, data.data() + (i - begin), j - i);
        mark(i, j);
        stored = true;
        i = j;
    }
    if (!stored) return AddResult::Duplicate;

    while (contiguous_ < capacity_) {
        const size_t w = contiguous_ / 64;
        if (contiguous_ % 64 == 0 && contiguous_ + 64 <= capacity_ && bits_[w] == ~uint64_t{0}) {
            contiguous_ += 64;
        } else if (has(contiguous_)) {
            ++contiguous_;
        } else {
            break;
        }
    }
    return AddResult::Stored;
}

void CryptoStream::mark(size_t begin, size_t end) {
    for (size_t i = begin; i < end; ++i)
        bits_[i / 64] |= uint64_t{1} << (i % 64);
}

CryptoStream::MessageState CryptoStream::first_message(std::span<const uint8_t>& out) const {
    if (contiguous_ < 4) return MessageState::Incomplete;
    const size_t body = size_t{data_[1]} << 16 | size_t{data_[2]} << 8 | size_t{data_[3]};
    const size_t total = 4 + body;
    if (total > capacity_) return MessageState::TooLarge;
    if (contiguous_ < total) return MessageState::Incomplete;
    out = std::span<const uint8_t>(data_.get(), total);
    return MessageState::Complete;
}

void CryptoStream::clear() {
    contiguous_ = 0;
    if (bits_) std::fill_n(bits_.get(), (capacity_ + 63) / 64, uint64_t{0});
}

}  // namespace sybilwatch::quic
