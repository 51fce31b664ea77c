// Resilience events as keel::metrics counters and keel::log lines: real
// policies on a manual clock, a real metrics registry (checked by promtool)
// and a real log backend whose sink keeps its lines in memory.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "keel/metrics/exposition.hpp"
#include "keel/metrics/registry.hpp"
#include "keel/reporting/resilience_log.hpp"
#include "keel/reporting/resilience_metrics.hpp"
#include "keel/resilience/breaker_registry.hpp"
#include "keel/resilience/bulkhead.hpp"
#include "keel/resilience/fallback.hpp"
#include "keel/resilience/fault_injection.hpp"
#include "keel/resilience/pipeline.hpp"
#include "keel/resilience/rate_limiter.hpp"
#include "keel/resilience/retry.hpp"
#include "keel/resilience/timeout.hpp"
#include "support/promtool.hpp"
#include "unit/log/log_test_support.hpp"

namespace keel::reporting {
namespace {

using namespace std::chrono_literals;
namespace kr = keel::resilience;

bool has(const std::string& text, const std::string& line) {
  return text.find(line + "\n") != std::string::npos;
}

class ResilienceReporting : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(capture_.ok()); }
  void configure_log(log::level min) {
    capture_.configure(min);
    ASSERT_TRUE(capture_.ok());
  }
  // The lines of the "resilience" logger written so far.
  std::vector<nlohmann::json> lines() const { return capture_.lines(); }

  std::string exposed() const { return keel::metrics::expose(metrics); }

  manual_clock clk;
  seeded_random rng{1};
  keel::metrics::registry metrics;
  std::shared_ptr<resilience_metrics> counts = resilience_metrics::create(metrics).value();
  std::shared_ptr<kr::event_listener> listener = std::make_shared<kr::fanout_listener>(
      std::vector<std::shared_ptr<kr::event_listener>>{counts, std::make_shared<resilience_log>()});
  log::testing::log_capture capture_{"resilience", log::level::info};
};

