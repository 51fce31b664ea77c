// The per-client bucket under threads that each read the real clock: what
// wrk -t2 against keeld did (issue 19 #1, 2.3x the rate let through).
#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "keel/http/rate_limit.hpp"

namespace keel::http {
namespace {

TEST(TokenBucketTableConcurrent, ThreadsSharingOneClientNeverExceedItsRate) {
  constexpr double rate = 100;
  constexpr double burst = 200;
  token_bucket_table t({.requests_per_second = rate, .burst = burst, .slots = 64});
  const keel::clock& clock = keel::clock::real();
  std::atomic<int> accepted{0};
  const auto start = clock.steady_now();
  const auto deadline = start + std::chrono::milliseconds(300);
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      std::chrono::milliseconds wait{0};
      while (clock.steady_now() < deadline) {
        if (t.try_acquire(42, clock.steady_now(), wait))
          accepted.fetch_add(1, std::memory_order_relaxed);
      }
    });
  }
  for (auto& th : threads)
    th.join();
  const double seconds = std::chrono::duration<double>(clock.steady_now() - start).count();
  EXPECT_GE(accepted.load(), static_cast<int>(burst));
  EXPECT_LE(accepted.load(), static_cast<int>(burst + rate * seconds) + 1);
}

}  // namespace
}  // namespace keel::http
