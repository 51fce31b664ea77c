// keel/resilience/backoff.hpp
//
// How long a retry waits before its next attempt: a base curve (constant,
// linear, exponential with a cap) and a jitter that spreads clients apart so
// they do not retry in lock-step (the variants of AWS's "Exponential Backoff
// and Jitter": full, equal, decorrelated).
//
//   keel::resilience::backoff b{.kind = keel::resilience::backoff_kind::exponential,
//                               .initial = 100ms, .multiplier = 2.0, .max = 10s,
//                               .jitter = keel::resilience::jitter_kind::full};
//   auto d1 = b.delay(1, {}, rng);   // uniform in [0, 100ms)
//   auto d2 = b.delay(2, d1, rng);   // uniform in [0, 200ms)
//
// Thread safety: a backoff is an immutable value; delay() is const.
// Cost: a few arithmetic operations and at most one random draw.
#pragma once

#include <chrono>
#include <cstdint>

#include "keel/core/clock.hpp"
#include "keel/core/random.hpp"
#include "keel/core/result.hpp"

namespace keel::resilience {

// backoff_kind
//
// constant:    initial every time.
// linear:      initial * n for the n-th retry.
// exponential: initial * multiplier^(n-1).
// All are capped at `max`.
enum class backoff_kind : std::uint8_t { constant, linear, exponential };

// jitter_kind
//
// With d the capped curve value for retry n:
// none:         d.
// full:         uniform in [0, d).
// equal:        d/2 + uniform in [0, d/2).
// decorrelated: min(max, uniform in [initial, 3 * previous)), previous starting
//               at initial; ignores the curve (AWS's "decorrelated jitter").
enum class jitter_kind : std::uint8_t { none, full, equal, decorrelated };

// backoff
//
// Defaults: exponential from 100 ms doubling to at most 30 s, full jitter.
struct backoff {
  backoff_kind kind = backoff_kind::exponential;
  clock::duration initial = std::chrono::milliseconds(100);
  double multiplier = 2.0;
  clock::duration max = std::chrono::seconds(30);
  jitter_kind jitter = jitter_kind::full;

  // The wait before retry number `retry` (1 for the first retry). `previous`
  // is the wait returned for the retry before (zero for the first), which
  // decorrelated jitter builds on.
  clock::duration delay(std::uint32_t retry, clock::duration previous,
                        random_source& rng) const noexcept;

  // initial > 0, max >= initial, multiplier >= 1 and finite.
  result<void> validate() const;
};

}  // namespace keel::resilience