// The seeds' payment-gateway example (docs/resilience.md): fallback → retry
// → circuit breaker → timeout, a gateway that fails, then goes down.
TEST_F(ResilienceReporting, PaymentGatewayExampleCountsAndLogsWhatHappened) {
  kr::breaker_registry breakers({.listener = listener}, clk);
  auto breaker =
      breakers
          .get_or_create("payments", {.window_size = 4, .minimum_calls = 4, .wait_in_open = 30s})
          .value();
  ASSERT_TRUE(metrics.add_collector(std::make_shared<breaker_collector>(breakers)));
  auto queued =
      kr::fallback<std::string>::value("queued", {.name = "payments", .listener = listener}, clk);
  kr::retry retries({.name = "payments",
                     .max_attempts = 3,
                     .wait = {.kind = kr::backoff_kind::constant,
                              .initial = 200ms,
                              .jitter = kr::jitter_kind::none},
                     .max_retry_after = 5s,
                     .listener = listener},
                    clk, rng);
  kr::timeout per_attempt({.name = "payments", .timeout = 2s, .listener = listener}, clk);
  kr::pipeline charge(queued, retries, *breaker, per_attempt);

  int attempts = 0;
  const auto gateway_down = [&]() -> result<std::string> {
    ++attempts;
    return fail(codes::external_service_error, "gateway answered 502");
  };
  // Three failed attempts, then the fallback. The fourth failure opens the
  // breaker; the retry after it meets CIRCUIT_OPEN, whose Retry-After (the
  // 30 s left open) is over max_retry_after, so the retries end there.
  EXPECT_EQ(charge.call(gateway_down).value(), "queued");
  EXPECT_EQ(charge.call(gateway_down).value(), "queued");
  EXPECT_EQ(attempts, 4);
  EXPECT_EQ(breaker->state(), kr::breaker_state::open);

  const std::string text = exposed();
  EXPECT_TRUE(
      has(text, R"(keel_retry_attempts_total{policy="payments",code="EXTERNAL_SERVICE_ERROR"} 3)"))
      << text;
  EXPECT_TRUE(has(text, R"(keel_retry_calls_total{policy="payments",outcome="exhausted"} 2)"));
  EXPECT_TRUE(has(
      text, R"(keel_breaker_failures_total{breaker="payments",code="EXTERNAL_SERVICE_ERROR"} 4)"));
  EXPECT_TRUE(
      has(text, R"(keel_breaker_transitions_total{breaker="payments",from="closed",to="open"} 1)"));
  EXPECT_TRUE(
      has(text, R"(keel_fallback_used_total{policy="payments",code="EXTERNAL_SERVICE_ERROR"} 1)"));
  EXPECT_TRUE(has(text, R"(keel_fallback_used_total{policy="payments",code="CIRCUIT_OPEN"} 1)"));
  EXPECT_TRUE(has(text, R"(keel_breaker_state{breaker="payments",state="open"} 1)"));
  EXPECT_TRUE(has(text, R"(keel_breaker_state{breaker="payments",state="closed"} 0)"));
  EXPECT_TRUE(has(text, R"(keel_breaker_failure_rate{breaker="payments"} 1)"));
  EXPECT_TRUE(has(text, R"(keel_breaker_buffered_calls{breaker="payments"} 4)"));

  // Rejected while open: the retry does not wait out a 30 s Retry-After.
  EXPECT_EQ(charge.call(gateway_down).value(), "queued");
  EXPECT_EQ(attempts, 4);
  EXPECT_TRUE(has(exposed(), R"(keel_breaker_rejected_total{breaker="payments"} 2)")) << exposed();

  const auto [code, output] = keel::testing::promtool_check(exposed());
  EXPECT_EQ(code, 0) << output;

  // The log: retries at warn with the attempt and delay, exhaustion at
  // error, the breaker opening at warn; per-call rejections stay at debug.
  const auto logged = lines();
  std::vector<std::string> shape;
  for (const auto& l : logged)
    shape.push_back(l["level"].get<std::string>() + " " + l["event"].get<std::string>());
  EXPECT_EQ(shape, (std::vector<std::string>{"warn retry_scheduled", "warn retry_scheduled",
                                             "error retry_exhausted", "warn fallback_used",
                                             "warn breaker_state_changed", "warn retry_scheduled",
                                             "error retry_exhausted", "warn fallback_used",
                                             "error retry_exhausted", "warn fallback_used"}));
  const auto& first = logged.at(0);
  EXPECT_EQ(first["message"], "retrying after a failed attempt");
  EXPECT_EQ(first["policy"], "payments");
  EXPECT_EQ(first["attempt"], 1);
  EXPECT_EQ(first["delay_ms"], 200);
  EXPECT_EQ(first["error"]["code"], "EXTERNAL_SERVICE_ERROR");
  EXPECT_EQ(logged.at(2)["reason"], "max_attempts");
  EXPECT_EQ(logged.at(2)["attempt"], 3);
  EXPECT_FALSE(logged.at(3).contains("attempt"));  // a fallback has no attempts
  const auto& opened = logged.at(4);
  EXPECT_EQ(opened["policy"], "payments");
  EXPECT_EQ(opened["from"], "closed");
  EXPECT_EQ(opened["to"], "open");
  EXPECT_EQ(opened["reason"], "failure_rate");
  EXPECT_EQ(logged.at(6)["reason"], "retry_after");
  EXPECT_EQ(logged.at(6)["error"]["code"], "CIRCUIT_OPEN");
}

