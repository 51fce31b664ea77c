// keel/core/clock.hpp
//
// clock is how keel reads time and waits, so that every timing rule (retry
// backoff, breaker wait, alert `for`, cache expiry, health timeouts) can be
// tested on a manual_clock without sleeping.
//
//   const keel::clock& c = keel::clock::real();
//   auto t0 = c.steady_now();
//
//   keel::manual_clock fake;              // starts at an arbitrary fixed instant
//   fake.advance(std::chrono::seconds(30));
//   fake.sleep_for(std::chrono::seconds(1));   // returns at once, time moves on
//
// Thread safety: real() is stateless. manual_clock may be read and advanced
// from any thread (atomics); sleepers on a manual clock never block.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace keel {

class clock {
 public:
  using steady_time = std::chrono::steady_clock::time_point;
  using system_time = std::chrono::system_clock::time_point;
  using duration = std::chrono::nanoseconds;

  virtual ~clock() = default;

  // Monotonic time for durations and deadlines.
  virtual steady_time steady_now() const noexcept = 0;
  // Wall-clock time for timestamps.
  virtual system_time system_now() const noexcept = 0;
  // Blocks the calling thread for `d` (a manual clock advances instead).
  virtual void sleep_for(duration d) const = 0;

  // The process's real clocks.
  static const clock& real() noexcept;
};

// manual_clock
//
// Time stands still until advance() or sleep_for() moves it. Both clocks
// move together. sleep_for() counts its calls and total, for assertions.
class manual_clock final : public clock {
 public:
  manual_clock() noexcept;
  explicit manual_clock(system_time start) noexcept;

  steady_time steady_now() const noexcept override;
  system_time system_now() const noexcept override;
  void sleep_for(duration d) const override;

  void advance(duration d) noexcept;
  void set_system(system_time t) noexcept;

  std::uint64_t sleep_calls() const noexcept { return sleeps_.load(std::memory_order_relaxed); }
  duration slept() const noexcept { return duration(slept_ns_.load(std::memory_order_relaxed)); }

 private:
  std::atomic<std::int64_t> steady_ns_;
  std::atomic<std::int64_t> system_ns_;
  mutable std::atomic<std::uint64_t> sleeps_{0};
  mutable std::atomic<std::int64_t> slept_ns_{0};
};

}  // namespace keel
