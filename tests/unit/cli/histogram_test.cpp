#include "load/histogram.hpp"

#include <gtest/gtest.h>

#include <cmath>

namespace keel::cli::load {
namespace {

TEST(LatencyHistogram, EmptyReportsZero) {
  latency_histogram h;
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.percentile(50), 0u);
  EXPECT_EQ(h.max(), 0u);
  EXPECT_EQ(h.min(), 0u);
}

TEST(LatencyHistogram, SmallValuesAreExact) {
  latency_histogram h;
  for (std::uint64_t v = 0; v < 128; ++v)
    h.record(v);
  EXPECT_EQ(h.percentile(50), 63u);
  EXPECT_EQ(h.percentile(100), 127u);
  EXPECT_EQ(h.min(), 0u);
}

TEST(LatencyHistogram, BucketsAreContiguousAndMonotonic) {
  std::size_t prev = 0;
  for (std::uint64_t v = 1; v < (1u << 20); ++v) {
    const std::size_t i = latency_histogram::index_of(v);
    ASSERT_TRUE(i == prev || i == prev + 1) << v;
    ASSERT_GE(latency_histogram::highest_of(i), v);
    prev = i;
  }
  EXPECT_LT(latency_histogram::index_of(UINT64_MAX), latency_histogram::bucket_slots);
  EXPECT_EQ(latency_histogram::highest_of(latency_histogram::index_of(UINT64_MAX)), UINT64_MAX);
}

TEST(LatencyHistogram, PercentilesWithinOnePercentOverTheRange) {
  latency_histogram h;
  // 1..100000 µs in ns: the true p-th percentile is p * 1000 µs.
  for (std::uint64_t us = 1; us <= 100'000; ++us)
    h.record(us * 1000);
  for (const double p : {50.0, 90.0, 99.0, 99.9}) {
    const double expect = p * 1000.0 * 1000.0;
    const double got = static_cast<double>(h.percentile(p));
    EXPECT_GE(got, expect * 0.999) << p;
    EXPECT_LE(got, expect * 1.016) << p;
  }
  EXPECT_EQ(h.max(), 100'000'000u);
  EXPECT_EQ(h.percentile(100), 100'000'000u);
  EXPECT_NEAR(h.mean(), 50'000'500.0, 1.0);
}

TEST(LatencyHistogram, TailIsNotHiddenByTheBulk) {
  latency_histogram h;
  for (int i = 0; i < 9990; ++i)
    h.record(1'000'000);  // 1 ms
  for (int i = 0; i < 10; ++i)
    h.record(2'000'000'000);  // 2 s stalls
  EXPECT_LE(h.percentile(99), 1'016'000u);
  EXPECT_GE(h.percentile(99.95), 2'000'000'000u);
  EXPECT_EQ(h.max(), 2'000'000'000u);
}

TEST(LatencyHistogram, MergeAddsCounts) {
  latency_histogram a, b;
  a.record(10);
  b.record(1000);
  b.record(5);
  a.merge(b);
  EXPECT_EQ(a.count(), 3u);
  EXPECT_EQ(a.min(), 5u);
  EXPECT_EQ(a.max(), 1000u);
}

}  // namespace
}  // namespace keel::cli::load
