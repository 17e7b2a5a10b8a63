// Classic pcap files read in place through mmap: the fast path of PcapFile. Frames are views
// into the mapping, so a record is never copied (libpcap copies each one into its buffer, which
// was a quarter of `sybilwatch fingerprint`'s time on large files). pcapng and anything else go
// through libpcap; a test checks both readers yield the same frames.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "capture/frame.hpp"

namespace sybilwatch::capture {

class MappedPcap {
  public:
    // Maps `path` when it is a classic pcap file (any byte order, micro- or nanosecond
    // timestamps) of a link type we decode; nullptr otherwise (then use libpcap). Throws
    // std::runtime_error when the file cannot be opened or mapped.
    static std::unique_ptr<MappedPcap> open(const std::string& path);

    struct Key {};  // only open() constructs one
    MappedPcap(Key, const std::string& path, const uint8_t* base, size_t size);
    ~MappedPcap();
    MappedPcap(const MappedPcap&) = delete;
    MappedPcap& operator=(const MappedPcap&) = delete;

    // The next record; false at the end or at a record that runs past the end of the file or
    // is implausible (error() says which, with libpcap's wording for a truncated file).
    bool next(Frame& out);
    const std::string& error() const { return error_; }

  private:
    uint32_t u32(size_t off) const;
    void release_behind(size_t pos);
    void prefetch_ahead();

    std::string path_;
    const uint8_t* base_;
    size_t size_;
    size_t pos_ = 24;
    size_t released_ = 0;   // bytes at the start already given back (page-aligned)
    size_t populated_ = 0;  // page tables are set up below this offset (MADV_POPULATE_READ)
    bool populate_ = true;
    bool swapped_ = false;
    bool nanos_ = false;
    uint32_t snaplen_ = 0;
    net::LinkType link_ = net::LinkType::Ethernet;
    std::string error_;
};

}  // namespace sybilwatch::capture
