// apps/keel/load/histogram.hpp
//
// latency_histogram records durations in nanoseconds in log-linear buckets,
// the way HdrHistogram does: 64 sub-buckets per power of two, so any
// recorded value is reported within 1/64 (1.6 %) of itself, over the whole
// range 0 .. 2^63 ns, in a fixed 30 KiB array.
//
//   latency_histogram h;
//   h.record(1'250'000);                 // 1.25 ms
//   std::uint64_t p99 = h.percentile(99.0);
//   total.merge(h);                      // per-thread histograms merged at the end
//
// percentile() returns the highest value equivalent to the bucket holding
// the requested rank (never below the true value), clamped to the exact max.
//
// Thread safety: none; one histogram per thread, merged afterwards.
// Cost: record() is a bit scan, a shift and an increment; no allocation.
#pragma once

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <limits>

namespace keel::cli::load {

class latency_histogram {
 public:
  static constexpr int sub_bucket_bits = 7;  // 128 linear values
  static constexpr std::uint64_t sub_bucket_count = 1u << sub_bucket_bits;
  static constexpr std::uint64_t half_count = sub_bucket_count / 2;
  static constexpr std::size_t bucket_slots = half_count * (64 - sub_bucket_bits + 2);

  void record(std::uint64_t ns) noexcept {
    ++counts_[index_of(ns)];
    ++total_;
    sum_ += ns;
    if (ns > max_) max_ = ns;
    if (ns < min_) min_ = ns;
  }

  void merge(const latency_histogram& o) noexcept;
  void reset() noexcept;

  std::uint64_t count() const noexcept { return total_; }
  std::uint64_t max() const noexcept { return total_ ? max_ : 0; }
  std::uint64_t min() const noexcept { return total_ ? min_ : 0; }
  double mean() const noexcept {
    return total_ ? static_cast<double>(sum_) / static_cast<double>(total_) : 0.0;
  }
  // The value at percentile `p` in [0, 100]; 0 when empty.
  std::uint64_t percentile(double p) const noexcept;

  // Bucket arithmetic, exposed for tests.
  static std::size_t index_of(std::uint64_t v) noexcept {
    if (v < sub_bucket_count) return static_cast<std::size_t>(v);
    const int shift = std::bit_width(v) - sub_bucket_bits;  // ≥ 1: v >> shift in [64, 128)
    return static_cast<std::size_t>(half_count * static_cast<std::uint64_t>(shift) + (v >> shift));
  }
  // The highest value that lands in bucket `i`.
  static std::uint64_t highest_of(std::size_t i) noexcept;

 private:
  std::array<std::uint64_t, bucket_slots> counts_{};
  std::uint64_t total_ = 0;
  std::uint64_t sum_ = 0;
  std::uint64_t max_ = 0;
  std::uint64_t min_ = std::numeric_limits<std::uint64_t>::max();
};

}  // namespace keel::cli::load
