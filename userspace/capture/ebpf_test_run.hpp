// BPF_PROG_TEST_RUN for the TC programs: runs a program on a hand-built Ethernet frame in the
// kernel without attaching it (tests and benchmarks). Needs the same privileges as loading.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace sybilwatch::capture {

struct TestRunResult {
    int error = 0;                  // 0, or the negative errno of the syscall
    int32_t retval = 0;             // the program's return code (TC_ACT_*)
    uint32_t duration_ns = 0;       // mean time per run, as the kernel measured it
    std::vector<uint8_t> data_out;  // the packet after the program: must equal the input
};

// Runs `prog_fd` `repeat` times on `frame` (from its Ethernet header).
TestRunResult bpf_test_run(int prog_fd, std::span<const uint8_t> frame, uint32_t repeat = 1);

// A TC program that only returns TC_ACT_UNSPEC: the baseline the real programs' cost is
// measured against. Owns its file descriptor.
class EmptyTcProgram {
  public:
    EmptyTcProgram();  // throws EbpfError
    ~EmptyTcProgram();
    EmptyTcProgram(const EmptyTcProgram&) = delete;
    EmptyTcProgram& operator=(const EmptyTcProgram&) = delete;
    int fd() const { return fd_; }

  private:
    int fd_ = -1;
};

}  // namespace sybilwatch::capture
