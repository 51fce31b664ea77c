#include "keel/resilience/retry_budget.hpp"

#include <gtest/gtest.h>

namespace keel::resilience {
namespace {

using namespace std::chrono_literals;

TEST(RetryBudget, AllowsTheMinimumPerSecondWithoutCalls) {
  manual_clock clk;
  retry_budget b({.ratio = 0.0, .min_retries_per_second = 1, .window = 10s}, clk);
  for (int i = 0; i < 10; ++i)
    EXPECT_TRUE(b.try_acquire_retry()) << i;
  EXPECT_FALSE(b.try_acquire_retry());
}

TEST(RetryBudget, RatioOfCallsIsExactlyMetThenRefused) {
  manual_clock clk;
  retry_budget b({.ratio = 0.2, .min_retries_per_second = 0, .window = 10s}, clk);
  for (int i = 0; i < 10; ++i)
    b.record_call();
  EXPECT_TRUE(b.try_acquire_retry());
  EXPECT_TRUE(b.try_acquire_retry());   // 2 == 0.2 * 10: met exactly
  EXPECT_FALSE(b.try_acquire_retry());  // 3 > 2
  EXPECT_EQ(b.retries_in_window(), 2u);
}

TEST(RetryBudget, OneMoreCallJustMissesTheNextRetry) {
  manual_clock clk;
  retry_budget b({.ratio = 0.2, .min_retries_per_second = 0, .window = 10s}, clk);
  for (int i = 0; i < 14; ++i)
    b.record_call();
  EXPECT_TRUE(b.try_acquire_retry());
  EXPECT_TRUE(b.try_acquire_retry());
  EXPECT_FALSE(b.try_acquire_retry());  // 3 > 2.8
  b.record_call();                      // 15 calls: 3.0 allowed
  EXPECT_TRUE(b.try_acquire_retry());
}

TEST(RetryBudget, SpentRetriesLeaveTheWindowAsTimePasses) {
  manual_clock clk;
  retry_budget b({.ratio = 0.0, .min_retries_per_second = 0.1, .window = 10s}, clk);
  EXPECT_TRUE(b.try_acquire_retry());
  EXPECT_FALSE(b.try_acquire_retry());
  clk.advance(9s);
  EXPECT_FALSE(b.try_acquire_retry());
  clk.advance(1s);  // the first bucket has rolled out of the window
  EXPECT_TRUE(b.try_acquire_retry());
}

TEST(RetryBudget, CallsLeaveTheWindowToo) {
  manual_clock clk;
  retry_budget b({.ratio = 1.0, .min_retries_per_second = 0, .window = 1s}, clk);
  b.record_call();
  EXPECT_EQ(b.calls_in_window(), 1u);
  clk.advance(1s);
  EXPECT_EQ(b.calls_in_window(), 0u);
  EXPECT_FALSE(b.try_acquire_retry());
}

TEST(RetryBudget, InvalidConfigIsRejected) {
  EXPECT_FALSE((retry_budget_config{.ratio = -1}.validate()));
  EXPECT_FALSE((retry_budget_config{.window = 0s}.validate()));
  EXPECT_THROW(retry_budget({.min_retries_per_second = -1}), keel::exception);
}

}  // namespace
}  // namespace keel::resilience
