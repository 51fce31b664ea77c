// The health registry's rules, on a manual clock (no sleeping): caching,
// timeouts measured on the clock, criticality, views, the startup gate,
// validation and the exported metrics.
#include "keel/health/registry.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>

#include "keel/metrics/exposition.hpp"
#include "keel/metrics/registry.hpp"

namespace keel::health {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// "c<i>" (built with += : g++ 12 warns falsely on "literal" + std::string).
std::string numbered(int i) {
  std::string s = "c";
  s += std::to_string(i);
  return s;
}

check_fn passing(std::atomic<int>* calls = nullptr) {
  return [calls](const check_context&) {
    if (calls != nullptr) ++*calls;
    return check_result::pass();
  };
}

check_fn failing(std::string why) {
  return [why](const check_context&) { return check_result::fail(why); };
}

const check_report* find(const report& r, std::string_view name) {
  for (const auto& c : r.checks)
    if (c.name == name) return &c;
  return nullptr;
}

TEST(HealthRegistry, EmptyRegistryIsHealthy) {
  manual_clock clk;
  registry h({.clock = &clk});
  EXPECT_EQ(h.readiness().status, health_status::healthy);
  EXPECT_EQ(h.liveness().status, health_status::healthy);
}

TEST(HealthRegistry, RunsEachCheckOfTheViewAndReportsItsResult) {
  manual_clock clk;
  registry h({.clock = &clk});
  ASSERT_TRUE(
      h.add({.name = "db"}, [](const check_context&) { return check_result::pass(3.5, "ms"); }));
  ASSERT_TRUE(h.add({.name = "queue"}, [](const check_context&) {
    return check_result::warn("backlog", 12000, "jobs");
  }));
  report r = h.readiness();
  ASSERT_EQ(r.checks.size(), 2u);
  EXPECT_EQ(find(r, "db")->status, check_status::pass);
  EXPECT_EQ(find(r, "db")->observed_value, 3.5);
  EXPECT_EQ(find(r, "queue")->status, check_status::warn);
  EXPECT_EQ(find(r, "queue")->output, "backlog");
  EXPECT_EQ(find(r, "queue")->time, clk.system_now());
  EXPECT_EQ(r.status, health_status::degraded);
}

TEST(HealthRegistry, CriticalFailureMakesTheWholeUnhealthyAnd503) {
  manual_clock clk;
  registry h({.clock = &clk});
  ASSERT_TRUE(h.add({.name = "ok"}, passing()));
  ASSERT_TRUE(h.add({.name = "db", .critical = true}, failing("down")));
  report r = h.readiness();
  EXPECT_EQ(r.status, health_status::unhealthy);
  EXPECT_EQ(r.http_status(), 503);
  EXPECT_EQ(r.output, "failing: db");
}

TEST(HealthRegistry, NonCriticalFailureOnlyDegrades) {
  manual_clock clk;
  registry h({.clock = &clk});
  ASSERT_TRUE(h.add({.name = "ok"}, passing()));
  ASSERT_TRUE(h.add({.name = "cache", .critical = false}, failing("down")));
  report r = h.readiness();
  EXPECT_EQ(r.status, health_status::degraded);
  EXPECT_EQ(r.http_status(), 200);
  EXPECT_EQ(r.output, "degraded: cache");
}

TEST(HealthRegistry, ResultIsCachedForTheInterval) {
  manual_clock clk;
  registry h({.clock = &clk, .cache_interval = seconds(5)});
  std::atomic<int> calls{0};
  ASSERT_TRUE(h.add({.name = "db"}, passing(&calls)));
  EXPECT_FALSE(h.readiness().checks[0].from_cache);
  clk.advance(milliseconds(4999));
  for (int i = 0; i < 100; ++i)
    EXPECT_TRUE(h.readiness().checks[0].from_cache);
  EXPECT_EQ(calls.load(), 1);
  clk.advance(milliseconds(1));
  EXPECT_FALSE(h.readiness().checks[0].from_cache);
  EXPECT_EQ(calls.load(), 2);
}

TEST(HealthRegistry, PerCheckCacheIntervalOverridesTheRegistry) {
  manual_clock clk;
  registry h({.clock = &clk, .cache_interval = seconds(60)});
  std::atomic<int> calls{0};
  ASSERT_TRUE(h.add({.name = "db", .cache_interval = milliseconds(0)}, passing(&calls)));
  (void)h.readiness();
  (void)h.readiness();
  EXPECT_EQ(calls.load(), 2);
}

TEST(HealthRegistry, CheckThatOverrunsItsTimeoutOnTheClockFails) {
  manual_clock clk;
  registry h({.clock = &clk});
  ASSERT_TRUE(h.add({.name = "slow", .timeout = seconds(1)}, [&](const check_context&) {
    clk.advance(seconds(3));  // the check "took" three seconds
    return check_result::pass();
  }));
  report r = h.readiness();
  const check_report& c = r.checks.at(0);
  EXPECT_EQ(c.status, check_status::fail);
  EXPECT_TRUE(c.timed_out);
  EXPECT_EQ(c.duration, seconds(3));
  EXPECT_EQ(c.output, "timed out after 1000 ms (took 3000 ms)");
  EXPECT_EQ(r.status, health_status::unhealthy);
}

TEST(HealthRegistry, CheckWithinItsTimeoutPassesAndReportsDuration) {
  manual_clock clk;
  registry h({.clock = &clk});
  ASSERT_TRUE(h.add({.name = "db", .timeout = seconds(1)}, [&](const check_context& ctx) {
    EXPECT_EQ(ctx.timeout, seconds(1));
    EXPECT_EQ(ctx.deadline, clk.steady_now() + seconds(1));
    clk.advance(milliseconds(999));
    return check_result::pass();
  }));
  const check_report c = h.readiness().checks.at(0);
  EXPECT_EQ(c.status, check_status::pass);
  EXPECT_EQ(c.duration, milliseconds(999));
}

TEST(HealthRegistry, ThrowingCheckFailsWithItsMessage) {
  manual_clock clk;
  registry h({.clock = &clk});
  ASSERT_TRUE(h.add({.name = "db"}, [](const check_context&) -> check_result {
    throw std::runtime_error("connection reset");
  }));
  ASSERT_TRUE(h.add({.name = "odd"}, [](const check_context&) -> check_result { throw 42; }));
  report r = h.readiness();
  EXPECT_EQ(find(r, "db")->status, check_status::fail);
  EXPECT_EQ(find(r, "db")->output, "check threw: connection reset");
  EXPECT_EQ(find(r, "odd")->status, check_status::fail);
}

TEST(HealthRegistry, ViewsSelectChecksByProbe) {
  manual_clock clk;
  registry h({.clock = &clk});
  ASSERT_TRUE(h.add({.name = "loop", .probes = probe::liveness}, passing()));
  ASSERT_TRUE(h.add({.name = "db", .probes = probe::readiness}, failing("down")));
  ASSERT_TRUE(
      h.add({.name = "migrations", .probes = probe::startup | probe::readiness}, passing()));
  report live = h.liveness();
  ASSERT_EQ(live.checks.size(), 1u);
  EXPECT_EQ(live.checks[0].name, "loop");
  EXPECT_EQ(live.status, health_status::healthy);  // a dead database does not restart us
  report ready = h.readiness();
  EXPECT_EQ(ready.checks.size(), 2u);
  EXPECT_EQ(ready.status, health_status::unhealthy);
  EXPECT_EQ(h.run(view::all).checks.size(), 3u);
  EXPECT_EQ(h.run(view::startup).checks.size(), 1u);
}

TEST(HealthRegistry, StartupGateFailsUntilMarkedStartedThenLatches) {
  manual_clock clk;
  registry h({.clock = &clk, .cache_interval = milliseconds(0)});
  std::atomic<bool> warm{false};
  std::atomic<int> calls{0};
  ASSERT_TRUE(h.add({.name = "cache_warm", .probes = probe::startup}, [&](const check_context&) {
    ++calls;
    return warm ? check_result::pass() : check_result::fail("warming");
  }));
  report r = h.startup();
  EXPECT_EQ(r.status, health_status::unhealthy);
  EXPECT_EQ(r.output, "starting");
  EXPECT_EQ(calls.load(), 0);
  h.mark_started();
  EXPECT_EQ(h.startup().status, health_status::unhealthy);  // check still failing
  warm = true;
  EXPECT_EQ(h.startup().status, health_status::healthy);
  warm = false;
  const int before = calls.load();
  EXPECT_EQ(h.startup().status, health_status::healthy);  // latched: not run again
  EXPECT_EQ(calls.load(), before);
}

TEST(HealthRegistry, RejectsInvalidChecks) {
  registry h;
  EXPECT_EQ(h.add({.name = ""}, passing()).error(), codes::validation_error);
  EXPECT_EQ(h.add({.name = "has space"}, passing()).error(), codes::validation_error);
  EXPECT_EQ(h.add({.name = std::string(65, 'a')}, passing()).error(), codes::validation_error);
  EXPECT_EQ(h.add({.name = "db", .measurement = "bad:name"}, passing()).error(),
            codes::validation_error);
  EXPECT_EQ(h.add({.name = "db", .timeout = milliseconds(0)}, passing()).error(),
            codes::validation_error);
  EXPECT_EQ(h.add({.name = "db"}, check_fn{}).error(), codes::validation_error);
  ASSERT_TRUE(h.add({.name = "db"}, passing()));
  EXPECT_EQ(h.add({.name = "db"}, passing()).error(), codes::conflict);
  EXPECT_EQ(h.names(), std::vector<std::string>{"db"});
}

TEST(HealthRegistry, LimitsTheNumberOfChecks) {
  registry h;
  for (int i = 0; i < 256; ++i)
    ASSERT_TRUE(h.add({.name = numbered(i)}, passing()));
  EXPECT_EQ(h.add({.name = "one_more"}, passing()).error(), codes::resource_exhausted);
}

TEST(HealthRegistry, ExportsStatusDurationAndTimeoutMetrics) {
  manual_clock clk;
  keel::metrics::registry m;
  registry h({.clock = &clk, .metrics = &m});
  ASSERT_TRUE(h.add({.name = "db"}, [&](const check_context&) {
    clk.advance(milliseconds(20));
    return check_result::pass();
  }));
  ASSERT_TRUE(h.add({.name = "cache", .critical = false}, failing("down")));
  // Checks of one view run concurrently on the shared manual clock, so the
  // slow check sits in the other view: its advance must not land inside db's
  // measured duration.
  ASSERT_TRUE(h.add({.name = "slow", .timeout = milliseconds(10), .probes = probe::liveness},
                    [&](const check_context&) {
                      clk.advance(milliseconds(50));
                      return check_result::pass();
                    }));
  (void)h.readiness();
  (void)h.liveness();
  const std::string text = keel::metrics::expose(m);
  EXPECT_NE(text.find("health_check_status{check=\"db\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("health_check_status{check=\"cache\"} 0\n"), std::string::npos);
  EXPECT_NE(text.find("health_check_duration_seconds_sum{check=\"db\"} 0.02\n"), std::string::npos);
  EXPECT_NE(text.find("health_check_timeouts_total{check=\"slow\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("health_check_timeouts_total{check=\"db\"} 0\n"), std::string::npos);
}

TEST(HealthRegistry, RendersAReportAsHealthJson) {
  manual_clock clk;
  registry h({.clock = &clk});
  ASSERT_TRUE(h.add({.name = "db", .measurement = "responseTime", .component_type = "datastore"},
                    [](const check_context&) { return check_result::pass(2, "ms"); }));
  const std::string body = h.readiness().to_health_json({.service_id = "keeld"});
  EXPECT_NE(body.find("\"db:responseTime\":[{\"componentType\":\"datastore\",\"observedValue\":2,"
                      "\"observedUnit\":\"ms\",\"status\":\"pass\""),
            std::string::npos)
      << body;
}

}  // namespace
}  // namespace keel::health
