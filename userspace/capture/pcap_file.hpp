// Reads pcap and pcapng files with nanosecond timestamps: classic pcap in place (MappedPcap),
// pcapng and the rest through libpcap.
#pragma once

#include <pcap/pcap.h>

#include <memory>
#include <string>

#include "capture/frame.hpp"
#include "capture/mapped_pcap.hpp"
#include "capture/source.hpp"

namespace sybilwatch::capture {

class PcapFile : public Source {
  public:
    // Throws std::runtime_error naming the file and libpcap's reason when it cannot be opened
    // (missing, unreadable, not a capture, unknown link type).
    explicit PcapFile(const std::string& path);

    // The next frame; false at the end of the file or on a read error (see error()).
    bool next(Frame& out);

    // Source: up to a batch of frames per call, -1 at the end of the file.
    int poll(int timeout_ms, EventSink& sink) override;
    bool sees_every_packet() const override { return true; }
    std::string stats() override;

    // Empty after a clean end; otherwise why reading stopped early (a truncated capture).
    std::string error() const override { return error_; }
    uint64_t frames() const { return frames_; }
    // Whether the file is read through the mapping (classic pcap) rather than libpcap.
    bool mapped() const { return mapped_ != nullptr; }

  private:
    struct Closer {
        void operator()(pcap_t* p) const { pcap_close(p); }
    };
    std::unique_ptr<MappedPcap> mapped_;
    std::unique_ptr<pcap_t, Closer> pcap_;
    std::string path_;
    std::string error_;
    net::LinkType link_;
    uint64_t frames_ = 0;
};

// Maps a libpcap DLT_ value to our link type; false for link types we cannot decode.
bool link_type_from_dlt(int dlt, net::LinkType& out);

}  // namespace sybilwatch::capture
