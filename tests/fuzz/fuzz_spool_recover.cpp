// Arbitrary bytes as a spool segment file (and, from the first byte's choice, a cursor file
// and a second segment): open() must recover without crashing, everything read back must be
// whole records, and the spool must keep working (append, read, ack) afterwards.
#include <stdlib.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "alerts/spool.hpp"

namespace {

namespace fs = std::filesystem;
using sybilwatch::alerts::Spool;
using sybilwatch::alerts::SpoolOptions;
using sybilwatch::alerts::SpoolRecord;

const std::string& work_dir() {
    static const std::string dir = [] {
        // tmpfs when there is one: fuzzing speed is file I/O here.
        std::string tmpl = (fs::exists("/dev/shm") ? "/dev/shm" : "/tmp");
        tmpl += "/sw-fuzz-spool.XXXXXX";
        std::vector<char> buf(tmpl.begin(), tmpl.end());
        buf.push_back('\0');
        if (!::mkdtemp(buf.data())) std::abort();
        return std::string(buf.data());
    }();
    // Removed when the fuzzer exits normally (a crash leaves it for inspection).
    static const struct Cleanup {
        ~Cleanup() {
            std::error_code ec;
            fs::remove_all(dir, ec);
        }
    } cleanup;
    return dir;
}

void write_file(const std::string& path, const uint8_t* p, size_t n) {
    FILE* f = std::fopen(path.c_str(), "wb");
    if (!f) std::abort();
    if (n && std::fwrite(p, 1, n, f) != n) std::abort();
    std::fclose(f);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string& dir = work_dir();
    for (auto& e : fs::directory_iterator(dir))
        fs::remove(e.path());
    if (size == 0) return 0;
    const uint8_t mode = data[0];
    data++;
    size--;
    if ((mode & 1) && size >= 16) {  // a cursor file from the first 16 bytes
        write_file(dir + "/cursor", data, 16);
        data += 16;
        size -= 16;
    }
    if (mode & 2) {  // two segments: the input split in half, the second named after it
        const size_t half = size / 2;
        write_file(dir + "/seg-00000000000000000000.log", data, half);
        write_file(dir + "/seg-00000000000000000003.log", data + half, size - half);
    } else {
        write_file(dir + "/seg-00000000000000000000.log", data, size);
    }

    SpoolOptions o;
    o.sync = false;
    o.max_record = 1 << 16;
    o.max_bytes = 1 << 20;
    o.segment_bytes = 4096;
    std::string error;
    auto spool = Spool::open(dir, o, error);
    if (!spool) std::abort();  // any file content must be recoverable
    std::vector<SpoolRecord> batch;
    uint64_t last = 0;
    bool any = false;
    for (int rounds = 0; rounds < 1000; ++rounds) {
        spool->read(16, 1 << 16, batch);
        if (batch.empty()) break;
        for (const auto& r : batch) {
            if (any && r.seq <= last) std::abort();  // strictly increasing
            if (r.payload.size() > o.max_record) std::abort();
            last = r.seq;
            any = true;
        }
        spool->ack(batch.back().seq + 1);
    }
    if (spool->stats().backlog != 0) std::abort();
    if (!spool->append("after recovery", error)) std::abort();
    spool->read(16, 1 << 16, batch);
    if (batch.size() != 1 || batch[0].payload != "after recovery") std::abort();
    return 0;
}
