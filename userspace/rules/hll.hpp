// HyperLogLog distinct counting.
//
// Hll: the classic mergeable sketch. Precision p (4..18, default 14: 16384 registers, standard
// error 1.04/sqrt(m) = 0.81%, so 1 million distinct values land within 2% with margin). It
// starts sparse (HLL++ style: a sorted list of 25-bit-index registers, exact-ish for small
// sets and 4 bytes per distinct register) and turns dense (one byte per register) once the
// list would be as large as the dense array. Estimates use Ertl's improved estimator (2017),
// which is unbiased across the whole range without HLL++'s empirical bias tables.
//
// SlidingHll: registers that forget, for distinct counts over a sliding window. Each register
// keeps a truncated "list of possible future maxima" (Chabchoub & Hebrail, Sliding
// HyperLogLog, 2010): (rank, time) pairs, oldest first, each older entry with a larger rank;
// its value at `now` is the oldest live entry's rank. The full list averages ln(n/m) entries;
// three are kept. On overflow the entry whose absence costs least (rank difference to the next
// entry x the time it would have been the register's value) is dropped, never the maximum:
// keeping only the newest would lose the new maximum when the population shifts (old values
// stop, new ones arrive), keeping only the oldest would lose everything newer. A dropped
// entry makes the register read low until it would itself have expired. Times are 32-bit
// ticks of at least one second, so a value expires up to one tick early; that is far inside the
// sketch's error. A SlidingHll holds only the registers in use until a quarter are (16 B each,
// up to 16 KiB), then all of them (64 KiB at the default precision).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "rules/state_codec.hpp"
#include "rules/window.hpp"

namespace sybilwatch::rules {

// Ertl's estimator from a register-value histogram: hist[k] = registers holding k, for
// k = 0..q+1 where q = 64 - p. m = number of registers.
double hll_estimate(std::span<const uint32_t> hist, double m);

class Hll {
  public:
    static constexpr int kDefaultPrecision = 14;
    static constexpr int kSparsePrecision = 25;

    explicit Hll(int precision = kDefaultPrecision);

    // `hash` is any 64-bit hash of the value; it is re-mixed, so weak hashes are fine.
    void add(uint64_t hash);
    double estimate() const;
    // Union. Both sketches must have the same precision (returns false otherwise).
    bool merge(const Hll& other);

    int precision() const { return p_; }
    bool is_sparse() const { return dense_.empty(); }
    size_t memory_bytes() const { return sparse_.capacity() * 4 + dense_.capacity(); }

    void save(StateWriter& w) const;
    static std::optional<Hll> load(StateReader& r);

  private:
    void add_sparse(uint32_t entry);
    void to_dense();
    void set_dense(uint32_t sparse_entry);

    int p_;
    std::vector<uint32_t> sparse_;  // sorted by index: (25-bit index << 6) | rank
    std::vector<uint8_t> dense_;    // 2^p registers once dense
};

class SlidingHll {
  public:
    static constexpr int kDefaultPrecision = 12;  // 4096 registers, 1.6% error, <= 64 KiB
    static constexpr int kEntries = 3;

    // The window decides liveness; the tick is max(1 s, window resolution).
    SlidingHll(Window window, int precision = kDefaultPrecision);

    void add(uint64_t hash, int64_t t, int64_t now);
    // Starts loading what add(hash, ...) reads: its block (stage 0), then, once that has
    // arrived, a sparse sketch's registers of the block (stage 1).
    void prefetch(uint64_t hash, int stage) const;
    // The estimate at `now`. Expired entries are dropped in place (add() does the same for
    // the register it touches), so the sketch's clock only moves forward: at a `now` older
    // than an earlier call's, entries that had expired by then stay gone.
    double estimate(int64_t now);
    void merge(const SlidingHll& other);

    int precision() const { return p_; }
    bool is_sparse() const { return regs_.empty(); }
    size_t memory_bytes() const {
        return (regs_.capacity() + sparse_.capacity()) * sizeof(Reg) +
               blocks_.capacity() * sizeof(Block) + hist_.capacity() * 4;
    }
    void save(StateWriter& w) const;
    // Loads registers saved by save() into this sketch (same precision required).
    bool load(StateReader& r);

  private:
    struct Reg {
        uint32_t t[kEntries] = {};  // ticks, ascending
        uint8_t r[kEntries] = {};   // ranks, descending; 0 = unused
        uint8_t pos = 0;            // sparse: its index within its block (in the padding)
    };
    // kBlock registers. One line holds both what an add reads (the end) and updates (min).
    struct Block {
        uint32_t min = UINT32_MAX;  // <= every used register's first tick
        uint16_t end = 0;           // sparse: registers held in blocks up to this one
    };
    // Sparse first: a distinct counter turns into a sketch at about a thousand values, which
    // use under a thousand of the 4096 registers, so only the used ones are kept (sorted by
    // index, found through their block) until a quarter of them are used; then all of them.
    // An estimate is a histogram of the registers' values. Recomputing it means settling
    // every register; the engine asks once per second per large group, so the histogram is
    // kept current instead, and each block of registers keeps a lower bound of its
    // registers' oldest ticks, so an estimate settles only blocks where one has expired.
    static constexpr size_t kBlock = 16;  // Reg::pos holds an index within a block

    static void insert(Reg& g, uint32_t tk, uint8_t rank);
    uint32_t tick(int64_t t) const;
    // The newest tick that has expired at `now`: a tick is live iff it is greater.
    int64_t expired_through(int64_t now) const;
    static void settle(Reg& g, int64_t expired);  // drops expired entries
    // Register idx, added (empty) to a sparse sketch if absent (*added then says so).
    Reg& reg(uint32_t idx, bool* added = nullptr);
    void to_dense();
    void drop_empty();  // a sparse sketch lets go of registers that have expired
    template <class F>
    void for_each_reg(F f) const;  // f(idx, reg) for every register a sparse sketch holds
    void noted(uint32_t idx, const Reg& g, uint8_t before);  // after register idx changed
    void recount();  // hist_ and the blocks' minima from the registers

    Window window_;
    int64_t tick_ns_;
    Divisor tick_div_;  // tick_ns_
    int p_;
    std::vector<Reg> regs_;      // dense: all 2^p registers; empty while sparse
    std::vector<Reg> sparse_;    // sparse: the registers held, ascending index
    uint32_t sparse_empty_ = 0;  // held registers that have expired
    std::vector<Block> blocks_;
    std::vector<uint32_t> hist_;  // registers per value (entry 0's rank), 64 - p + 2
    uint32_t low_ = UINT32_MAX;   // <= every block's min: nothing expired above it
    double cached_ = 0;           // the estimate from hist_, while it has not changed
    bool cached_valid_ = false;
    int64_t clock_ = INT64_MIN;  // the latest `now` seen
};

}  // namespace sybilwatch::rules
