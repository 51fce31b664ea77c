#include "keel/resilience/circuit_breaker.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

namespace keel::resilience {
namespace {

using namespace std::chrono_literals;

struct BreakerTest : ::testing::Test {
  manual_clock clk;
  std::shared_ptr<recording_listener> events = std::make_shared<recording_listener>();

  std::unique_ptr<circuit_breaker> make(circuit_breaker_config c) {
    c.name = "payments";
    c.listener = events;
    return circuit_breaker::create(std::move(c), clk).value();
  }
  static void succeed(circuit_breaker& b, int n = 1) {
    for (int i = 0; i < n; ++i)
      (void)b.call([] { return 1; });
  }
  static void fail_with(circuit_breaker& b, const error_code& code, int n = 1) {
    for (int i = 0; i < n; ++i)
      (void)b.call([&]() -> result<int> { return fail(code); });
  }
  static void fail_calls(circuit_breaker& b, int n = 1) {
    fail_with(b, codes::service_unavailable, n);
  }
};

TEST_F(BreakerTest, ClosedBreakerPassesCallsAndResults) {
  auto b = make({});
  EXPECT_EQ(b->call([] { return 5; }).value(), 5);
  EXPECT_EQ(b->call([]() -> result<int> { return fail(codes::timeout); }).error(), codes::timeout);
  EXPECT_EQ(b->state(), breaker_state::closed);
}

TEST_F(BreakerTest, OpensWhenFailureRateReachesThresholdAfterMinimumCalls) {
  auto b = make({.failure_rate_threshold = 0.5, .window_size = 10, .minimum_calls = 10});
  succeed(*b, 5);
  fail_calls(*b, 4);
  EXPECT_EQ(b->state(), breaker_state::closed);
  fail_calls(*b, 1);  // 5 of 10: exactly the threshold
  EXPECT_EQ(b->state(), breaker_state::open);
}

TEST_F(BreakerTest, StaysClosedWhenFailureRateJustMissesThreshold) {
  auto b = make({.failure_rate_threshold = 0.5, .window_size = 11, .minimum_calls = 11});
  succeed(*b, 6);
  fail_calls(*b, 5);  // 5 of 11 < 0.5
  EXPECT_EQ(b->state(), breaker_state::closed);
}

TEST_F(BreakerTest, DoesNotOpenBeforeMinimumCalls) {
  auto b = make({.failure_rate_threshold = 0.5, .window_size = 100, .minimum_calls = 10});
  fail_calls(*b, 9);
  EXPECT_EQ(b->state(), breaker_state::closed);
  fail_calls(*b, 1);
  EXPECT_EQ(b->state(), breaker_state::open);
}

TEST_F(BreakerTest, ASuccessThatCompletesTheMinimumCanOpen) {
  auto b = make({.failure_rate_threshold = 0.5, .window_size = 100, .minimum_calls = 10});
  fail_calls(*b, 9);
  succeed(*b, 1);  // 9 of 10 once the minimum is there
  EXPECT_EQ(b->state(), breaker_state::open);
}

TEST_F(BreakerTest, MinimumCallsIsCappedAtTheCountWindowSize) {
  auto b = make({.window_size = 4, .minimum_calls = 100});
  fail_calls(*b, 2);
  succeed(*b, 1);
  EXPECT_EQ(b->state(), breaker_state::closed);
  fail_calls(*b, 1);  // 3 of 4 with the minimum capped at 4
  EXPECT_EQ(b->state(), breaker_state::open);
}

TEST_F(BreakerTest, RejectsWithCircuitOpenAndTheTimeLeftWhileOpen) {
  auto b = make({.window_size = 2, .minimum_calls = 2, .wait_in_open = 30s});
  fail_calls(*b, 2);
  clk.advance(10s);
  int ran = 0;
  auto r = b->call([&] { return ++ran; });
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), codes::circuit_open);
  EXPECT_EQ(r.error().retry_after(), std::chrono::milliseconds(20'000));
  EXPECT_EQ(r.error().details().at("breaker"), "payments");
  EXPECT_EQ(ran, 0);
  EXPECT_EQ(events->count(event_kind::breaker_rejected), 1u);
  EXPECT_EQ(b->snapshot().rejected_calls, 1u);
}

TEST_F(BreakerTest, StaysOpenUntilTheWaitHasFullyPassed) {
  auto b = make({.window_size = 2, .minimum_calls = 2, .wait_in_open = 30s});
  fail_calls(*b, 2);
  clk.advance(30s - 1ns);
  EXPECT_FALSE(b->acquire());
  EXPECT_EQ(b->state(), breaker_state::open);
  clk.advance(1ns);
  auto p = b->acquire();
  ASSERT_TRUE(p);
  EXPECT_EQ(b->state(), breaker_state::half_open);
  b->on_success(*p);
}

TEST_F(BreakerTest, HalfOpenRejectsTheTrialBeyondThePermittedConcurrency) {
  auto b = make({.window_size = 2,
                 .minimum_calls = 2,
                 .wait_in_open = 1s,
                 .permitted_calls_in_half_open = 3});
  fail_calls(*b, 2);
  clk.advance(1s);
  auto p1 = b->acquire();
  auto p2 = b->acquire();
  auto p3 = b->acquire();
  ASSERT_TRUE(p1 && p2 && p3);
  auto p4 = b->acquire();
  ASSERT_FALSE(p4);
  EXPECT_EQ(p4.error(), codes::circuit_open);
  EXPECT_EQ(b->state(), breaker_state::half_open);
  // A trial whose error is ignored gives its slot back without deciding.
  b->on_error(*p1, keel::error(codes::cancelled));
  auto p5 = b->acquire();
  EXPECT_TRUE(p5);
  b->on_success(*p2);
  b->on_success(*p3);
  b->on_success(*p5);
  EXPECT_EQ(b->state(), breaker_state::closed);
}

TEST_F(BreakerTest, HalfOpenClosesWhenTheTrialsSucceed) {
  auto b = make({.window_size = 2,
                 .minimum_calls = 2,
                 .wait_in_open = 1s,
                 .permitted_calls_in_half_open = 2});
  fail_calls(*b, 2);
  clk.advance(1s);
  succeed(*b, 1);
  EXPECT_EQ(b->state(), breaker_state::half_open);
  succeed(*b, 1);
  EXPECT_EQ(b->state(), breaker_state::closed);
  EXPECT_EQ(b->snapshot().buffered_calls, 0u);  // a fresh window
}

TEST_F(BreakerTest, HalfOpenReopensWhenTheTrialsFail) {
  auto b = make({.window_size = 2,
                 .minimum_calls = 2,
                 .wait_in_open = 1s,
                 .permitted_calls_in_half_open = 2});
  fail_calls(*b, 2);
  clk.advance(1s);
  fail_calls(*b, 2);
  EXPECT_EQ(b->state(), breaker_state::open);
  EXPECT_FALSE(b->acquire());  // a new wait in open has started
}

TEST_F(BreakerTest, HalfOpenTrialFailureRateExactlyAtThresholdReopens) {
  auto b = make({.failure_rate_threshold = 0.5,
                 .window_size = 2,
                 .minimum_calls = 2,
                 .wait_in_open = 1s,
                 .permitted_calls_in_half_open = 4});
  fail_calls(*b, 2);
  clk.advance(1s);
  succeed(*b, 2);
  fail_calls(*b, 2);
  EXPECT_EQ(b->state(), breaker_state::open);
}

TEST_F(BreakerTest, HalfOpenTrialFailureRateJustBelowThresholdCloses) {
  auto b = make({.failure_rate_threshold = 0.5,
                 .window_size = 2,
                 .minimum_calls = 2,
                 .wait_in_open = 1s,
                 .permitted_calls_in_half_open = 5});
  fail_calls(*b, 2);
  clk.advance(1s);
  succeed(*b, 3);
  fail_calls(*b, 2);  // 2 of 5
  EXPECT_EQ(b->state(), breaker_state::closed);
}

TEST_F(BreakerTest, CountWindowRollsOverOldFailures) {
  auto b = make({.window_size = 10, .minimum_calls = 10});
  fail_calls(*b, 4);
  succeed(*b, 6);
  EXPECT_EQ(b->snapshot().failed_calls, 4u);
  succeed(*b, 4);  // the four failures are pushed out
  const auto s = b->snapshot();
  EXPECT_EQ(s.buffered_calls, 10u);
  EXPECT_EQ(s.failed_calls, 0u);
  fail_calls(*b, 4);  // 4 of 10: still below 0.5
  EXPECT_EQ(b->state(), breaker_state::closed);
  fail_calls(*b, 1);
  EXPECT_EQ(b->state(), breaker_state::open);
}

TEST_F(BreakerTest, TimeWindowForgetsCallsOlderThanTheWindow) {
  auto b = make({.window = window_kind::time_based, .window_size = 10, .minimum_calls = 4});
  fail_calls(*b, 3);
  clk.advance(10s);  // those three are now outside the 10 s window
  succeed(*b, 1);
  fail_calls(*b, 1);
  auto s = b->snapshot();
  EXPECT_EQ(s.buffered_calls, 2u);
  EXPECT_EQ(b->state(), breaker_state::closed);
  clk.advance(9s);  // still inside
  fail_calls(*b, 2);
  EXPECT_EQ(b->state(), breaker_state::open);  // 3 of 4
}

TEST_F(BreakerTest, SlowCallsOpenTheBreakerAtTheSlowCallRate) {
  auto b = make({.slow_call_rate_threshold = 0.5,
                 .slow_call_duration = 1s,
                 .window_size = 4,
                 .minimum_calls = 4});
  const auto slow = [&] {
    clk.advance(1s);  // exactly the slow-call duration: slow
    return 1;
  };
  const auto quick = [&] {
    clk.advance(1s - 1ns);
    return 1;
  };
  (void)b->call(quick);
  (void)b->call(quick);
  (void)b->call(slow);
  EXPECT_EQ(b->state(), breaker_state::closed);
  (void)b->call(slow);
  EXPECT_EQ(b->state(), breaker_state::open);
  EXPECT_EQ(events->of(event_kind::breaker_state_changed).at(0).reason, "slow_call_rate");
}

TEST_F(BreakerTest, CancelledCallsAreIgnored) {
  auto b = make({.window_size = 2, .minimum_calls = 2});
  fail_with(*b, codes::cancelled, 5);
  EXPECT_EQ(b->snapshot().buffered_calls, 0u);
}

TEST_F(BreakerTest, ValidationErrorsCountAsSuccesses) {
  auto b = make({.window_size = 4, .minimum_calls = 4});
  fail_with(*b, codes::validation_error, 4);
  const auto s = b->snapshot();
  EXPECT_EQ(s.buffered_calls, 4u);
  EXPECT_EQ(s.failed_calls, 0u);
  EXPECT_EQ(b->state(), breaker_state::closed);
}

TEST_F(BreakerTest, RecordAndIgnorePredicatesReplaceTheDefaults) {
  auto b = make({.window_size = 2,
                 .minimum_calls = 2,
                 .record_failure = [](const keel::error& e) { return e == codes::conflict; },
                 .ignore = [](const keel::error& e) { return e == codes::timeout; }});
  fail_with(*b, codes::timeout, 3);  // ignored
  EXPECT_EQ(b->snapshot().buffered_calls, 0u);
  fail_with(*b, codes::conflict, 2);
  EXPECT_EQ(b->state(), breaker_state::open);
}

TEST_F(BreakerTest, ExceptionsCountAsFailures) {
  auto b = make({.window_size = 2, .minimum_calls = 2});
  for (int i = 0; i < 2; ++i) {
    auto r = b->call([]() -> int { throw std::runtime_error("boom"); });
    EXPECT_EQ(r.error(), codes::internal_error);
  }
  EXPECT_EQ(b->state(), breaker_state::open);
}

TEST_F(BreakerTest, ResetClosesAndEmptiesTheWindow) {
  auto b = make({.window_size = 2, .minimum_calls = 2});
  fail_calls(*b, 2);
  b->reset();
  EXPECT_EQ(b->state(), breaker_state::closed);
  EXPECT_EQ(b->snapshot().buffered_calls, 0u);
  EXPECT_TRUE(b->call([] { return 1; }));
}

TEST_F(BreakerTest, ForceOpenRejectsEverythingUntilReset) {
  auto b = make({});
  b->force_open();
  clk.advance(1h);
  auto r = b->call([] { return 1; });
  EXPECT_EQ(r.error(), codes::circuit_open);
  EXPECT_EQ(b->state(), breaker_state::forced_open);
  b->reset();
  EXPECT_TRUE(b->call([] { return 1; }));
}

TEST_F(BreakerTest, DisabledAdmitsEverythingAndCountsNothing) {
  auto b = make({.window_size = 2, .minimum_calls = 2});
  b->disable();
  fail_calls(*b, 10);
  EXPECT_EQ(b->state(), breaker_state::disabled);
  EXPECT_EQ(b->snapshot().buffered_calls, 0u);
}

TEST_F(BreakerTest, PublishesEveryStateChange) {
  auto b = make({.window_size = 2,
                 .minimum_calls = 2,
                 .wait_in_open = 1s,
                 .permitted_calls_in_half_open = 1});
  fail_calls(*b, 2);
  clk.advance(1s);
  succeed(*b, 1);
  const auto changes = events->of(event_kind::breaker_state_changed);
  ASSERT_EQ(changes.size(), 3u);
  EXPECT_EQ(changes[0].from, breaker_state::closed);
  EXPECT_EQ(changes[0].to, breaker_state::open);
  EXPECT_EQ(changes[0].reason, "failure_rate");
  EXPECT_EQ(changes[1].to, breaker_state::half_open);
  EXPECT_EQ(changes[2].to, breaker_state::closed);
  EXPECT_EQ(changes[2].name, "payments");
  EXPECT_EQ(events->count(event_kind::breaker_failure_recorded), 2u);
}

TEST_F(BreakerTest, SnapshotReportsRatesCountsAndTimeInState) {
  auto b = make({.window_size = 10, .minimum_calls = 10});
  succeed(*b, 3);
  fail_calls(*b, 1);
  clk.advance(5s);
  const auto s = b->snapshot();
  EXPECT_EQ(s.name, "payments");
  EXPECT_EQ(s.state, breaker_state::closed);
  EXPECT_EQ(s.buffered_calls, 4u);
  EXPECT_EQ(s.failed_calls, 1u);
  EXPECT_DOUBLE_EQ(s.failure_rate, 0.25);
  EXPECT_EQ(s.time_in_state, 5s);
  const auto j = to_json(s);
  EXPECT_EQ(j.at("state"), "closed");
  EXPECT_EQ(j.at("time_in_state_ms"), 5000);
}

TEST_F(BreakerTest, AnOutcomeFromAnEarlierStateIsDropped) {
  auto b = make({.window_size = 2, .minimum_calls = 2});
  auto p = b->acquire();
  ASSERT_TRUE(p);
  b->force_open();
  b->reset();
  b->on_error(*p, keel::error(codes::timeout));
  EXPECT_EQ(b->snapshot().buffered_calls, 0u);
}

TEST_F(BreakerTest, InvalidConfigIsAnError) {
  EXPECT_FALSE(circuit_breaker::create({.failure_rate_threshold = 0}, clk));
  EXPECT_FALSE(circuit_breaker::create({.failure_rate_threshold = 1.5}, clk));
  EXPECT_FALSE(circuit_breaker::create({.window_size = 0}, clk));
  EXPECT_FALSE(
      circuit_breaker::create({.window = window_kind::time_based, .window_size = 601}, clk));
  EXPECT_FALSE(circuit_breaker::create({.permitted_calls_in_half_open = 0}, clk));
  EXPECT_FALSE(circuit_breaker::create({.stripes = 3}, clk));
  EXPECT_FALSE(circuit_breaker::create({.wait_in_open = 0s}, clk));
  EXPECT_FALSE(circuit_breaker::create({.wait_in_open = 25h}, clk));
  EXPECT_THROW(circuit_breaker({.minimum_calls = 0}, clk), keel::exception);
}

}  // namespace
}  // namespace keel::resilience
