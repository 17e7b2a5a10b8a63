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
// sketch's error.
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
    static constexpr int kDefaultPrecision = 12;  // 4096 registers, 1.6% error, 64 KiB
    static constexpr int kEntries = 3;

    // The window decides liveness; the tick is max(1 s, window resolution).
    SlidingHll(Window window, int precision = kDefaultPrecision);

    void add(uint64_t hash, int64_t t, int64_t now);
    double estimate(int64_t now) const;
    void merge(const SlidingHll& other);

    int precision() const { return p_; }
    size_t memory_bytes() const { return regs_.capacity() * sizeof(Reg); }
    void save(StateWriter& w) const;
    // Loads registers saved by save() into this sketch (same precision required).
    bool load(StateReader& r);

  private:
    struct Reg {
        uint32_t t[kEntries] = {};  // ticks, ascending
        uint8_t r[kEntries] = {};   // ranks, descending; 0 = unused
    };
    static void insert(Reg& g, uint32_t tk, uint8_t rank);
    uint32_t tick(int64_t t) const;
    bool live(uint32_t tick, int64_t now) const;
    void settle(Reg& g, int64_t now) const;  // drops expired entries

    Window window_;
    int64_t tick_ns_;
    int p_;
    std::vector<Reg> regs_;
};

}  // namespace sybilwatch::rules
