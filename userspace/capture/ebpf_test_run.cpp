#include "capture/ebpf_test_run.hpp"

#include <bpf/bpf.h>
#include <linux/bpf.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "capture/ebpf_capture.hpp"

namespace sybilwatch::capture {

TestRunResult bpf_test_run(int prog_fd, std::span<const uint8_t> frame, uint32_t repeat) {
    TestRunResult r;
    // Room for the frame: the programs never grow a packet, so this is a bound, not a guess.
    r.data_out.resize(frame.size() + 256);
    LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame.data(), .data_out = r.data_out.data(),
                .data_size_in = static_cast<uint32_t>(frame.size()),
                .data_size_out = static_cast<uint32_t>(r.data_out.size()),
                .repeat = static_cast<int>(repeat));
    if (bpf_prog_test_run_opts(prog_fd, &opts) != 0) {
        r.error = -errno;
        r.data_out.clear();
        return r;
    }
    r.retval = static_cast<int32_t>(opts.retval);
    r.duration_ns = opts.duration;
    r.data_out.resize(opts.data_size_out);
    return r;
}

EmptyTcProgram::EmptyTcProgram() {
    const bpf_insn insns[] = {
        // r0 = TC_ACT_UNSPEC (-1); exit
        {.code = BPF_ALU64 | BPF_MOV | BPF_K,
         .dst_reg = BPF_REG_0,
         .src_reg = 0,
         .off = 0,
         .imm = -1},
        {.code = BPF_JMP | BPF_EXIT, .dst_reg = 0, .src_reg = 0, .off = 0, .imm = 0},
    };
    fd_ = bpf_prog_load(BPF_PROG_TYPE_SCHED_CLS, "sw_empty", "GPL", insns, 2, nullptr);
    if (fd_ < 0)
        throw EbpfError(std::string("loading the empty TC program: ") + std::strerror(errno));
}

EmptyTcProgram::~EmptyTcProgram() {
    if (fd_ >= 0) close(fd_);
}

}  // namespace sybilwatch::capture
