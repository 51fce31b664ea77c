// The reporting adapters shared by policies on several threads, with
// scrapes running at the same time: every event is counted once, and the
// breaker gauges are read while breakers change state.
#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "keel/metrics/exposition.hpp"
#include "keel/metrics/registry.hpp"
#include "keel/reporting/resilience_log.hpp"
#include "keel/reporting/resilience_metrics.hpp"
#include "keel/resilience/breaker_registry.hpp"
#include "keel/resilience/rate_limiter.hpp"
#include "unit/log/log_test_support.hpp"

namespace keel::reporting {
namespace {

namespace kr = keel::resilience;
using namespace std::chrono_literals;

TEST(ConcurrentReporting, EventsFromManyThreadsAreEachCountedOnceWhileScraped) {
  log::testing::log_capture capture("resilience", log::level::info);
  ASSERT_TRUE(capture.ok());
  keel::metrics::registry metrics;
  auto listener =
      std::make_shared<kr::fanout_listener>(std::vector<std::shared_ptr<kr::event_listener>>{
          resilience_metrics::create(metrics).value(), std::make_shared<resilience_log>()});
  manual_clock clk;
  kr::breaker_registry breakers({.listener = listener}, clk);
  ASSERT_TRUE(metrics.add_collector(std::make_shared<breaker_collector>(breakers)));
  // No tokens ever flow in on a manual clock that does not move: every call
  // after the burst is rejected and reported.
  kr::rate_limiter limiter(
      {.name = "shared", .rate_per_second = 1, .burst = 1, .listener = listener}, clk);

  constexpr int kThreads = 4;
  constexpr int kCalls = 2000;
  std::atomic<bool> done{false};
  std::thread scraper([&] {
    while (!done.load()) {
      const std::string text = keel::metrics::expose(metrics);
      ASSERT_FALSE(text.empty());
    }
  });
  std::vector<std::thread> callers;
  for (int t = 0; t < kThreads; ++t) {
    callers.emplace_back([&, t] {
      auto b = breakers
                   .get_or_create("b" + std::to_string(t),
                                  {.window_size = 10, .minimum_calls = 10, .wait_in_open = 1h})
                   .value();
      for (int i = 0; i < kCalls; ++i) {
        (void)limiter.call([] { return 1; });
        (void)b->call([]() -> result<int> { return fail(codes::network_error); });
      }
    });
  }
  for (auto& c : callers)
    c.join();
  done = true;
  scraper.join();

  const std::string text = keel::metrics::expose(metrics);
  const std::string rejected =
      "keel_rate_limited_total{limiter=\"shared\"} " + std::to_string(kThreads * kCalls - 1) + "\n";
  EXPECT_NE(text.find(rejected), std::string::npos) << text;
  for (int t = 0; t < kThreads; ++t) {
    const std::string name = "b" + std::to_string(t);
    // 10 failures open it; the other calls are rejected while open.
    EXPECT_NE(text.find("keel_breaker_failures_total{breaker=\"" + name +
                        "\",code=\"NETWORK_ERROR\"} 10\n"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("keel_breaker_rejected_total{breaker=\"" + name + "\"} " +
                        std::to_string(kCalls - 10) + "\n"),
              std::string::npos);
    EXPECT_NE(text.find("keel_breaker_state{breaker=\"" + name + "\",state=\"open\"} 1\n"),
              std::string::npos);
  }
  // Each breaker opened once: one warn line each (rejections are debug).
  int opened = 0;
  for (const auto& l : capture.lines())
    if (l["event"] == "breaker_state_changed") ++opened;
  EXPECT_EQ(opened, kThreads);
}

}  // namespace
}  // namespace keel::reporting
