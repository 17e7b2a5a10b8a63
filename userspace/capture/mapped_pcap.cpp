#include "capture/mapped_pcap.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include <algorithm>

#include "net/unique_fd.hpp"

namespace sybilwatch::capture {

namespace {

constexpr uint32_t kMicro = 0xa1b2c3d4, kNano = 0xa1b23c4d;
constexpr size_t kFileHeader = 24, kRecordHeader = 16;
// Record header, Ethernet/VLAN, IPv6 and TCP with options: what decoding a frame reads.
constexpr size_t kPrefetchBytes = 128;
constexpr size_t kPopulateStep = 1u << 20;
// libpcap refuses records larger than this whatever the snaplen says (pcap-common.h).
constexpr uint32_t kMaxSnaplen = 262144;

}  // namespace

std::unique_ptr<MappedPcap> MappedPcap::open(const std::string& path) {
    net::UniqueFd f{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
    if (f.get() < 0) throw std::runtime_error(path + ": " + std::strerror(errno));
    struct stat st;
    if (::fstat(f.get(), &st) != 0) throw std::runtime_error(path + ": " + std::strerror(errno));
    if (!S_ISREG(st.st_mode) || st.st_size < static_cast<off_t>(kFileHeader)) return nullptr;
    uint8_t hdr[kFileHeader];
    if (::pread(f.get(), hdr, sizeof hdr, 0) != static_cast<ssize_t>(sizeof hdr)) return nullptr;
    uint32_t magic;
    std::memcpy(&magic, hdr, 4);
    const bool swapped = magic == __builtin_bswap32(kMicro) || magic == __builtin_bswap32(kNano);
    if (swapped) magic = __builtin_bswap32(magic);
    if (magic != kMicro && magic != kNano) return nullptr;  // pcapng or not a capture

    const auto size = static_cast<size_t>(st.st_size);
    void* map = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, f.get(), 0);
    if (map == MAP_FAILED) throw std::runtime_error(path + ": mmap: " + std::strerror(errno));
    ::madvise(map, size, MADV_SEQUENTIAL);
    auto m = std::make_unique<MappedPcap>(Key{}, path, static_cast<const uint8_t*>(map), size);
    m->swapped_ = swapped;
    m->nanos_ = magic == kNano;
    m->snaplen_ = m->u32(16);
    // LINKTYPE_ numbers (our LinkType's values) in the low 16 bits; the upper bits may carry
    // FCS information. Others are left to libpcap, which names them in its error.
    switch (const uint32_t lt = m->u32(20) & 0xffff) {
        case 0:
        case 1:
        case 101:
        case 108:
        case 113:
        case 228:
        case 229:
        case 276:
            m->link_ = static_cast<net::LinkType>(lt);
            return m;
        default:
            return nullptr;
    }
}

MappedPcap::MappedPcap(Key, const std::string& path, const uint8_t* base, size_t size)
    : path_(path), base_(base), size_(size) {}

MappedPcap::~MappedPcap() {
    ::munmap(const_cast<uint8_t*>(base_), size_);
}

void MappedPcap::release_behind(size_t pos) {
    // Pages before the record being returned are done with (the previous frame's view ended
    // with this call): unmap them every few MiB so the resident set stays small however large
    // the file (the page cache keeps them; nothing is re-read).
    constexpr size_t kStep = 8u << 20;
    if (pos < released_ + 2 * kStep) return;
    const size_t page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
    const size_t upto = (pos - kStep) / page * page;
    ::madvise(const_cast<uint8_t*>(base_) + released_, upto - released_, MADV_DONTNEED);
    released_ = upto;
}

void MappedPcap::prefetch_ahead() {
    // A record's header and its frame's protocol headers are the only bytes of most records
    // the engine reads: one cache miss each, which the hardware prefetcher does not foresee
    // (records of varying length, most of each skipped). They are requested two records
    // ahead: the next record's header, asked for one call ago, says where the one after starts.
    if (size_ - pos_ < kRecordHeader) return;
    const size_t after = pos_ + kRecordHeader + u32(pos_ + 8);
    if (after <= size_ && size_ - after >= kPrefetchBytes) {
        __builtin_prefetch(base_ + after);
        __builtin_prefetch(base_ + after + kPrefetchBytes - 1);
    }
    // Page tables a window ahead, in one call instead of a fault per 16 pages as reading
    // reaches them (MADV_POPULATE_READ: Linux 5.14; without it, the faults it would save).
#ifdef MADV_POPULATE_READ
    if (populate_ && pos_ + kPopulateStep >= populated_ && populated_ < size_) {
        const size_t from = std::max(populated_, pos_ / kPopulateStep * kPopulateStep);
        const size_t n = std::min(kPopulateStep * 2, size_ - from);
        if (::madvise(const_cast<uint8_t*>(base_) + from, n, MADV_POPULATE_READ) != 0)
            populate_ = false;
        populated_ = from + n;
    }
#endif
}

uint32_t MappedPcap::u32(size_t off) const {
    uint32_t v;
    std::memcpy(&v, base_ + off, 4);
    return swapped_ ? __builtin_bswap32(v) : v;
}

bool MappedPcap::next(Frame& out) {
    if (pos_ == size_) return false;
    if (size_ - pos_ < kRecordHeader) {
        error_ = path_ + ": truncated dump file; tried to read " + std::to_string(kRecordHeader) +
                 " header bytes, only got " + std::to_string(size_ - pos_);
        pos_ = size_;
        return false;
    }
    const uint32_t sec = u32(pos_), frac = u32(pos_ + 4), caplen = u32(pos_ + 8),
                   len = u32(pos_ + 12);
    if (caplen > std::max(snaplen_, kMaxSnaplen)) {
        error_ = path_ + ": invalid packet capture length " + std::to_string(caplen) +
                 ", bigger than snaplen of " + std::to_string(std::max(snaplen_, kMaxSnaplen));
        pos_ = size_;
        return false;
    }
    if (size_ - pos_ - kRecordHeader < caplen) {
        error_ = path_ + ": truncated dump file; tried to read " + std::to_string(caplen) +
                 " captured bytes, only got " + std::to_string(size_ - pos_ - kRecordHeader);
        pos_ = size_;
        return false;
    }
    release_behind(pos_);
    out.ts_ns = int64_t(sec) * 1'000'000'000 + (nanos_ ? int64_t(frac) : int64_t(frac) * 1000);
    out.link = link_;
    out.data = {base_ + pos_ + kRecordHeader, caplen};
    out.wire_len = len;
    pos_ += kRecordHeader + caplen;
    prefetch_ahead();
    return true;
}

}  // namespace sybilwatch::capture
