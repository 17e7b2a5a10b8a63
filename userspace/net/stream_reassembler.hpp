// Reassembles the first bytes of one direction of a TCP stream (a ClientHello or ServerHello
// flight): segments in any order, retransmitted or overlapping, into a bounded buffer. The one
// reassembly implementation, used by the pcap path and the eBPF path alike.
#pragma once

#include <array>
#include <cstdint>
#include <span>

#include "net/buffer_pool.hpp"

namespace sybilwatch::net {

class StreamReassembler {
  public:
    static constexpr size_t kMaxRanges = 32;  // holes allowed before giving up on a stream

    enum class Result : uint8_t {
        Added,          // new bytes stored
        Duplicate,      // nothing new (retransmission, or data before the start)
        OutOfWindow,    // lies entirely past the buffer: ignored
        TooFragmented,  // too many holes: the stream is abandoned
        NoMemory,       // the pool had no buffer left
    };

    // Starts the stream: `seq` is the sequence number of the first payload byte (ISN + 1).
    void start(uint32_t seq) {
        base_ = seq;
        started_ = true;
        nranges_ = 0;
        failed_ = false;
    }
    bool started() const { return started_; }
    bool failed() const { return failed_; }
    uint32_t base() const { return base_; }

    // Stores a segment. The first overlapping byte to arrive wins: later copies of the same
    // offset are ignored, so a retransmission with different bytes cannot rewrite a hello.
    Result add(uint32_t seq, std::span<const uint8_t> data, BufferPool& pool);

    // Bytes from the stream start with no hole.
    std::span<const uint8_t> contiguous() const;
    // Whether any byte has been buffered (a buffer is held).
    bool buffering() const { return static_cast<bool>(buf_); }
    size_t ranges() const { return nranges_; }

    // Releases the buffer and forgets the stream.
    void reset() {
        buf_.reset();
        started_ = false;
        nranges_ = 0;
        failed_ = false;
    }

  private:
    struct Range {
        uint32_t begin, end;  // offsets from base_, end exclusive
    };
    BufferPool::Handle buf_;
    std::array<Range, kMaxRanges> ranges_{};
    size_t nranges_ = 0;
    uint32_t base_ = 0;
    bool started_ = false;
    bool failed_ = false;
};

}  // namespace sybilwatch::net
