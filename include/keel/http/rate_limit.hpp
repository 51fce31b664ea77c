// keel/http/rate_limit.hpp
//
// Per-client rate limiting: a token bucket per client IP address in a
// fixed-size table (bounded memory whatever the number of clients), and the
// middleware that applies it to the routes carrying chosen tags.
//
//   auto limit = std::make_shared<keel::http::rate_limit>(keel::http::rate_limit_options{
//       .requests_per_second = 50, .burst = 100, .tag_mask = keel::http::route_tags::public_api});
//
// A client over its rate gets 429 RATE_LIMITED (problem+json) with
// Retry-After. Routes without a tag in tag_mask (health, metrics) are never
// limited.
//
// The table holds `slots` buckets (rounded up to a power of two); a client
// probes 8 slots from its hash and, when all are taken by others, replaces
// the one idle longest — so under a flood of distinct addresses an old
// client may lose its bucket and start full again, but memory stays fixed.
// Each slot is a key and the state of keel::resilience's token-bucket rule
// (keel/resilience/rate_limiter.hpp, `gcra`), two atomics updated by
// compare-and-swap: no lock, and one bucket logic in keel.
//
// Thread safety: all member functions may be called concurrently.
// Cost: a hash probe and one or two CAS on the limited routes; nothing on
// the others.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "keel/core/clock.hpp"
#include "keel/http/middleware.hpp"
#include "keel/resilience/rate_limiter.hpp"

namespace keel::http {

struct rate_limit_options {
  double requests_per_second = 20.0;  // refill rate, > 0
  double burst = 40.0;                // bucket size, >= 1
  std::size_t slots = 16384;          // clients tracked at once
  std::uint32_t tag_mask = route_tags::public_api;
  const keel::clock* clock = nullptr;  // nullptr: the exchange's (the server's) clock
};

// token_bucket_table
//
// The buckets alone, for tests and other callers.
class token_bucket_table {
 public:
  // Throws keel::exception (CONFIGURATION_ERROR) on a bad rate, burst or size.
  explicit token_bucket_table(const rate_limit_options& options);

  // Takes one token for `key` at `now`; when none is left, false and the
  // wait until the next token in `retry_after`.
  bool try_acquire(std::uint64_t key, keel::clock::steady_time now,
                   std::chrono::milliseconds& retry_after) noexcept;

  std::size_t slots() const noexcept { return mask_ + 1; }

 private:
  struct slot {
    std::atomic<std::uint64_t> key{0};
    std::atomic<std::int64_t> bucket{keel::resilience::gcra::full};
  };
  explicit token_bucket_table(const rate_limit_options& options, std::size_t n);
  std::unique_ptr<slot[]> table_;
  std::size_t mask_ = 0;
  keel::resilience::gcra rule_;
};

class rate_limit final : public middleware {
 public:
  explicit rate_limit(const rate_limit_options& options);
  result<next_step> before(exchange& ex) override;

  // Requests refused so far.
  std::uint64_t rejected() const noexcept { return rejected_.load(std::memory_order_relaxed); }

 private:
  token_bucket_table table_;
  std::uint32_t tag_mask_;
  const keel::clock* clock_;
  std::atomic<std::uint64_t> rejected_{0};
};

}  // namespace keel::http
