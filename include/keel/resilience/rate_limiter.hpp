// keel/resilience/rate_limiter.hpp
//
// Token-bucket rate limiting: `rate_per_second` tokens flow in, at most
// `burst` are kept, a call takes one. A call without a token is rejected at
// once with RATE_LIMITED whose retry_after() is the time until a token will be
// there (the Retry-After an HTTP layer sends back).
//
//   keel::resilience::rate_limiter outbound({.name = "geo-api", .rate_per_second = 50, .burst =
//   10}); auto r = outbound.call([&] { return geo.lookup(ip); });
//
//   keel::resilience::keyed_rate_limiter per_client({.name = "api", .rate_per_second = 5,
//                                                    .burst = 20, .max_keys = 100'000});
//   if (auto t = per_client.try_acquire(client_ip); !t) return problem(t.error());
//
// The bucket is kept as a GCRA "theoretical arrival time" in one atomic, so
// taking a token is one compare-and-swap. keyed_rate_limiter holds one bucket
// per key in a sharded LRU bounded by `max_keys`: when full, the least
// recently used key is forgotten and starts again with a full bucket (the
// bound trades memory for at most one extra burst per evicted key). Keys
// longer than `max_key_length` are rejected with VALIDATION_ERROR.
//
// Thread safety: all member functions may be called concurrently.
// Cost: rate_limiter: one clock read and one CAS. keyed_rate_limiter: a hash,
// one shard mutex and a map lookup (it is meant for per-request admission at
// the edge, not for inner hot loops); a new key allocates.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <limits>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "keel/core/clock.hpp"
#include "keel/core/result.hpp"
#include "keel/resilience/events.hpp"

namespace keel::resilience {

// rate_limiter_config
//
// Defaults: 100 per second, burst 100; keyed: 10000 keys of up to 256 bytes.
struct rate_limiter_config {
  std::string name{};
  double rate_per_second = 100;  // (0, 1e9]
  std::uint32_t burst = 100;     // 1..1e6
  std::size_t max_keys = 10'000;
  std::size_t max_key_length = 256;
  std::shared_ptr<event_listener> listener{};

  result<void> validate() const;
};

// gcra
//
// The bucket's rule without its state. The state is one "theoretical arrival
// time" (nanoseconds on the steady clock) that the caller keeps in an atomic
// of its own, so a table of buckets costs 8 bytes a bucket (keel::http's
// per-client table keeps its buckets so). Taking a token is one CAS, and a
// caller whose `now` is older than the state's only waits longer: time read
// before a concurrent take never refills the bucket.
class gcra {
 public:
  // The state of a full bucket.
  static constexpr std::int64_t full = std::numeric_limits<std::int64_t>::min();

  gcra(double rate_per_second, std::uint32_t burst) noexcept;
  // Takes a token at `now`: zero on success, else the wait until one is free.
  clock::duration try_take(std::atomic<std::int64_t>& state, clock::steady_time now) const noexcept;

 private:
  std::int64_t interval_ns_;
  std::int64_t tolerance_ns_;
};

// token_bucket
//
// The bucket itself, without naming or events.
class token_bucket {
 public:
  token_bucket(double rate_per_second, std::uint32_t burst) noexcept
      : rule_(rate_per_second, burst) {}
  // Takes a token at `now`: zero on success, else the wait until one is free.
  clock::duration try_take(clock::steady_time now) noexcept { return rule_.try_take(tat_, now); }

 private:
  gcra rule_;
  std::atomic<std::int64_t> tat_{gcra::full};
};

// rate_limiter — one bucket for one dependency or route.
class rate_limiter {
 public:
  // Throws keel::exception (CONFIGURATION_ERROR) when config is not valid.
  explicit rate_limiter(rate_limiter_config config = {}, const clock& c = clock::real());

  // ok, or RATE_LIMITED with retry_after.
  result<void> try_acquire();

  template <class F>
  auto call(F&& f) -> decltype(keel::try_call(f)) {
    if (auto a = try_acquire(); !a) return fail(std::move(a.error()));
    return keel::try_call(f);
  }

  const std::string& name() const noexcept { return config_.name; }

 private:
  rate_limiter_config config_;
  const clock& clock_;
  event_listener* listener_;
  token_bucket bucket_;
};

// keyed_rate_limiter — one bucket per key, bounded.
class keyed_rate_limiter {
 public:
  // Throws keel::exception (CONFIGURATION_ERROR) when config is not valid.
  explicit keyed_rate_limiter(rate_limiter_config config = {}, const clock& c = clock::real());
  ~keyed_rate_limiter();

  // ok, RATE_LIMITED (with retry_after) or VALIDATION_ERROR for a bad key.
  result<void> try_acquire(std::string_view key);

  template <class F>
  auto call(std::string_view key, F&& f) -> decltype(keel::try_call(f)) {
    if (auto a = try_acquire(key); !a) return fail(std::move(a.error()));
    return keel::try_call(f);
  }

  // Keys currently tracked (<= max_keys).
  std::size_t size() const;
  const std::string& name() const noexcept { return config_.name; }

 private:
  static constexpr std::size_t kShards = 16;
  struct shard;
  rate_limiter_config config_;
  const clock& clock_;
  event_listener* listener_;
  std::size_t per_shard_;
  std::unique_ptr<shard[]> shards_;
};

}  // namespace keel::resilience