TEST_F(ResilienceReporting, RetriesThatSucceedOrAreRefusedAreCountedByOutcome) {
  kr::retry retries({.name = "inventory",
                     .max_attempts = 3,
                     .wait = {.kind = kr::backoff_kind::constant,
                              .initial = 10ms,
                              .jitter = kr::jitter_kind::none},
                     .listener = listener},
                    clk, rng);
  int calls = 0;
  EXPECT_TRUE(retries.call([&]() -> result<int> {
    if (++calls < 2) return fail(codes::timeout);
    return 7;
  }));
  EXPECT_FALSE(retries.call([]() -> result<int> { return fail(codes::validation_error); }));
  const std::string text = exposed();
  EXPECT_TRUE(has(text, R"(keel_retry_attempts_total{policy="inventory",code="TIMEOUT"} 1)"))
      << text;
  EXPECT_TRUE(
      has(text, R"(keel_retry_calls_total{policy="inventory",outcome="success_after_retry"} 1)"));
  EXPECT_TRUE(has(text, R"(keel_retry_calls_total{policy="inventory",outcome="not_retryable"} 1)"));
  const auto logged = lines();
  ASSERT_EQ(logged.size(), 2u);  // not_retryable is debug
  EXPECT_EQ(logged[1]["level"], "info");
  EXPECT_EQ(logged[1]["event"], "retry_succeeded");
  EXPECT_EQ(logged[1]["attempt"], 2);
}

TEST_F(ResilienceReporting, RejectionsTimeoutsAndInjectedFaultsAreCountedByReason) {
  kr::bulkhead slots({.name = "db", .max_concurrent = 1, .max_queue = 0, .listener = listener},
                     clk);
  auto nested = slots.call([&]() -> result<int> { return slots.call([] { return 1; }); });
  ASSERT_FALSE(nested);
  EXPECT_EQ(nested.error(), codes::bulkhead_full);

  kr::rate_limiter limiter({.name = "geo", .rate_per_second = 1, .burst = 1, .listener = listener},
                           clk);
  EXPECT_TRUE(limiter.call([] { return 1; }));
  EXPECT_EQ(limiter.call([] { return 1; }).error(), codes::rate_limited);

  kr::timeout per_call({.name = "search", .timeout = 100ms, .listener = listener}, clk);
  EXPECT_EQ(per_call
                .call([&] {
                  clk.advance(150ms);
                  return 1;
                })
                .error(),
            codes::timeout);

  kr::fault_injection chaos({.name = "drill", .error_rate = 1, .listener = listener}, clk, rng);
  EXPECT_EQ(chaos.call([] { return 1; }).error(), codes::service_unavailable);

  const std::string text = exposed();
  EXPECT_TRUE(has(text, R"(keel_bulkhead_rejected_total{bulkhead="db",reason="full"} 1)")) << text;
  EXPECT_TRUE(has(text, R"(keel_rate_limited_total{limiter="geo"} 1)"));
  EXPECT_TRUE(has(text, R"(keel_timeouts_total{policy="search",mode="cooperative"} 1)"));
  EXPECT_TRUE(has(text, R"(keel_faults_injected_total{policy="drill",kind="error"} 1)"));
  const auto [code, output] = keel::testing::promtool_check(text);
  EXPECT_EQ(code, 0) << output;

  // At info: the timeout (warn) and the injected fault (info); the
  // per-call rejections are debug lines.
  auto logged = lines();
  ASSERT_EQ(logged.size(), 2u);
  EXPECT_EQ(logged[0]["event"], "timeout");
  EXPECT_EQ(logged[0]["mode"], "cooperative");
  EXPECT_EQ(logged[0]["timeout_ms"], 100);
  EXPECT_EQ(logged[0]["elapsed_ms"], 150);
  EXPECT_EQ(logged[1]["event"], "fault_injected");
  EXPECT_EQ(logged[1]["kind"], "error");
  EXPECT_EQ(logged[1]["error"]["code"], "SERVICE_UNAVAILABLE");
}

