// keel/core/random.hpp
//
// random_source is how keel draws random numbers (jitter, sampling, ids,
// fault injection), so tests can make them deterministic.
//
//   keel::random_source& r = keel::random_source::thread_safe();  // OS-seeded
//   double u = r.next_double();                                   // [0, 1)
//   keel::seeded_random fixed(42);                                // reproducible
//
// The engine is wyrand: 64 bits per call in about a nanosecond, and good
// statistical quality; it is not a cryptographic generator (tokens and keys
// come from the OS, see ids.hpp).
//
// Thread safety: thread_safe() may be used from any thread (each thread has
// its own engine). A seeded_random object is for one thread at a time.
#pragma once

#include <cstdint>

namespace keel {

class random_source {
 public:
  virtual ~random_source() = default;
  virtual std::uint64_t next_u64() noexcept = 0;

  // Uniform in [0, 1).
  double next_double() noexcept { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }
  // Uniform in [0, bound); 0 when bound is 0.
  std::uint64_t next_below(std::uint64_t bound) noexcept;

  // A source backed by a per-thread engine seeded from OS entropy.
  static random_source& thread_safe() noexcept;
};

__extension__ using uint128_t = unsigned __int128;

// wyrand step, exposed for hot paths that keep their own state.
inline std::uint64_t wyrand_next(std::uint64_t& state) noexcept {
  state += 0xa0761d6478bd642fULL;
  const uint128_t m = static_cast<uint128_t>(state) * (state ^ 0xe7037ed1a0b428dbULL);
  return static_cast<std::uint64_t>(m >> 64) ^ static_cast<std::uint64_t>(m);
}

class seeded_random final : public random_source {
 public:
  explicit seeded_random(std::uint64_t seed) noexcept : state_(seed) {}
  std::uint64_t next_u64() noexcept override { return wyrand_next(state_); }

 private:
  std::uint64_t state_;
};

// 64 bits from the OS entropy source (getrandom), for seeds and secrets.
std::uint64_t os_random_u64();

}  // namespace keel
