#include "keel/resilience/backoff.hpp"

#include <algorithm>
#include <cmath>

namespace keel::resilience {
namespace {

using rep = clock::duration::rep;

// Uniform in [lo, hi) nanoseconds; lo when the range is empty.
clock::duration uniform(clock::duration lo, clock::duration hi, random_source& rng) noexcept {
  if (hi <= lo) return lo;
  return lo + clock::duration(
                  static_cast<rep>(rng.next_below(static_cast<std::uint64_t>((hi - lo).count()))));
}

}  // namespace

clock::duration backoff::delay(std::uint32_t retry, clock::duration previous,
                               random_source& rng) const noexcept {
  if (retry == 0) retry = 1;
  if (jitter == jitter_kind::decorrelated) {
    const clock::duration prev = previous < initial ? initial : previous;
    // 3 * previous, saturated so it cannot overflow for absurd previous values.
    const clock::duration hi = prev > max ? max * 3 : clock::duration(prev.count() * 3);
    return std::min(max, uniform(initial, hi, rng));
  }
  // The curve in floating point, capped before converting back so that a
  // large exponent saturates instead of overflowing.
  double d = 0;
  switch (kind) {
    case backoff_kind::constant:
      d = static_cast<double>(initial.count());
      break;
    case backoff_kind::linear:
      d = static_cast<double>(initial.count()) * static_cast<double>(retry);
      break;
    case backoff_kind::exponential:
      d = static_cast<double>(initial.count()) *
          std::pow(multiplier, static_cast<double>(retry - 1));
      break;
  }
  const double cap = static_cast<double>(max.count());
  const clock::duration capped(static_cast<rep>(std::isfinite(d) && d < cap ? d : cap));
  switch (jitter) {
    case jitter_kind::none:
    case jitter_kind::decorrelated:
      return capped;
    case jitter_kind::full:
      return uniform(clock::duration::zero(), capped, rng);
    case jitter_kind::equal:
      return capped / 2 + uniform(clock::duration::zero(), capped - capped / 2, rng);
  }
  return capped;
}

result<void> backoff::validate() const {
  if (initial <= clock::duration::zero()) {
    return fail(codes::configuration_error, "backoff.initial must be positive");
  }
  if (max < initial) return fail(codes::configuration_error, "backoff.max must be >= initial");
  if (max > std::chrono::hours(24))
    return fail(codes::configuration_error, "backoff.max must be <= 24h");
  if (!std::isfinite(multiplier) || multiplier < 1.0) {
    return fail(codes::configuration_error, "backoff.multiplier must be finite and >= 1");
  }
  return ok();
}

}  // namespace keel::resilience
