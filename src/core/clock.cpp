#include "keel/core/clock.hpp"

#include <thread>

namespace keel {
namespace {

class real_clock final : public clock {
 public:
  steady_time steady_now() const noexcept override { return std::chrono::steady_clock::now(); }
  system_time system_now() const noexcept override { return std::chrono::system_clock::now(); }
  void sleep_for(duration d) const override {
    if (d > duration::zero()) std::this_thread::sleep_for(d);
  }
};

// 2026-01-01T00:00:00Z: a fixed, recognisable start for manual clocks.
constexpr std::int64_t kManualEpochNs = 1'767'225'600'000'000'000LL;

}  // namespace

const clock& clock::real() noexcept {
  static const real_clock c;
  return c;
}

manual_clock::manual_clock() noexcept
    : manual_clock(system_time(std::chrono::nanoseconds(kManualEpochNs))) {}

manual_clock::manual_clock(system_time start) noexcept
    // The steady clock starts far from zero so that "t - 1 minute" never
    // goes below the epoch of steady_clock in tests.
    : steady_ns_(std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::hours(24 * 365))
                     .count()),
      system_ns_(
          std::chrono::duration_cast<std::chrono::nanoseconds>(start.time_since_epoch()).count()) {}

clock::steady_time manual_clock::steady_now() const noexcept {
  return steady_time(std::chrono::duration_cast<steady_time::duration>(
      std::chrono::nanoseconds(steady_ns_.load(std::memory_order_acquire))));
}

clock::system_time manual_clock::system_now() const noexcept {
  return system_time(std::chrono::duration_cast<system_time::duration>(
      std::chrono::nanoseconds(system_ns_.load(std::memory_order_acquire))));
}

void manual_clock::sleep_for(duration d) const {
  sleeps_.fetch_add(1, std::memory_order_relaxed);
  if (d <= duration::zero()) return;
  slept_ns_.fetch_add(d.count(), std::memory_order_relaxed);
  // Sleeping on a manual clock is time passing: const in the interface's
  // sense (the clock's identity), so the counters are mutable atomics.
  const_cast<manual_clock*>(this)->advance(d);
}

void manual_clock::advance(duration d) noexcept {
  steady_ns_.fetch_add(d.count(), std::memory_order_acq_rel);
  system_ns_.fetch_add(d.count(), std::memory_order_acq_rel);
}

void manual_clock::set_system(system_time t) noexcept {
  system_ns_.store(
      std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count(),
      std::memory_order_release);
}

}  // namespace keel
