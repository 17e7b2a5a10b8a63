#include "state/state_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>

#include "net/unique_fd.hpp"

namespace sybilwatch::state {

namespace {

constexpr char kMagic[8] = {'S', 'W', 'S', 'T', 'A', 'T', 'E', '1'};

template <typename T>
void put(std::vector<uint8_t>& out, T v) {
    for (size_t i = 0; i < sizeof(T); ++i)
        out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

class Cursor {
  public:
    explicit Cursor(std::span<const uint8_t> b) : b_(b) {}
    template <typename T>
    T get(const char* what) {
        need(sizeof(T), what);
        T v = 0;
        for (size_t i = 0; i < sizeof(T); ++i)
            v |= static_cast<T>(T(b_[pos_ + i]) << (8 * i));
        pos_ += sizeof(T);
        return v;
    }
    std::span<const uint8_t> bytes(uint64_t n, const char* what) {
        need(n, what);
        auto s = b_.subspan(pos_, n);
        pos_ += n;
        return s;
    }
    size_t left() const { return b_.size() - pos_; }

  private:
    void need(uint64_t n, const char* what) const {
        if (n > b_.size() - pos_) throw StateError(std::string("state truncated in ") + what);
    }
    std::span<const uint8_t> b_;
    size_t pos_ = 0;
};

uint32_t crc(std::span<const uint8_t> b) {
    uLong c = crc32(0L, Z_NULL, 0);
    // zlib takes uInt lengths: feed large buffers in pieces.
    while (!b.empty()) {
        const size_t n = std::min<size_t>(b.size(), 1u << 30);
        c = crc32(c, b.data(), static_cast<uInt>(n));
        b = b.subspan(n);
    }
    return static_cast<uint32_t>(c);
}

[[noreturn]] void fail(const std::string& path, const char* step) {
    throw StateError("state " + path + ": " + step + ": " + std::strerror(errno));
}

}  // namespace

std::vector<uint8_t> encode_state(std::span<const Section> sections) {
    std::vector<uint8_t> out(kMagic, kMagic + sizeof kMagic);
    put<uint32_t>(out, kStateVersion);
    put<uint32_t>(out, static_cast<uint32_t>(sections.size()));
    for (const auto& s : sections) {
        if (s.name.size() > 0xffff) throw StateError("state section name too long");
        put<uint16_t>(out, static_cast<uint16_t>(s.name.size()));
        out.insert(out.end(), s.name.begin(), s.name.end());
        put<uint64_t>(out, s.data.size());
        out.insert(out.end(), s.data.begin(), s.data.end());
    }
    put<uint32_t>(out, crc(out));
    return out;
}

std::vector<Section> decode_state(std::span<const uint8_t> bytes) {
    if (bytes.size() < sizeof kMagic + 12 || std::memcmp(bytes.data(), kMagic, sizeof kMagic) != 0)
        throw StateError("not a sybilwatch state file");
    const auto body = bytes.first(bytes.size() - 4);
    // The structure is parsed (bounds-checked) before the checksum is compared, so that
    // fuzzing reaches the parser; either way a damaged file is an error.
    Cursor c(body.subspan(sizeof kMagic));
    const uint32_t version = c.get<uint32_t>("header");
    if (version != kStateVersion)
        throw StateError("state file version " + std::to_string(version) + ", expected " +
                         std::to_string(kStateVersion));
    const uint32_t n = c.get<uint32_t>("header");
    std::vector<Section> out;
    for (uint32_t i = 0; i < n; ++i) {
        Section s;
        const uint16_t len = c.get<uint16_t>("section name");
        const auto name = c.bytes(len, "section name");
        s.name.assign(name.begin(), name.end());
        const auto size = c.get<uint64_t>("section size");
        const auto data = c.bytes(size, "section data");
        s.data.assign(data.begin(), data.end());
        out.push_back(std::move(s));
    }
    if (c.left() != 0) throw StateError("state file has trailing bytes");
    Cursor tail(bytes.subspan(bytes.size() - 4));
    if (tail.get<uint32_t>("checksum") != crc(body))
        throw StateError("state file damaged (checksum mismatch)");
    return out;
}

void save_state(const std::string& path, std::span<const Section> sections) {
    const auto bytes = encode_state(sections);
    const std::string tmp = path + ".tmp";
    {
        net::UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
        if (!fd) fail(tmp, "open");
        size_t off = 0;
        while (off < bytes.size()) {
            const ssize_t n = ::write(fd.get(), bytes.data() + off, bytes.size() - off);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) fail(tmp, "write");
            off += static_cast<size_t>(n);
        }
        if (::fsync(fd.get()) != 0) fail(tmp, "fsync");
    }
    if (::rename(tmp.c_str(), path.c_str()) != 0) fail(path, "rename");
    // The rename itself must reach the disk, or a crash could bring the old file back.
    const size_t slash = path.rfind('/');
    const std::string dir = slash == std::string::npos ? "." : path.substr(0, slash + 1);
    net::UniqueFd d(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!d || ::fsync(d.get()) != 0) fail(dir, "fsync of the directory");
}

std::optional<std::vector<Section>> load_state(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        if (errno == ENOENT) return std::nullopt;
        fail(path, "open");
    }
    const std::vector<uint8_t> bytes{std::istreambuf_iterator<char>(in),
                                     std::istreambuf_iterator<char>()};
    try {
        return decode_state(bytes);
    } catch (const StateError& e) {
        throw StateError("state " + path + ": " + e.what());
    }
}

const Section* find_section(std::span<const Section> sections, std::string_view name) {
    for (const auto& s : sections)
        if (s.name == name) return &s;
    return nullptr;
}

}  // namespace sybilwatch::state
