#include "keel/resilience/fault_injection.hpp"

#include <gtest/gtest.h>

namespace keel::resilience {
namespace {

using namespace std::chrono_literals;

TEST(FaultInjection, AtRateOneEveryCallFailsWithTheConfiguredErrorAndIsNotRun) {
  manual_clock clk;
  seeded_random rng(1);
  auto events = std::make_shared<recording_listener>();
  fault_injection chaos(
      {.name = "drill", .error_rate = 1.0, .error = &codes::network_error, .listener = events}, clk,
      rng);
  int ran = 0;
  auto r = chaos.call([&] { return ++ran; });
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), codes::network_error);
  EXPECT_EQ(r.error().details().at("injected"), true);
  EXPECT_EQ(ran, 0);
  EXPECT_EQ(events->of(event_kind::fault_injected).at(0).reason, "error");
}

TEST(FaultInjection, AtRateZeroNothingIsInjected) {
  manual_clock clk;
  seeded_random rng(1);
  fault_injection chaos({.error_rate = 0, .latency_rate = 0, .latency = 1s}, clk, rng);
  for (int i = 0; i < 100; ++i)
    EXPECT_TRUE(chaos.call([] { return 1; }));
  EXPECT_EQ(clk.sleep_calls(), 0u);
}

TEST(FaultInjection, InjectsAboutTheConfiguredShare) {
  manual_clock clk;
  seeded_random rng(42);
  fault_injection chaos({.error_rate = 0.25}, clk, rng);
  int failed = 0;
  for (int i = 0; i < 10'000; ++i)
    failed += chaos.call([] { return 1; }) ? 0 : 1;
  EXPECT_NEAR(failed, 2500, 200);
}

TEST(FaultInjection, AddsLatencyOnTheClock) {
  manual_clock clk;
  seeded_random rng(1);
  fault_injection chaos({.latency_rate = 1.0, .latency = 800ms}, clk, rng);
  EXPECT_TRUE(chaos.call([] { return 1; }));
  EXPECT_EQ(clk.slept(), 800ms);
}

TEST(FaultInjection, InjectedLatencyHonoursTheDeadline) {
  manual_clock clk;
  seeded_random rng(1);
  fault_injection chaos({.latency_rate = 1.0, .latency = 5s}, clk, rng);
  deadline_scope ds(clk.steady_now() + 1s);
  EXPECT_EQ(chaos.call([] { return 1; }).error(), codes::timeout);
  EXPECT_EQ(clk.slept(), 1s);
}

TEST(FaultInjection, CanBeSwitchedAtRuntime) {
  manual_clock clk;
  seeded_random rng(1);
  fault_injection chaos({.enabled = false, .error_rate = 1.0}, clk, rng);
  EXPECT_TRUE(chaos.call([] { return 1; }));
  chaos.set_enabled(true);
  EXPECT_FALSE(chaos.call([] { return 1; }));
  chaos.set_error_rate(0);
  EXPECT_TRUE(chaos.call([] { return 1; }));
  chaos.set_latency(1.0, 10ms);
  EXPECT_TRUE(chaos.call([] { return 1; }));
  EXPECT_EQ(clk.slept(), 10ms);
}

TEST(OutcomeInjection, ReplacesTheCallByTheGivenOutcome) {
  manual_clock clk;
  seeded_random rng(1);
  outcome_injection<int> inj("drill", fail(codes::service_unavailable), 1.0, {}, clk, rng);
  EXPECT_EQ(inj.call([] { return 1; }).error(), codes::service_unavailable);
  outcome_injection<int> val("drill", 404, 1.0, {}, clk, rng);
  EXPECT_EQ(val.call([] { return 1; }).value(), 404);
  val.set_enabled(false);
  EXPECT_EQ(val.call([] { return 1; }).value(), 1);
}

TEST(FaultInjection, InvalidConfigIsRejected) {
  EXPECT_FALSE((fault_injection_config{.error_rate = 1.5}.validate()));
  EXPECT_FALSE((fault_injection_config{.error = nullptr}.validate()));
  EXPECT_THROW(fault_injection({.latency = -1s}), keel::exception);
}

}  // namespace
}  // namespace keel::resilience
