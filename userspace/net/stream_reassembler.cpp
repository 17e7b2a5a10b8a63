#include "net/stream_reassembler.hpp"

#include <algorithm>
#include <cstring>

namespace sybilwatch::net {

StreamReassembler::Result StreamReassembler::add(uint32_t seq, std::span<const uint8_t> data,
                                                 BufferPool& pool) {
    if (failed_) return Result::TooFragmented;
    if (data.empty()) return Result::Duplicate;
    if (!started_) start(seq);

    // Offset in sequence space, modulo 2^32: data before the start is negative.
    int64_t off = static_cast<int32_t>(seq - base_);
    int64_t end = off + static_cast<int64_t>(data.size());
    if (end <= 0) return Result::Duplicate;
    if (off < 0) {
        data = data.subspan(static_cast<size_t>(-off));
        off = 0;
    }
    if (!buf_) {
        buf_ = pool.acquire();
        if (!buf_) {
            failed_ = true;
            return Result::NoMemory;
        }
    }
    const int64_t cap = static_cast<int64_t>(buf_.data().size());
    if (off >= cap) return Result::OutOfWindow;
    end = std::min(end, cap);
    data = data.first(static_cast<size_t>(end - off));

    // Copy only into the holes (first copy wins), then merge the new range in.
    auto b = static_cast<uint32_t>(off), e = static_cast<uint32_t>(end);
    bool added = false;
    uint32_t cursor = b;
    auto copy = [&](uint32_t from, uint32_t to) {
        if (to > from) {
            std::memcpy(buf_.data().data() + from, data.data() + (from - b), to - from);
            added = true;
        }
    };
    size_t i = 0;
    while (i < nranges_ && ranges_[i].end < b)
        ++i;
    for (size_t j = i; j < nranges_ && ranges_[j].begin <= e && cursor < e; ++j) {
        copy(cursor, std::min(ranges_[j].begin, e));
        cursor = std::max(cursor, ranges_[j].end);
    }
    if (cursor < e) copy(cursor, e);
    if (!added) return Result::Duplicate;

    // Merge [b, e) with every range it touches (ranges stay sorted and disjoint).
    size_t j = i;
    uint32_t nb = b, ne = e;
    while (j < nranges_ && ranges_[j].begin <= e) {
        nb = std::min(nb, ranges_[j].begin);
        ne = std::max(ne, ranges_[j].end);
        ++j;
    }
    const size_t merged = j - i;  // ranges replaced by one
    if (merged == 0) {
        if (nranges_ == kMaxRanges) {
            failed_ = true;
            return Result::TooFragmented;
        }
        std::move_backward(ranges_.begin() + i, ranges_.begin() + nranges_,
                           ranges_.begin() + nranges_ + 1);
        ++nranges_;
    } else if (merged > 1) {
        std::move(ranges_.begin() + j, ranges_.begin() + nranges_, ranges_.begin() + i + 1);
        nranges_ -= merged - 1;
    }
    ranges_[i] = {nb, ne};
    return Result::Added;
}

std::span<const uint8_t> StreamReassembler::contiguous() const {
    if (!buf_ || nranges_ == 0 || ranges_[0].begin != 0) return {};
    return buf_.data().first(ranges_[0].end);
}

}  // namespace sybilwatch::net
