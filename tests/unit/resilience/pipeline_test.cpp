#include "keel/resilience/pipeline.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "keel/resilience/breaker_registry.hpp"
#include "keel/resilience/bulkhead.hpp"
#include "keel/resilience/circuit_breaker.hpp"
#include "keel/resilience/fallback.hpp"
#include "keel/resilience/retry.hpp"
#include "keel/resilience/timeout.hpp"

namespace keel::resilience {
namespace {

using namespace std::chrono_literals;

// An application policy: anything with call(f).
struct tracer {
  std::string name;
  std::vector<std::string>* log;
  template <class F>
  auto call(F&& f) {
    log->push_back(name + ">");
    auto r = keel::try_call(f);
    log->push_back("<" + name);
    return r;
  }
};

TEST(Pipeline, RunsPoliciesOutermostFirst) {
  std::vector<std::string> log;
  pipeline p(tracer{"a", &log}, tracer{"b", &log}, tracer{"c", &log});
  auto r = p.call([&] {
    log.push_back("call");
    return 1;
  });
  EXPECT_TRUE(r);
  EXPECT_EQ(log, (std::vector<std::string>{"a>", "b>", "c>", "call", "<c", "<b", "<a"}));
}

struct PaymentPipeline : ::testing::Test {
  manual_clock clk;
  seeded_random rng{1};
  std::shared_ptr<recording_listener> events = std::make_shared<recording_listener>();
  fallback<std::string> queued =
      fallback<std::string>::value("queued", {.name = "payments", .listener = events}, clk);
  retry retries{
      {.name = "payments",
       .max_attempts = 3,
       .wait = {.kind = backoff_kind::constant, .initial = 100ms, .jitter = jitter_kind::none},
       // An open breaker's Retry-After (30 s) is not worth waiting for.
       .max_retry_after = 5s,
       .listener = events},
      clk,
      rng};
  std::unique_ptr<circuit_breaker> breaker = circuit_breaker::create({.name = "payments",
                                                                      .window_size = 4,
                                                                      .minimum_calls = 4,
                                                                      .wait_in_open = 30s,
                                                                      .listener = events},
                                                                     clk)
                                                 .value();
  timeout per_attempt{{.name = "payments", .timeout = 2s, .listener = events}, clk};
  bulkhead slots{{.name = "payments", .max_concurrent = 10, .listener = events}, clk};
};

TEST_F(PaymentPipeline, ASuccessfulChargePassesEveryPolicy) {
  pipeline p(queued, retries, *breaker, per_attempt, slots);
  auto r = p.call([] { return std::string("receipt-1"); });
  EXPECT_EQ(r.value(), "receipt-1");
  EXPECT_TRUE(events->events().empty());
}

TEST_F(PaymentPipeline, TheBreakerSeesEveryAttemptOfTheRetry) {
  pipeline p(queued, retries, *breaker, per_attempt, slots);
  int attempts = 0;
  auto r = p.call([&]() -> result<std::string> {
    ++attempts;
    return fail(codes::external_service_error, "gateway 502");
  });
  EXPECT_EQ(r.value(), "queued");  // the fallback after three failed attempts
  EXPECT_EQ(attempts, 3);
  EXPECT_EQ(breaker->snapshot().failed_calls, 3u);
  EXPECT_EQ(events->count(event_kind::retry_scheduled), 2u);
  EXPECT_EQ(events->count(event_kind::retry_exhausted), 1u);
  EXPECT_EQ(events->count(event_kind::fallback_used), 1u);
}

TEST_F(PaymentPipeline, AnOpenBreakerStopsCallsAndTheFallbackAnswers) {
  pipeline p(queued, retries, *breaker, per_attempt, slots);
  int attempts = 0;
  const auto failing = [&]() -> result<std::string> {
    ++attempts;
    return fail(codes::external_service_error);
  };
  (void)p.call(failing);  // 3 failed attempts
  (void)p.call(failing);  // the 4th opens the breaker; the rest are rejected
  EXPECT_EQ(breaker->state(), breaker_state::open);
  EXPECT_EQ(attempts, 4);
  EXPECT_EQ(p.call(failing).value(), "queued");
  EXPECT_EQ(attempts, 4);
}

TEST_F(PaymentPipeline, TheTimeoutInsideTheRetryBoundsEachAttempt) {
  pipeline p(retries, per_attempt);
  int attempts = 0;
  auto r = p.call([&] {
    if (++attempts < 3) clk.advance(5s);  // two slow attempts
    return std::string("ok");
  });
  EXPECT_EQ(r.value(), "ok");
  EXPECT_EQ(attempts, 3);
  EXPECT_EQ(events->count(event_kind::timeout), 2u);
}

TEST_F(PaymentPipeline, ATimeoutOutsideTheRetryBoundsTheWhole) {
  timeout overall({.name = "overall", .timeout = 250ms}, clk);
  pipeline p(overall, retries);
  int attempts = 0;
  auto r = p.call([&]() -> result<int> {
    ++attempts;
    return fail(codes::network_error);
  });
  EXPECT_EQ(r.error(), codes::network_error);  // the retry stopped before the deadline
  EXPECT_EQ(attempts, 3);                      // at 0, 100 and 200 ms
}

TEST_F(PaymentPipeline, ThrowingCallablesWorkToo) {
  pipeline p(queued, retries, *breaker);
  int attempts = 0;
  auto r = p.call([&]() -> std::string {
    if (++attempts < 2) throw std::runtime_error("socket closed");
    return "receipt";
  });
  EXPECT_EQ(r.value(), "receipt");
}

TEST_F(PaymentPipeline, HoldsSharedPointersAndOwnsRvalues) {
  breaker_registry reg({}, clk);
  auto shared = reg.get_or_create("payments").value();
  pipeline p(shared, timeout({.name = "owned", .timeout = 1s}, clk));
  EXPECT_EQ(p.call([] { return 2; }).value(), 2);
  EXPECT_EQ(p.get<0>().name(), "payments");
  EXPECT_EQ(p.get<1>().name(), "owned");
}

}  // namespace
}  // namespace keel::resilience
