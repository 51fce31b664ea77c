#include "keel/core/random.hpp"

#include <sys/random.h>

#include <atomic>
#include <chrono>
#include <cstring>

namespace keel {

std::uint64_t os_random_u64() {
  std::uint64_t v = 0;
  // getrandom on a 8-byte request never returns short once the pool is
  // initialised; fall back to mixing time and an address if it fails.
  if (getrandom(&v, sizeof v, 0) != static_cast<ssize_t>(sizeof v)) {
    static std::atomic<std::uint64_t> fallback{0x9e3779b97f4a7c15ULL};
    auto t =
        static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
    std::uint64_t s =
        fallback.fetch_add(0x9e3779b97f4a7c15ULL) ^ t ^ reinterpret_cast<std::uintptr_t>(&v);
    v = wyrand_next(s);
  }
  return v;
}

std::uint64_t random_source::next_below(std::uint64_t bound) noexcept {
  if (bound == 0) return 0;
  // Lemire's multiply-shift; the tiny bias (< bound / 2^64) is irrelevant here.
  return static_cast<std::uint64_t>((static_cast<uint128_t>(next_u64()) * bound) >> 64);
}

namespace {
class thread_random final : public random_source {
 public:
  std::uint64_t next_u64() noexcept override {
    thread_local std::uint64_t state = os_random_u64();
    return wyrand_next(state);
  }
};
}  // namespace

random_source& random_source::thread_safe() noexcept {
  static thread_random r;
  return r;
}

}  // namespace keel
