#include "keel/core/clock.hpp"

#include <gtest/gtest.h>

#include "keel/core/random.hpp"

namespace keel {
namespace {

using namespace std::chrono_literals;

TEST(ManualClock, StandsStillUntilAdvanced) {
  manual_clock c;
  const auto s0 = c.steady_now();
  const auto w0 = c.system_now();
  EXPECT_EQ(c.steady_now(), s0);
  c.advance(1500ms);
  EXPECT_EQ(c.steady_now() - s0, 1500ms);
  EXPECT_EQ(c.system_now() - w0, 1500ms);
}

TEST(ManualClock, SleepAdvancesInsteadOfBlocking) {
  manual_clock c;
  const auto s0 = c.steady_now();
  c.sleep_for(std::chrono::hours(1));
  c.sleep_for(-1s);
  EXPECT_EQ(c.steady_now() - s0, std::chrono::hours(1));
  EXPECT_EQ(c.sleep_calls(), 2u);
  EXPECT_EQ(c.slept(), std::chrono::hours(1));
}

TEST(RealClock, Advances) {
  const auto a = clock::real().steady_now();
  clock::real().sleep_for(1ms);
  EXPECT_GE(clock::real().steady_now() - a, 1ms);
}

TEST(SeededRandom, IsDeterministic) {
  seeded_random a(42), b(42), c(43);
  for (int i = 0; i < 100; ++i) {
    const auto x = a.next_u64();
    EXPECT_EQ(x, b.next_u64());
    EXPECT_NE(x, c.next_u64());
  }
}

TEST(RandomSource, DoubleAndBoundedRanges) {
  seeded_random r(7);
  for (int i = 0; i < 10000; ++i) {
    const double d = r.next_double();
    EXPECT_GE(d, 0.0);
    EXPECT_LT(d, 1.0);
    EXPECT_LT(r.next_below(10), 10u);
  }
  EXPECT_EQ(r.next_below(0), 0u);
  auto& shared = random_source::thread_safe();
  EXPECT_NE(shared.next_u64(), shared.next_u64());
}

}  // namespace
}  // namespace keel
