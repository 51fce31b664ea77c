#include "keel/http/rate_limit.hpp"

#include <gtest/gtest.h>

namespace keel::http {
namespace {

using std::chrono::milliseconds;

TEST(TokenBucketTable, AllowsBurstThenRefuses) {
  manual_clock clock;
  token_bucket_table t({.requests_per_second = 10, .burst = 3, .slots = 64});
  milliseconds wait{0};
  EXPECT_TRUE(t.try_acquire(1, clock.steady_now(), wait));
  EXPECT_TRUE(t.try_acquire(1, clock.steady_now(), wait));
  EXPECT_TRUE(t.try_acquire(1, clock.steady_now(), wait));
  EXPECT_FALSE(t.try_acquire(1, clock.steady_now(), wait));
  EXPECT_EQ(wait, milliseconds(100));  // one token per 100 ms at 10/s
}

TEST(TokenBucketTable, RefillsWithTimeUpToBurst) {
  manual_clock clock;
  token_bucket_table t({.requests_per_second = 10, .burst = 2, .slots = 64});
  milliseconds wait{0};
  ASSERT_TRUE(t.try_acquire(7, clock.steady_now(), wait));
  ASSERT_TRUE(t.try_acquire(7, clock.steady_now(), wait));
  ASSERT_FALSE(t.try_acquire(7, clock.steady_now(), wait));
  clock.advance(milliseconds(100));
  EXPECT_TRUE(t.try_acquire(7, clock.steady_now(), wait));
  EXPECT_FALSE(t.try_acquire(7, clock.steady_now(), wait));
  clock.advance(std::chrono::hours(1));  // long idle: back to burst, not more
  EXPECT_TRUE(t.try_acquire(7, clock.steady_now(), wait));
  EXPECT_TRUE(t.try_acquire(7, clock.steady_now(), wait));
  EXPECT_FALSE(t.try_acquire(7, clock.steady_now(), wait));
}

TEST(TokenBucketTable, ClientsHaveSeparateBuckets) {
  manual_clock clock;
  token_bucket_table t({.requests_per_second = 1, .burst = 1, .slots = 64});
  milliseconds wait{0};
  EXPECT_TRUE(t.try_acquire(1, clock.steady_now(), wait));
  EXPECT_FALSE(t.try_acquire(1, clock.steady_now(), wait));
  EXPECT_TRUE(t.try_acquire(2, clock.steady_now(), wait));
}

TEST(TokenBucketTable, MemoryStaysBoundedUnderManyClients) {
  manual_clock clock;
  token_bucket_table t({.requests_per_second = 1, .burst = 1, .slots = 16});
  EXPECT_EQ(t.slots(), 16u);
  milliseconds wait{0};
  // Far more clients than slots: each new one evicts an idle bucket and is
  // served, and the table never grows.
  for (std::uint64_t k = 1; k <= 10'000; ++k) {
    clock.advance(milliseconds(1));
    EXPECT_TRUE(t.try_acquire(k * 0x9e3779b97f4a7c15ull, clock.steady_now(), wait));
  }
  EXPECT_EQ(t.slots(), 16u);
}

// Issue 19 #1: a thread that read the clock before another thread's take
// used to see the newer stamp, and the unsigned elapsed time wrapped to a
// full refill. An older `now` must never add tokens.
TEST(TokenBucketTable, AnOlderNowNeverRefillsTheBucket) {
  manual_clock clock;
  token_bucket_table t({.requests_per_second = 100, .burst = 200, .slots = 64});
  milliseconds wait{0};
  clock.advance(std::chrono::seconds(10));
  const auto before = clock.steady_now();
  clock.advance(milliseconds(5));
  int taken = 0;
  while (t.try_acquire(9, clock.steady_now(), wait))
    ++taken;
  EXPECT_EQ(taken, 200);
  EXPECT_FALSE(t.try_acquire(9, before, wait));
  EXPECT_GE(wait, milliseconds(10));  // the older reader waits longer, never less
}

TEST(TokenBucketTable, RejectsInvalidOptions) {
  EXPECT_THROW(token_bucket_table({.requests_per_second = 0}), keel::exception);
  EXPECT_THROW(token_bucket_table({.burst = 0.5}), keel::exception);
  EXPECT_THROW(token_bucket_table({.slots = 0}), keel::exception);
}

}  // namespace
}  // namespace keel::http
