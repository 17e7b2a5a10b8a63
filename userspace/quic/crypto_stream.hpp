// Reassembles one direction's CRYPTO stream in the Initial packet number space: frames in any
// order, split across packets, retransmitted or overlapping, into a fixed window at the start
// of the stream. A bitmap marks which bytes arrived, so any pattern of holes is tracked
// exactly. The window is allocated on the first byte and never grows: data past it is dropped,
// and a handshake message larger than the window is reported as such.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

namespace sybilwatch::quic {

class CryptoStream {
  public:
    // Does not allocate; the window is allocated by the first add() that stores bytes.
    explicit CryptoStream(size_t capacity) : capacity_(capacity) {}

    enum class AddResult : uint8_t {
        Stored,       // at least one new byte
        Duplicate,    // every byte was already there (retransmission) or data was empty
        OutOfWindow,  // starts at or past the window: ignored
    };

    // Stores the bytes at stream offset `offset`. Where a byte has already arrived, the first
    // copy wins, so a later frame cannot rewrite what an earlier one delivered.
    AddResult add(uint64_t offset, std::span<const uint8_t> data);

    enum class MessageState : uint8_t { Incomplete, Complete, TooLarge };

    // The first TLS handshake message (type, 3-byte length, body) once all its bytes are here.
    // TooLarge: its declared length does not fit the window, so it can never complete.
    MessageState first_message(std::span<const uint8_t>& out) const;

    size_t contiguous() const { return contiguous_; }  // bytes from offset 0 with no hole
    std::span<const uint8_t> prefix() const { return {data_.get(), contiguous_}; }
    size_t capacity() const { return capacity_; }
    bool allocated() const { return data_ != nullptr; }

    // Forgets all bytes but keeps the window for reuse.
    void clear();

  private:
    bool has(size_t i) const { return (bits_[i / 64] >> (i % 64)) & 1u; }
    void mark(size_t begin, size_t end);

    size_t capacity_;
    size_t contiguous_ = 0;
    std::unique_ptr<uint8_t[]> data_;
    std::unique_ptr<uint64_t[]> bits_;
};

}  // namespace sybilwatch::quic
