#include "keel/resilience/rate_limiter.hpp"

#include <gtest/gtest.h>

#include <string>

namespace keel::resilience {
namespace {

using namespace std::chrono_literals;

TEST(TokenBucket, AllowsTheBurstAtOnceThenOnePerInterval) {
  manual_clock clk;
  token_bucket b(10, 3);  // one token per 100 ms
  EXPECT_EQ(b.try_take(clk.steady_now()), 0ns);
  EXPECT_EQ(b.try_take(clk.steady_now()), 0ns);
  EXPECT_EQ(b.try_take(clk.steady_now()), 0ns);
  EXPECT_EQ(b.try_take(clk.steady_now()), 100ms);
  clk.advance(100ms - 1ns);
  EXPECT_EQ(b.try_take(clk.steady_now()), 1ns);  // just missed
  clk.advance(1ns);
  EXPECT_EQ(b.try_take(clk.steady_now()), 0ns);  // exactly refilled
}

TEST(TokenBucket, RefillsNoMoreThanTheBurst) {
  manual_clock clk;
  token_bucket b(10, 2);
  clk.advance(1h);
  EXPECT_EQ(b.try_take(clk.steady_now()), 0ns);
  EXPECT_EQ(b.try_take(clk.steady_now()), 0ns);
  EXPECT_GT(b.try_take(clk.steady_now()), 0ns);
}

TEST(RateLimiter, RejectsWithRateLimitedAndTheTimeUntilAToken) {
  manual_clock clk;
  auto events = std::make_shared<recording_listener>();
  rate_limiter rl({.name = "geo", .rate_per_second = 2, .burst = 1, .listener = events}, clk);
  EXPECT_TRUE(rl.call([] { return 1; }));
  int ran = 0;
  auto r = rl.call([&] { return ++ran; });
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), codes::rate_limited);
  EXPECT_EQ(r.error().retry_after(), 500ms);
  EXPECT_EQ(ran, 0);
  EXPECT_EQ(events->of(event_kind::rate_limited).at(0).delay, 500ms);
}

TEST(KeyedRateLimiter, KeysHaveIndependentBuckets) {
  manual_clock clk;
  keyed_rate_limiter rl({.rate_per_second = 1, .burst = 1}, clk);
  EXPECT_TRUE(rl.try_acquire("alice"));
  EXPECT_FALSE(rl.try_acquire("alice"));
  EXPECT_TRUE(rl.try_acquire("bob"));
  clk.advance(1s);
  EXPECT_TRUE(rl.try_acquire("alice"));
}

TEST(KeyedRateLimiter, MemoryIsBoundedByMaxKeys) {
  manual_clock clk;
  keyed_rate_limiter rl({.rate_per_second = 1, .burst = 1, .max_keys = 64}, clk);
  for (int i = 0; i < 10'000; ++i)
    (void)rl.try_acquire(std::to_string(i));
  EXPECT_LE(rl.size(), 64u);
}

TEST(KeyedRateLimiter, RecentlyUsedKeysSurviveEviction) {
  manual_clock clk;
  keyed_rate_limiter rl({.rate_per_second = 1, .burst = 1, .max_keys = 32}, clk);
  EXPECT_TRUE(rl.try_acquire("hot"));
  for (int i = 0; i < 1000; ++i) {
    EXPECT_FALSE(rl.try_acquire("hot")) << i;  // used every round: never evicted, never refilled
    (void)rl.try_acquire(std::to_string(i));
  }
}

TEST(KeyedRateLimiter, RejectsOverlongKeys) {
  keyed_rate_limiter rl({.max_key_length = 8});
  EXPECT_EQ(rl.try_acquire("123456789").error(), codes::validation_error);
  EXPECT_TRUE(rl.try_acquire("12345678"));
}

TEST(RateLimiter, InvalidConfigIsRejected) {
  EXPECT_FALSE((rate_limiter_config{.rate_per_second = 0}.validate()));
  EXPECT_FALSE((rate_limiter_config{.burst = 0}.validate()));
  EXPECT_THROW(rate_limiter({.rate_per_second = -1}), keel::exception);
}

}  // namespace
}  // namespace keel::resilience
