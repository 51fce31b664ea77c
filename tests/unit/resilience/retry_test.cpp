#include "keel/resilience/retry.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

#include "test_support.hpp"

namespace keel::resilience {
namespace {

using namespace std::chrono_literals;
using testing::scripted;

const backoff fixed_100ms{
    .kind = backoff_kind::constant, .initial = 100ms, .jitter = jitter_kind::none};

struct RetryTest : ::testing::Test {
  manual_clock clk;
  seeded_random rng{1};
  std::shared_ptr<recording_listener> events = std::make_shared<recording_listener>();
  retry make(retry_config c) {
    c.listener = events;
    return retry(std::move(c), clk, rng);
  }
};

TEST_F(RetryTest, FirstTimeSuccessNeitherWaitsNorPublishes) {
  auto r = make({.name = "svc", .wait = fixed_100ms});
  scripted f{};
  EXPECT_EQ(r.call(std::ref(f)).value(), 42);
  EXPECT_EQ(f.calls, 1);
  EXPECT_EQ(clk.sleep_calls(), 0u);
  EXPECT_TRUE(events->events().empty());
}

TEST_F(RetryTest, RetriesTransientErrorsUntilSuccess) {
  auto r = make({.name = "svc", .max_attempts = 3, .wait = fixed_100ms});
  scripted f{.failures = {&codes::timeout, &codes::network_error}};
  EXPECT_EQ(r.call(std::ref(f)).value(), 42);
  EXPECT_EQ(f.calls, 3);
  EXPECT_EQ(clk.slept(), 200ms);
  const auto scheduled = events->of(event_kind::retry_scheduled);
  ASSERT_EQ(scheduled.size(), 2u);
  EXPECT_EQ(scheduled[0].attempt, 1u);
  EXPECT_EQ(scheduled[0].code, "TIMEOUT");
  EXPECT_EQ(scheduled[0].delay, 100ms);
  EXPECT_EQ(scheduled[1].attempt, 2u);
  ASSERT_EQ(events->count(event_kind::retry_succeeded), 1u);
  EXPECT_EQ(events->of(event_kind::retry_succeeded)[0].attempt, 3u);
}

TEST_F(RetryTest, ReturnsTheLastErrorUnchangedWhenAttemptsRunOut) {
  auto r = make({.name = "svc", .max_attempts = 3, .wait = fixed_100ms});
  scripted f{.failures = {&codes::timeout, &codes::timeout, &codes::service_unavailable}};
  auto out = r.call(std::ref(f));
  ASSERT_FALSE(out);
  EXPECT_EQ(out.error(), codes::service_unavailable);
  EXPECT_EQ(f.calls, 3);
  const auto ex = events->of(event_kind::retry_exhausted);
  ASSERT_EQ(ex.size(), 1u);
  EXPECT_EQ(ex[0].reason, "max_attempts");
  EXPECT_EQ(ex[0].attempt, 3u);
}

TEST_F(RetryTest, NeverRetriesValidationErrors) {
  auto r = make({.name = "svc", .wait = fixed_100ms});
  scripted f{.failures = {&codes::validation_error}};
  EXPECT_EQ(r.call(std::ref(f)).error(), codes::validation_error);
  EXPECT_EQ(f.calls, 1);
  EXPECT_EQ(events->count(event_kind::retry_not_retryable), 1u);
}

TEST_F(RetryTest, NeverRetriesBusinessErrors) {
  auto r = make({.name = "svc", .wait = fixed_100ms});
  scripted f{.failures = {&codes::payment_required}};
  EXPECT_FALSE(r.call(std::ref(f)));
  EXPECT_EQ(f.calls, 1);
}

TEST_F(RetryTest, RetriesSystemicErrors) {
  auto r = make({.name = "svc", .wait = fixed_100ms});
  scripted f{.failures = {&codes::database_error}};
  EXPECT_TRUE(r.call(std::ref(f)));
  EXPECT_EQ(f.calls, 2);
}

TEST_F(RetryTest, ThrownExceptionsAreRetriedAsInternalErrors) {
  auto r = make({.name = "svc", .wait = fixed_100ms});
  int calls = 0;
  auto out = r.call([&]() -> int {
    if (++calls < 3) throw std::runtime_error("flaky");
    return 7;
  });
  EXPECT_EQ(out.value(), 7);
  EXPECT_EQ(calls, 3);
}

TEST_F(RetryTest, UserPredicateDecidesWhatIsRetried) {
  auto r = make({.name = "svc", .wait = fixed_100ms, .retry_on = [](const keel::error& e) {
                   return e == codes::conflict;
                 }});
  scripted f{.failures = {&codes::conflict, &codes::timeout}};
  auto out = r.call(std::ref(f));
  EXPECT_EQ(out.error(), codes::timeout);  // TIMEOUT is not retried by this predicate
  EXPECT_EQ(f.calls, 2);
}

TEST_F(RetryTest, RetriesAValueThePredicateRejects) {
  auto r = make({.name = "svc", .max_attempts = 5, .wait = fixed_100ms});
  int calls = 0;
  auto out =
      r.call([&] { return ++calls < 3 ? 503 : 200; }, [](int status) { return status == 503; });
  EXPECT_EQ(out.value(), 200);
  EXPECT_EQ(calls, 3);
}

TEST_F(RetryTest, ReturnsTheLastValueWhenValueRetriesRunOut) {
  auto r = make({.name = "svc", .max_attempts = 2, .wait = fixed_100ms});
  int calls = 0;
  auto out = r.call([&] { return ++calls * 0 + 503; }, [](int s) { return s == 503; });
  EXPECT_EQ(out.value(), 503);
  EXPECT_EQ(calls, 2);
}

TEST_F(RetryTest, OneAttemptNeverRetries) {
  auto r = make({.name = "svc", .max_attempts = 1, .wait = fixed_100ms});
  scripted f{.failures = {&codes::timeout}};
  EXPECT_FALSE(r.call(std::ref(f)));
  EXPECT_EQ(f.calls, 1);
  EXPECT_EQ(clk.sleep_calls(), 0u);
}

TEST_F(RetryTest, WaitsTheRetryAfterTheServerAskedForWhenLongerThanTheBackoff) {
  auto r = make({.name = "svc", .wait = fixed_100ms});
  int calls = 0;
  auto out = r.call([&]() -> result<int> {
    if (++calls == 1) return fail(keel::error(codes::rate_limited).with_retry_after(3s));
    return 1;
  });
  EXPECT_TRUE(out);
  EXPECT_EQ(clk.slept(), 3s);
}

TEST_F(RetryTest, KeepsTheBackoffWhenRetryAfterIsShorter) {
  auto r = make({.name = "svc", .wait = fixed_100ms});
  int calls = 0;
  (void)r.call([&]() -> result<int> {
    if (++calls == 1) return fail(keel::error(codes::rate_limited).with_retry_after(10ms));
    return 1;
  });
  EXPECT_EQ(clk.slept(), 100ms);
}

TEST_F(RetryTest, IgnoresRetryAfterWhenToldTo) {
  auto r = make({.name = "svc", .wait = fixed_100ms, .honour_retry_after = false});
  int calls = 0;
  (void)r.call([&]() -> result<int> {
    if (++calls == 1) return fail(keel::error(codes::rate_limited).with_retry_after(3s));
    return 1;
  });
  EXPECT_EQ(clk.slept(), 100ms);
}

TEST_F(RetryTest, RetryAfterAboveTheMaximumEndsRetriesWithTheRealError) {
  auto r = make({.name = "svc", .wait = fixed_100ms, .max_retry_after = 1s});
  int calls = 0;
  auto out = r.call([&]() -> result<int> {
    ++calls;
    return fail(keel::error(codes::service_unavailable).with_retry_after(2s));
  });
  EXPECT_EQ(out.error(), codes::service_unavailable);
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(events->of(event_kind::retry_exhausted).at(0).reason, "retry_after");
}

TEST_F(RetryTest, RetryAfterLargerThanTheDeadlineEndsRetriesAtOnce) {
  auto r = make({.name = "svc", .wait = fixed_100ms, .max_duration = 5s});
  int calls = 0;
  auto out = r.call([&]() -> result<int> {
    ++calls;
    return fail(keel::error(codes::rate_limited).with_retry_after(6s));
  });
  EXPECT_EQ(out.error(), codes::rate_limited);
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(clk.sleep_calls(), 0u);
  EXPECT_EQ(events->of(event_kind::retry_exhausted).at(0).reason, "deadline");
}

TEST_F(RetryTest, StopsBeforeAWaitThatWouldEndExactlyAtTheDeadline) {
  auto r = make({.name = "svc", .max_attempts = 10, .wait = fixed_100ms, .max_duration = 300ms});
  scripted f{.failures = std::vector<const error_code*>(10, &codes::timeout)};
  EXPECT_FALSE(r.call(std::ref(f)));
  // Waits at 0 -> 100 -> 200 ms; the third would end at 300 ms, the deadline.
  EXPECT_EQ(f.calls, 3);
  EXPECT_EQ(clk.slept(), 200ms);
}

TEST_F(RetryTest, TheEnclosingDeadlineLimitsRetries) {
  auto r = make({.name = "svc", .max_attempts = 10, .wait = fixed_100ms});
  scripted f{.failures = std::vector<const error_code*>(10, &codes::timeout)};
  deadline_scope ds(clk.steady_now() + 250ms);
  EXPECT_FALSE(r.call(std::ref(f)));
  EXPECT_EQ(f.calls, 3);  // waits end at 100 and 200 ms; one to 300 ms would pass 250 ms
}

TEST_F(RetryTest, CancellationDuringABackoffWaitEndsTheCallWithoutAnotherAttempt) {
  testing::hook_clock hc;
  cancellation_source stop;
  hc.on_sleep = [&](clock::duration) { stop.cancel(); };
  retry r({.name = "svc", .max_attempts = 5, .wait = fixed_100ms, .listener = events}, hc, rng);
  scripted f{.failures = std::vector<const error_code*>(5, &codes::timeout)};
  cancellation_scope cs(stop);
  auto out = r.call(std::ref(f));
  ASSERT_FALSE(out);
  EXPECT_EQ(out.error(), codes::cancelled);
  ASSERT_NE(out.error().cause(), nullptr);
  EXPECT_EQ(*out.error().cause(), codes::timeout);
  EXPECT_EQ(f.calls, 1);
  EXPECT_EQ(events->count(event_kind::retry_cancelled), 1u);
}

TEST_F(RetryTest, CancelledCallIsNotRetried) {
  auto r = make({.name = "svc", .wait = fixed_100ms});
  scripted f{.failures = {&codes::cancelled}};
  EXPECT_EQ(r.call(std::ref(f)).error(), codes::cancelled);
  EXPECT_EQ(f.calls, 1);
}

TEST_F(RetryTest, VoidCallablesAreSupported) {
  auto r = make({.name = "svc", .wait = fixed_100ms});
  int calls = 0;
  result<void> out = r.call([&]() -> result<void> {
    if (++calls == 1) return fail(codes::timeout);
    return ok();
  });
  EXPECT_TRUE(out);
  EXPECT_EQ(calls, 2);
}

TEST_F(RetryTest, BudgetExhaustionStopsRetries) {
  auto budget = std::make_shared<retry_budget>(
      retry_budget_config{.ratio = 0.0, .min_retries_per_second = 0.2, .window = 10s}, clk);
  // 0.2/s over 10 s: two retries in the window, the third is refused.
  auto r = make({.name = "svc", .max_attempts = 10, .wait = fixed_100ms, .budget = budget});
  scripted f{.failures = std::vector<const error_code*>(10, &codes::timeout)};
  EXPECT_EQ(r.call(std::ref(f)).error(), codes::timeout);
  EXPECT_EQ(f.calls, 3);
  EXPECT_EQ(events->count(event_kind::retry_budget_exhausted), 1u);
}

TEST_F(RetryTest, InvalidConfigIsAnError) {
  EXPECT_EQ(retry::create({.max_attempts = 0}, clk, rng).error(), codes::configuration_error);
  EXPECT_EQ(retry::create({.wait = {.initial = 0ms}}, clk, rng).error(),
            codes::configuration_error);
  EXPECT_THROW(retry({.max_attempts = 0}, clk, rng), keel::exception);
}

}  // namespace
}  // namespace keel::resilience
