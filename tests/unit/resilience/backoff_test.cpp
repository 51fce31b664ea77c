#include "keel/resilience/backoff.hpp"

#include <gtest/gtest.h>

namespace keel::resilience {
namespace {

using namespace std::chrono_literals;
using std::chrono::milliseconds;

// A source that always returns the same fraction of its range.
class fixed_random final : public random_source {
 public:
  explicit fixed_random(double fraction) : v_(static_cast<std::uint64_t>(fraction * 0x1.0p64)) {}
  std::uint64_t next_u64() noexcept override { return v_; }

 private:
  std::uint64_t v_;
};

TEST(Backoff, ConstantIsTheSameEveryRetry) {
  seeded_random rng(1);
  backoff b{.kind = backoff_kind::constant, .initial = 50ms, .jitter = jitter_kind::none};
  EXPECT_EQ(b.delay(1, {}, rng), 50ms);
  EXPECT_EQ(b.delay(7, {}, rng), 50ms);
}

TEST(Backoff, LinearGrowsByInitialPerRetry) {
  seeded_random rng(1);
  backoff b{
      .kind = backoff_kind::linear, .initial = 100ms, .max = 250ms, .jitter = jitter_kind::none};
  EXPECT_EQ(b.delay(1, {}, rng), 100ms);
  EXPECT_EQ(b.delay(2, {}, rng), 200ms);
  EXPECT_EQ(b.delay(3, {}, rng), 250ms);  // capped
}

TEST(Backoff, ExponentialDoublesUpToTheCap) {
  seeded_random rng(1);
  backoff b{.kind = backoff_kind::exponential,
            .initial = 100ms,
            .multiplier = 2,
            .max = 1s,
            .jitter = jitter_kind::none};
  EXPECT_EQ(b.delay(1, {}, rng), 100ms);
  EXPECT_EQ(b.delay(2, {}, rng), 200ms);
  EXPECT_EQ(b.delay(4, {}, rng), 800ms);
  EXPECT_EQ(b.delay(5, {}, rng), 1s);
}

TEST(Backoff, ExponentialWithHugeRetryNumberSaturatesAtTheCap) {
  seeded_random rng(1);
  backoff b{.initial = 1s, .multiplier = 10, .max = 60s, .jitter = jitter_kind::none};
  EXPECT_EQ(b.delay(1000, {}, rng), 60s);
}

TEST(Backoff, FullJitterIsUniformBelowTheCurve) {
  backoff b{.initial = 100ms, .max = 10s, .jitter = jitter_kind::full};
  fixed_random low(0.0);
  fixed_random half(0.5);
  EXPECT_EQ(b.delay(2, {}, low), 0ms);
  EXPECT_EQ(b.delay(2, {}, half), 100ms);  // half of 200 ms
  seeded_random rng(7);
  for (int i = 0; i < 1000; ++i) {
    const auto d = b.delay(3, {}, rng);
    EXPECT_GE(d, 0ms);
    EXPECT_LT(d, 400ms);
  }
}

TEST(Backoff, EqualJitterKeepsAtLeastHalfTheCurve) {
  backoff b{.initial = 100ms, .max = 10s, .jitter = jitter_kind::equal};
  fixed_random low(0.0);
  EXPECT_EQ(b.delay(2, {}, low), 100ms);
  seeded_random rng(7);
  for (int i = 0; i < 1000; ++i) {
    const auto d = b.delay(2, {}, rng);
    EXPECT_GE(d, 100ms);
    EXPECT_LT(d, 200ms);
  }
}

TEST(Backoff, DecorrelatedJitterStaysBetweenInitialAndThreeTimesPrevious) {
  backoff b{.initial = 100ms, .max = 5s, .jitter = jitter_kind::decorrelated};
  seeded_random rng(3);
  clock::duration prev{};
  for (std::uint32_t n = 1; n < 50; ++n) {
    const auto d = b.delay(n, prev, rng);
    EXPECT_GE(d, 100ms);
    EXPECT_LE(d, std::min<clock::duration>(5s, std::max<clock::duration>(prev, 100ms) * 3));
    prev = d;
  }
}

TEST(Backoff, DecorrelatedJitterIsCappedAtMax) {
  backoff b{.initial = 100ms, .max = 1s, .jitter = jitter_kind::decorrelated};
  fixed_random high(0.999);
  EXPECT_EQ(b.delay(5, 10s, high), 1s);
}

TEST(Backoff, ValidateRejectsNonsense) {
  EXPECT_FALSE((backoff{.initial = 0ms}.validate()));
  EXPECT_FALSE((backoff{.initial = 2s, .max = 1s}.validate()));
  EXPECT_FALSE((backoff{.multiplier = 0.5}.validate()));
  EXPECT_TRUE((backoff{}.validate()));
}

}  // namespace
}  // namespace keel::resilience