TEST_F(ResilienceReporting, DebugLevelShowsPerCallRejections) {
  configure_log(log::level::debug);
  kr::rate_limiter limiter({.name = "geo", .rate_per_second = 1, .burst = 1, .listener = listener},
                           clk);
  (void)limiter.call([] { return 1; });
  (void)limiter.call([] { return 1; });
  const auto logged = lines();
  ASSERT_EQ(logged.size(), 1u);
  EXPECT_EQ(logged[0]["level"], "debug");
  EXPECT_EQ(logged[0]["event"], "rate_limited");
  EXPECT_EQ(logged[0]["policy"], "geo");
  EXPECT_EQ(logged[0]["retry_after_ms"], 1000);
}

TEST_F(ResilienceReporting, BreakerCollectorFollowsEveryBreakerThroughItsStates) {
  kr::breaker_registry breakers({}, clk);
  auto a = breakers
               .get_or_create("a", {.window_size = 2,
                                    .minimum_calls = 2,
                                    .wait_in_open = 1s,
                                    .permitted_calls_in_half_open = 1})
               .value();
  (void)breakers.get_or_create("b").value();
  ASSERT_TRUE(metrics.add_collector(std::make_shared<breaker_collector>(breakers)));
  EXPECT_TRUE(has(exposed(), R"(keel_breaker_state{breaker="a",state="closed"} 1)"));
  EXPECT_TRUE(has(exposed(), R"(keel_breaker_state{breaker="b",state="closed"} 1)"));
  for (int i = 0; i < 2; ++i)
    (void)a->call([]() -> result<int> { return fail(codes::network_error); });
  EXPECT_TRUE(has(exposed(), R"(keel_breaker_state{breaker="a",state="open"} 1)"));
  EXPECT_TRUE(has(exposed(), R"(keel_breaker_state{breaker="a",state="closed"} 0)"));
  clk.advance(1s);
  (void)a->call([] { return 1; });  // the trial call closes it
  EXPECT_TRUE(has(exposed(), R"(keel_breaker_state{breaker="a",state="closed"} 1)"));
  a->force_open();
  EXPECT_TRUE(has(exposed(), R"(keel_breaker_state{breaker="a",state="forced_open"} 1)"));
  const auto [code, output] = keel::testing::promtool_check(exposed());
  EXPECT_EQ(code, 0) << output;
}

TEST_F(ResilienceReporting, PolicyNamesBeyondTheSeriesLimitAreDroppedAndCounted) {
  keel::metrics::registry small;
  auto limited = resilience_metrics::create(small, {.max_series = 1}).value();
  kr::rate_limiter one({.name = "one", .rate_per_second = 1, .burst = 1, .listener = limited}, clk);
  kr::rate_limiter two({.name = "two", .rate_per_second = 1, .burst = 1, .listener = limited}, clk);
  for (int i = 0; i < 2; ++i) {
    (void)one.call([] { return 1; });
    (void)two.call([] { return 1; });
  }
  EXPECT_EQ(limited->dropped(), 1u);
  const std::string text = keel::metrics::expose(small);
  EXPECT_TRUE(has(text, R"(keel_rate_limited_total{limiter="one"} 1)")) << text;
  EXPECT_EQ(text.find(R"(limiter="two")"), std::string::npos);
  EXPECT_TRUE(has(text, "keel_resilience_events_dropped_total 1"));
}

TEST_F(ResilienceReporting, TwoAdaptersOnOneRegistryShareTheFamilies) {
  auto again = resilience_metrics::create(metrics);
  ASSERT_TRUE(again) << again.error().message();
  kr::rate_limiter a({.name = "geo", .rate_per_second = 1, .burst = 1, .listener = counts}, clk);
  kr::rate_limiter b({.name = "geo", .rate_per_second = 1, .burst = 1, .listener = *again}, clk);
  (void)a.call([] { return 1; });
  (void)a.call([] { return 1; });
  (void)b.call([] { return 1; });
  (void)b.call([] { return 1; });
  EXPECT_TRUE(has(exposed(), R"(keel_rate_limited_total{limiter="geo"} 2)"));
}

}  // namespace
}  // namespace keel::reporting
