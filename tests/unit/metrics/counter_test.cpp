// counter, gauge and histogram values, on one thread.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <thread>

#include "keel/core/clock.hpp"
#include "keel/metrics/counter.hpp"
#include "keel/metrics/gauge.hpp"
#include "keel/metrics/histogram.hpp"

namespace keel::metrics {
namespace {

TEST(Counter, StartsAtZero) {
  counter c;
  EXPECT_EQ(c.value(), 0);
}

TEST(Counter, IncAddsOneOrN) {
  counter c;
  c.inc();
  c.inc(41);
  EXPECT_EQ(c.value(), 42);
}

TEST(Counter, AddAcceptsFractionsAndSumsWithIntegers) {
  counter c;
  c.inc(2);
  c.add(0.25);
  c.add(0.25);
  EXPECT_DOUBLE_EQ(c.value(), 2.5);
}

TEST(Counter, IgnoresNegativeAndNonFiniteAmounts) {
  counter c;
  c.add(-1);
  c.add(std::numeric_limits<double>::quiet_NaN());
  c.add(std::numeric_limits<double>::infinity());
  EXPECT_EQ(c.value(), 0);
}

TEST(Counter, KeepsIncrementsOfThreadsThatExited) {
  counter c;
  std::thread([&] { c.inc(5); }).join();
  std::thread([&] { c.add(0.5); }).join();
  c.inc();
  EXPECT_DOUBLE_EQ(c.value(), 6.5);
}

TEST(Counter, ANewCounterDoesNotInheritCellsOfADestroyedOne) {
  // Freed ranges are reused; their cells must start again from zero, on
  // this thread and in the retired totals.
  for (int i = 0; i < 3; ++i) {
    auto c = std::make_unique<counter>();
    EXPECT_EQ(c->value(), 0);
    c->inc(7);
    std::thread([&] { c->inc(3); }).join();
    EXPECT_EQ(c->value(), 10);
  }
}

TEST(Gauge, SetAddSubIncDec) {
  gauge g;
  g.set(10);
  g.add(2.5);
  g.sub(0.5);
  g.inc();
  g.dec();
  g.dec();
  EXPECT_DOUBLE_EQ(g.value(), 11);
}

TEST(Gauge, SetToCurrentTimeUsesTheGivenClock) {
  manual_clock clk(std::chrono::system_clock::time_point(std::chrono::seconds(1'700'000'000)));
  clk.advance(std::chrono::milliseconds(500));
  gauge g;
  g.set_to_current_time(clk);
  EXPECT_DOUBLE_EQ(g.value(), 1'700'000'000.5);
}

TEST(Histogram, DefaultBucketsAreTheClientLibraryLatencyBuckets) {
  EXPECT_EQ(default_buckets(),
            (std::vector<double>{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}));
}

TEST(Histogram, LinearAndExponentialBuckets) {
  EXPECT_EQ(linear_buckets(1, 2, 3), (std::vector<double>{1, 3, 5}));
  EXPECT_EQ(exponential_buckets(1, 10, 3), (std::vector<double>{1, 10, 100}));
}

TEST(Histogram, ObservationLandsInFirstBucketWithValueAtOrBelowBound) {
  histogram h({1, 2, 5});
  h.observe(0.5);  // le 1
  h.observe(1);    // le 1 (bounds are inclusive)
  h.observe(1.5);  // le 2
  h.observe(5);    // le 5
  h.observe(100);  // +Inf
  auto s = h.get();
  EXPECT_EQ(s.cumulative, (std::vector<std::uint64_t>{2, 3, 4, 5}));
  EXPECT_EQ(s.count(), 5u);
  EXPECT_DOUBLE_EQ(s.sum, 108);
}

TEST(Histogram, IgnoresNaN) {
  histogram h({1});
  h.observe(std::numeric_limits<double>::quiet_NaN());
  EXPECT_EQ(h.get().count(), 0u);
}

TEST(Histogram, NegativeAndInfiniteObservationsAreCounted) {
  histogram h({0});
  h.observe(-3);
  h.observe(std::numeric_limits<double>::infinity());
  auto s = h.get();
  EXPECT_EQ(s.cumulative, (std::vector<std::uint64_t>{1, 2}));
}

TEST(Histogram, KeepsObservationsOfThreadsThatExited) {
  histogram h({1});
  std::thread([&] {
    h.observe(0.5);
    h.observe(3);
  }).join();
  h.observe(0.25);
  auto s = h.get();
  EXPECT_EQ(s.cumulative, (std::vector<std::uint64_t>{2, 3}));
  EXPECT_DOUBLE_EQ(s.sum, 3.75);
}

TEST(Histogram, RejectsBadBounds) {
  EXPECT_FALSE(validate_buckets(std::vector<double>{}));
  EXPECT_FALSE(validate_buckets(std::vector<double>{1, 1}));
  EXPECT_FALSE(validate_buckets(std::vector<double>{2, 1}));
  EXPECT_FALSE(validate_buckets(std::vector<double>{1, std::numeric_limits<double>::infinity()}));
  EXPECT_FALSE(validate_buckets(std::vector<double>{std::numeric_limits<double>::quiet_NaN()}));
  EXPECT_FALSE(validate_buckets(linear_buckets(0, 1, 511)));
  EXPECT_TRUE(validate_buckets(linear_buckets(0, 1, 510)));
  EXPECT_THROW(histogram(std::vector<double>{3, 2}), keel::exception);
}

TEST(Histogram, ManyBucketsFitOnePage) {
  histogram h(linear_buckets(0, 1, 510));
  h.observe(509.5);
  h.observe(1000);
  auto s = h.get();
  EXPECT_EQ(s.cumulative[509], 0u);
  EXPECT_EQ(s.cumulative[510], 2u);
}

}  // namespace
}  // namespace keel::metrics
