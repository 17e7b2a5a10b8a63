// Reassembles one direction's CRYPTO stream in the Initial packet number space: frames in any
// order, split across packets, retransmitted or overlapping, into a fixed window at the start
// of the stream. The bytes are kept by net::StreamReassembler, the same reassembly the TCP
// path uses (CRYPTO offsets inside the window fit its 32-bit sequence space). The window is
// allocated on the first byte and never grows: data past it is dropped, and a handshake message
// larger than the window is reported as such.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "net/buffer_pool.hpp"
#include "net/stream_reassembler.hpp"

namespace sybilwatch::quic {

class CryptoStream {
  public:
    // Does not allocate; the window is allocated by the first add() that stores bytes.
    explicit CryptoStream(size_t capacity) : capacity_(capacity), pool_(capacity, 1) {}

    enum class AddResult : uint8_t {
        Stored,         // at least one new byte
        Duplicate,      // every byte was already there (retransmission) or data was empty
        OutOfWindow,    // starts at or past the window: ignored
        TooFragmented,  // more holes than the reassembler tracks: the stream is abandoned
    };

    // Stores the bytes at stream offset `offset`. Where a byte has already arrived, the first
    // copy wins, so a later frame cannot rewrite what an earlier one delivered.
    AddResult add(uint64_t offset, std::span<const uint8_t> data);

    enum class MessageState : uint8_t { Incomplete, Complete, TooLarge };

    // The first TLS handshake message (type, 3-byte length, body) once all its bytes are here.
    // TooLarge: its declared length does not fit the window, so it can never complete.
    MessageState first_message(std::span<const uint8_t>& out) const;

    size_t contiguous() const { return stream_.contiguous().size(); }  // bytes from 0, no hole
    std::span<const uint8_t> prefix() const { return stream_.contiguous(); }
    size_t capacity() const { return capacity_; }
    bool allocated() const { return pool_.allocated() > 0; }

    // Forgets all bytes but keeps the window for reuse.
    void clear();

  private:
    size_t capacity_;
    net::BufferPool pool_;  // one window, kept for reuse after clear()
    net::StreamReassembler stream_;
};

}  // namespace sybilwatch::quic
