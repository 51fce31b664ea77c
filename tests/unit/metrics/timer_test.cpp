// scope_timer, time_function and count_calls on a manual clock.
#include "keel/metrics/timer.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

namespace keel::metrics {
namespace {

using std::chrono::milliseconds;

TEST(ScopeTimer, ObservesElapsedSecondsWhenTheScopeEnds) {
  manual_clock clk;
  histogram h({0.1, 1});
  {
    scope_timer t(h, clk);
    clk.advance(milliseconds(250));
    EXPECT_EQ(h.get().count(), 0u);
  }
  auto s = h.get();
  EXPECT_EQ(s.cumulative, (std::vector<std::uint64_t>{0, 1, 1}));
  EXPECT_DOUBLE_EQ(s.sum, 0.25);
}

TEST(ScopeTimer, StopObservesOnceAndReturnsSeconds) {
  manual_clock clk;
  histogram h({1});
  {
    scope_timer t(h, clk);
    clk.advance(milliseconds(1500));
    EXPECT_DOUBLE_EQ(t.stop(), 1.5);
    clk.advance(milliseconds(1500));
  }
  EXPECT_EQ(h.get().count(), 1u);
  EXPECT_DOUBLE_EQ(h.get().sum, 1.5);
}

TEST(ScopeTimer, CancelObservesNothing) {
  manual_clock clk;
  histogram h({1});
  {
    scope_timer t(h, clk);
    t.cancel();
  }
  EXPECT_EQ(h.get().count(), 0u);
}

TEST(TimeFunction, ObservesEachCallAndPassesArgumentsAndResult) {
  manual_clock clk;
  histogram h({1, 10});
  auto slow_add = time_function(
      h,
      [&](int a, int b) {
        clk.advance(milliseconds(2000));
        return a + b;
      },
      clk);
  EXPECT_EQ(slow_add(2, 3), 5);
  EXPECT_EQ(slow_add(4, 5), 9);
  auto s = h.get();
  EXPECT_EQ(s.count(), 2u);
  EXPECT_DOUBLE_EQ(s.sum, 4.0);
  EXPECT_EQ(s.cumulative[0], 0u);
}

TEST(TimeFunction, ObservesCallsThatThrow) {
  manual_clock clk;
  histogram h({1});
  auto failing = time_function(
      h,
      [&] {
        clk.advance(milliseconds(100));
        throw std::runtime_error("boom");
      },
      clk);
  EXPECT_THROW(failing(), std::runtime_error);
  EXPECT_EQ(h.get().count(), 1u);
}

TEST(TimeFunction, ReturnsReferencesUnchanged) {
  histogram h({1});
  int x = 1;
  auto get = time_function(h, [&]() -> int& { return x; });
  get() = 5;
  EXPECT_EQ(x, 5);
}

TEST(CountCalls, IncrementsBeforeEachCall) {
  counter n;
  auto f = count_calls(n, [&](int v) { return n.value() + v; });
  EXPECT_EQ(f(10), 11);
  EXPECT_EQ(f(10), 12);
  EXPECT_EQ(n.value(), 2);
}

TEST(CountCalls, ComposesWithTimeFunction) {
  manual_clock clk;
  counter n;
  histogram h({1});
  auto f = count_calls(n, time_function(
                              h, [] { return 7; }, clk));
  EXPECT_EQ(f(), 7);
  EXPECT_EQ(n.value(), 1);
  EXPECT_EQ(h.get().count(), 1u);
}

}  // namespace
}  // namespace keel::metrics
