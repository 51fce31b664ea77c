// keel/resilience/retry_budget.hpp
//
// A retry budget caps the extra load retries put on a dependency: over a
// sliding window, retries may add at most `ratio` of the calls made, plus a
// floor of `min_retries_per_second` so that a quiet client can still retry.
// When a dependency fails for everyone, per-call retry limits still multiply
// the load by max_attempts; a budget shared by every retry towards that
// dependency keeps it at (1 + ratio), so retries cannot storm it.
//
//   auto budget = std::make_shared<keel::resilience::retry_budget>(
//       keel::resilience::retry_budget_config{.ratio = 0.1, .min_retries_per_second = 5});
//   keel::resilience::retry r({.name = "payments", .budget = budget});
//
// The window is split in ten buckets; a retry is allowed while
//   retries_in_window < min_retries_per_second * window_seconds + ratio * calls_in_window.
//
// Thread safety: all member functions may be called concurrently; under a
// race the budget may let a retry or two more through than the formula.
// Cost: record_call() reads the clock and increments one atomic.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>

#include "keel/core/clock.hpp"
#include "keel/core/result.hpp"

namespace keel::resilience {

// retry_budget_config
//
// Defaults (Finagle's): 20 % extra load, 10 retries per second, 10 s window.
struct retry_budget_config {
  double ratio = 0.2;
  double min_retries_per_second = 10;
  clock::duration window = std::chrono::seconds(10);

  result<void> validate() const;
};

class retry_budget {
 public:
  // Throws keel::exception (CONFIGURATION_ERROR) when config is not valid.
  explicit retry_budget(retry_budget_config config = {}, const clock& c = clock::real());

  // Counts one call (a first attempt) into the window.
  void record_call() noexcept;
  // Takes one retry from the budget; false when it is spent.
  bool try_acquire_retry() noexcept;

  // Calls and retries currently in the window.
  std::uint64_t calls_in_window() const noexcept;
  std::uint64_t retries_in_window() const noexcept;
  const retry_budget_config& config() const noexcept { return config_; }

 private:
  static constexpr std::size_t kBuckets = 10;
  struct bucket {
    std::atomic<std::int64_t> epoch{-1};
    std::atomic<std::uint64_t> calls{0};
    std::atomic<std::uint64_t> retries{0};
  };
  std::int64_t epoch_now() const noexcept;
  bucket& current(std::int64_t epoch) noexcept;
  void sum(std::int64_t epoch, std::uint64_t& calls, std::uint64_t& retries) const noexcept;

  retry_budget_config config_;
  const clock& clock_;
  std::int64_t bucket_ns_;
  std::array<bucket, kBuckets> buckets_{};
};

}  // namespace keel::resilience
