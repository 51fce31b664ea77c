#include "keel/alert/rule_engine.hpp"

#include <gtest/gtest.h>

#include "keel/alert/error_tracker.hpp"

namespace keel::alert {
namespace {

using namespace std::chrono_literals;

class RuleEngine : public ::testing::Test {
 protected:
  // Advances the clock by `d` and runs one cycle.
  evaluation step(std::chrono::milliseconds d = 15s) {
    clock.advance(d);
    evaluation ev;
    engine.evaluate(ev);
    return ev;
  }
  void add(rule r) { ASSERT_TRUE(engine.upsert(std::move(r))); }
  rule threshold_rule(double above, std::chrono::milliseconds for_d = 0ms,
                      std::chrono::milliseconds keep = 0ms) {
    return rule{.name = "QueueTooLong",
                .cond = {.kind = condition_kind::threshold,
                         .series = {.metric = "queue_length"},
                         .op = compare::above,
                         .threshold = above},
                .for_duration = for_d,
                .keep_firing_for = keep};
  }

  manual_clock clock;
  series_table table;
  rule_engine engine{{&table}, clock, {.interval = 15s}};
};

TEST_F(RuleEngine, ThresholdWithoutForFiresAtTheFirstCycleItHolds) {
  auto q = table.gauge("queue_length", {{"queue", "mail"}});
  add(threshold_rule(10));
  q->set(5);
  EXPECT_TRUE(step().fired.empty());
  q->set(11);
  auto ev = step();
  ASSERT_EQ(ev.fired.size(), 1u);
  EXPECT_EQ(ev.fired[0].labels.get("alertname"), "QueueTooLong");
  EXPECT_EQ(ev.fired[0].labels.get("queue"), "mail");
  EXPECT_EQ(ev.fired[0].value, 11);
  EXPECT_TRUE(step().fired.empty());  // already firing: no second "fired"
}

TEST_F(RuleEngine, ForKeepsTheAlertPendingUntilItHasHeldLongEnough) {
  auto q = table.gauge("queue_length", {});
  add(threshold_rule(10, 1min));
  q->set(20);
  EXPECT_TRUE(step().fired.empty());
  ASSERT_EQ(engine.active().size(), 1u);
  EXPECT_EQ(engine.active()[0].state, alert_state::pending);
  EXPECT_TRUE(step(45s).fired.empty());  // 45 s held
  auto ev = step(15s);                   // 60 s held
  ASSERT_EQ(ev.fired.size(), 1u);
  EXPECT_EQ(ev.fired[0].fired_at - ev.fired[0].active_since, 1min);
}

TEST_F(RuleEngine, PendingAlertThatStopsHoldingVanishesWithoutNotification) {
  auto q = table.gauge("queue_length", {});
  add(threshold_rule(10, 1min));
  q->set(20);
  (void)step();
  q->set(0);
  auto ev = step();
  EXPECT_TRUE(ev.fired.empty());
  EXPECT_TRUE(ev.resolved.empty());
  EXPECT_TRUE(engine.active().empty());
  q->set(20);  // the `for` clock starts again
  (void)step();
  EXPECT_TRUE(step(45s).fired.empty());
}

TEST_F(RuleEngine, FiringAlertResolvesWhenTheConditionStops) {
  auto q = table.gauge("queue_length", {});
  add(threshold_rule(10));
  q->set(20);
  (void)step();
  q->set(1);
  auto ev = step();
  ASSERT_EQ(ev.resolved.size(), 1u);
  EXPECT_EQ(ev.resolved[0].ends_at, clock.system_now());
  EXPECT_TRUE(engine.active().empty());
}

TEST_F(RuleEngine, KeepFiringForRidesOutFlapping) {
  auto q = table.gauge("queue_length", {});
  add(threshold_rule(10, 0ms, 1min));
  q->set(20);
  ASSERT_EQ(step().fired.size(), 1u);
  q->set(1);
  EXPECT_TRUE(step(30s).resolved.empty());
  q->set(20);  // flaps back: still the same firing alert
  auto back = step(15s);
  EXPECT_TRUE(back.fired.empty());
  q->set(1);
  EXPECT_TRUE(step(45s).resolved.empty());   // 45 s since last true
  EXPECT_EQ(step(15s).resolved.size(), 1u);  // 60 s since last true
}

TEST_F(RuleEngine, RateIsPerSecondIncreaseOverTheWindow) {
  auto c = table.counter("jobs_failed_total", {});
  add(rule{.name = "JobsFailing",
           .cond = {.kind = condition_kind::rate,
                    .series = {.metric = "jobs_failed_total"},
                    .window = 1min,
                    .op = compare::above,
                    .threshold = 1.0}});
  (void)step();
  for (int i = 0; i < 4; ++i) {
    c->add(15);  // 1 per second
    EXPECT_TRUE(step().fired.empty()) << i;
  }
  c->add(30);  // 2 per second in the last 15 s; over the minute (15+15+15+30)/60 > 1
  auto ev = step();
  ASSERT_EQ(ev.fired.size(), 1u);
  EXPECT_DOUBLE_EQ(ev.fired[0].value, 75.0 / 60.0);
}

TEST_F(RuleEngine, IncreaseCountsOnlyWhatHappenedInsideTheWindow) {
  auto c = table.counter("logins_failed_total", {});
  add(rule{.name = "BruteForce",
           .cond = {.kind = condition_kind::increase,
                    .series = {.metric = "logins_failed_total"},
                    .window = 5min,
                    .op = compare::at_least,
                    .threshold = 10}});
  (void)step();
  c->add(6);
  (void)step(1min);
  c->add(3);
  EXPECT_TRUE(step(1min).fired.empty());  // 9 in the window
  c->add(1);
  ASSERT_EQ(step(1min).fired.size(), 1u);     // 10
  EXPECT_EQ(step(4min).resolved.size(), 1u);  // the first 6 left the window
}

TEST_F(RuleEngine, CounterResetCountsTheNewValueAsIncrease) {
  auto c = table.counter("restarts_total", {});
  c->set(100);
  (void)step();  // the rule comes later: the 100 are before it
  add(rule{.name = "Churn",
           .cond = {.kind = condition_kind::increase,
                    .series = {.metric = "restarts_total"},
                    .window = 10min,
                    .op = compare::at_least,
                    .threshold = 5}});
  (void)step();
  c->set(3);  // process restarted: counter starts again
  EXPECT_TRUE(step().fired.empty());
  c->set(5);
  auto ev = step();
  ASSERT_EQ(ev.fired.size(), 1u);
  EXPECT_EQ(ev.fired[0].value, 5);
}

// The seeds' first rule: error rate above 5 % once there are more than 100 requests.
TEST_F(RuleEngine, SeedHighErrorRateNeedsMoreThanAHundredRequests) {
  auto req = table.counter("http_requests_total", {});
  auto err = table.counter("http_errors_total", {});
  add(rule{.name = "HighErrorRate",
           .cond = {.kind = condition_kind::ratio,
                    .series = {.metric = "http_errors_total"},
                    .denominator = {.metric = "http_requests_total"},
                    .by = std::vector<std::string>{},
                    .op = compare::above,
                    .threshold = 0.05,
                    .min_denominator = 100},
           .labels = {{"severity", "high"}, {"service", "monitoring-api"}},
           .annotations = {{"summary", "Error rate {{ humanizePercentage $value }}"}}});
  (void)step();
  req->add(100);
  err->add(50);
  EXPECT_TRUE(step().fired.empty());  // 50 % but only 100 requests
  req->add(1);
  auto ev = step();
  ASSERT_EQ(ev.fired.size(), 1u);
  EXPECT_EQ(ev.fired[0].labels.get("severity"), "high");
  EXPECT_EQ(ev.fired[0].annotations.get("summary"), "Error rate 49.5%");
}

TEST_F(RuleEngine, SeedHighErrorRateStaysQuietAtFivePercentOrLess) {
  auto req = table.counter("http_requests_total", {});
  auto err = table.counter("http_errors_total", {});
  add(rule{.name = "HighErrorRate",
           .cond = {.kind = condition_kind::ratio,
                    .series = {.metric = "http_errors_total"},
                    .denominator = {.metric = "http_requests_total"},
                    .by = std::vector<std::string>{},
                    .op = compare::above,
                    .threshold = 0.05,
                    .min_denominator = 100}});
  (void)step();
  req->add(1000);
  err->add(50);
  EXPECT_TRUE(step().fired.empty());
  err->add(1);
  EXPECT_EQ(step().fired.size(), 1u);
}

// The seeds' second rule: average response time above 2 s.
TEST_F(RuleEngine, SeedSlowResponseTimeUsesTheHistogramAverage) {
  auto lat = table.histogram("http_request_duration_seconds", {{"method", "GET"}},
                             {0.1, 0.5, 1, 2.5, 5, 10});
  add(rule{.name = "SlowResponseTime",
           .cond = {.kind = condition_kind::histogram_average,
                    .series = {.metric = "http_request_duration_seconds"},
                    .window = 5min,
                    .by = std::vector<std::string>{},
                    .op = compare::above,
                    .threshold = 2.0},
           .annotations = {{"summary", "Average {{ printf \"%.2f\" $value }} s"}}});
  (void)step();
  lat->observe(1.0);
  lat->observe(2.0);
  EXPECT_TRUE(step().fired.empty());  // 1.5 s
  lat->observe(4.5);
  auto ev = step();  // (1 + 2 + 4.5) / 3 = 2.5 s
  ASSERT_EQ(ev.fired.size(), 1u);
  EXPECT_EQ(ev.fired[0].annotations.get("summary"), "Average 2.50 s");
  for (int i = 0; i < 30; ++i)
    (void)step(15s);  // no traffic: no average, resolves
  EXPECT_TRUE(engine.active().empty());
}

TEST_F(RuleEngine, HistogramQuantileInterpolatesInsideTheBucket) {
  auto lat = table.histogram("latency_seconds", {}, {1, 2, 4});
  add(rule{.name = "SlowP90",
           .cond = {.kind = condition_kind::histogram_quantile,
                    .series = {.metric = "latency_seconds"},
                    .window = 5min,
                    .op = compare::above,
                    .threshold = 2.5,
                    .quantile = 0.9}});
  (void)step();
  for (int i = 0; i < 8; ++i)
    lat->observe(0.5);
  for (int i = 0; i < 2; ++i)
    lat->observe(3);
  // rank 9 of 10 lands in (2, 4] holding ranks 9..10: 2 + 2 * (9 - 8) / 2 = 3.
  auto ev = step();
  ASSERT_EQ(ev.fired.size(), 1u);
  EXPECT_DOUBLE_EQ(ev.fired[0].value, 3.0);
}

TEST_F(RuleEngine, EachSeriesIsItsOwnAlertUnlessByAggregates) {
  auto a = table.gauge("temp", {{"room", "a"}, {"floor", "1"}});
  auto b = table.gauge("temp", {{"room", "b"}, {"floor", "1"}});
  add(rule{.name = "Hot",
           .cond = {.kind = condition_kind::threshold,
                    .series = {.metric = "temp"},
                    .op = compare::above,
                    .threshold = 30}});
  add(rule{.name = "FloorHot",
           .cond = {.kind = condition_kind::threshold,
                    .series = {.metric = "temp"},
                    .by = std::vector<std::string>{"floor"},
                    .op = compare::above,
                    .threshold = 50}});
  a->set(31);
  b->set(31);
  auto ev = step();
  ASSERT_EQ(ev.fired.size(), 3u);
  std::size_t floor_alerts = 0;
  for (const auto& f : ev.fired) {
    if (f.rule == "FloorHot") {
      ++floor_alerts;
      EXPECT_EQ(f.labels, (label_set{{"alertname", "FloorHot"}, {"floor", "1"}}));
      EXPECT_EQ(f.value, 62);
    }
  }
  EXPECT_EQ(floor_alerts, 1u);
}

TEST_F(RuleEngine, MatchersSelectSeries) {
  auto get = table.gauge("inflight", {{"method", "GET"}});
  auto post = table.gauge("inflight", {{"method", "POST"}});
  add(rule{.name = "PostBacklog",
           .cond = {.kind = condition_kind::threshold,
                    .series = {.metric = "inflight",
                               .matchers = {parse_matcher(R"(method=~"POST|PUT")").value()}},
                    .op = compare::above,
                    .threshold = 1}});
  get->set(100);
  EXPECT_TRUE(step().fired.empty());
  post->set(2);
  EXPECT_EQ(step().fired.size(), 1u);
}

TEST_F(RuleEngine, SeriesAppearingLaterAreBoundAndCountFromZero) {
  add(rule{.name = "Errors",
           .cond = {.kind = condition_kind::increase,
                    .series = {.metric = "errors_total"},
                    .window = 5min,
                    .op = compare::at_least,
                    .threshold = 3}});
  (void)step();
  auto c = table.counter("errors_total", {{"job", "x"}});
  c->add(3);
  auto ev = step();
  ASSERT_EQ(ev.fired.size(), 1u);
  EXPECT_EQ(ev.fired[0].labels.get("job"), "x");
}

rule errors_at_least(double n) {
  return rule{.name = "Errors",
              .cond = {.kind = condition_kind::increase,
                       .series = {.metric = "errors_total"},
                       .window = 5min,
                       .op = compare::at_least,
                       .threshold = n}};
}

// The crash-loop case: errors recorded between the start and the first
// cycle are part of the window.
TEST_F(RuleEngine, RuleAddedBeforeTheFirstCycleCountsWhatCameBeforeIt) {
  auto c = table.counter("errors_total", {{"job", "x"}});
  c->add(50);
  add(errors_at_least(1));
  auto ev = step();
  ASSERT_EQ(ev.fired.size(), 1u);
  EXPECT_EQ(ev.fired[0].value, 50);
}

TEST_F(RuleEngine, RuleAddedAfterTheFirstCycleCountsFromWhenItWasAdded) {
  auto c = table.counter("errors_total", {{"job", "x"}});
  c->add(50);
  (void)step();
  add(errors_at_least(1));
  EXPECT_TRUE(step().fired.empty());  // the 50 happened before the rule
  c->add(1);
  auto ev = step();
  ASSERT_EQ(ev.fired.size(), 1u);
  EXPECT_EQ(ev.fired[0].value, 1);
}

TEST_F(RuleEngine, LabelsAndAnnotationsAreTemplated) {
  auto q = table.gauge("queue_length", {{"queue", "mail"}});
  auto r = threshold_rule(10);
  r.labels = {{"team", "ops-{{ $labels.queue }}"}};
  r.annotations = {{"description", "{{ $labels.queue }} has {{ $value }} items"}};
  add(r);
  q->set(12);
  auto ev = step();
  ASSERT_EQ(ev.fired.size(), 1u);
  EXPECT_EQ(ev.fired[0].labels.get("team"), "ops-mail");
  EXPECT_EQ(ev.fired[0].annotations.get("description"), "mail has 12 items");
}

TEST_F(RuleEngine, AlertsSeriesShowsEachActiveAlertWithItsState) {
  auto q = table.gauge("queue_length", {});
  add(threshold_rule(10, 1min));
  q->set(20);
  (void)step();
  auto s = engine.alerts_series();
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].labels.get("alertstate"), "pending");
  EXPECT_EQ(s[0].labels.get("alertname"), "QueueTooLong");
  (void)step(1min);
  EXPECT_EQ(engine.alerts_series()[0].labels.get("alertstate"), "firing");
}

TEST_F(RuleEngine, RemovedRuleResolvesItsFiringAlerts) {
  auto q = table.gauge("queue_length", {});
  add(threshold_rule(10));
  q->set(20);
  (void)step();
  ASSERT_TRUE(engine.remove("QueueTooLong"));
  auto ev = step();
  ASSERT_EQ(ev.resolved.size(), 1u);
  EXPECT_EQ(engine.rule_count(), 0u);
  EXPECT_EQ(engine.remove("QueueTooLong").error(), codes::resource_not_found);
}

TEST_F(RuleEngine, ReplacedRuleKeepsTheStateOfItsAlerts) {
  auto q = table.gauge("queue_length", {});
  add(threshold_rule(10));
  q->set(20);
  ASSERT_EQ(step().fired.size(), 1u);
  add(threshold_rule(15));  // still holds: no resolve, no second fire
  auto ev = step();
  EXPECT_TRUE(ev.fired.empty());
  EXPECT_TRUE(ev.resolved.empty());
  add(threshold_rule(25));  // no longer holds
  EXPECT_EQ(step().resolved.size(), 1u);
}

TEST_F(RuleEngine, EventRuleCountsErrorEventsByServiceAndCode) {
  error_tracker tracker(clock);
  rule_engine events_engine({&tracker.series()}, clock, {.interval = 15s});
  ASSERT_TRUE(events_engine.upsert(
      rule{.name = "ErrorBurst",
           .cond = {.kind = condition_kind::events,
                    .series = {.matchers = {parse_matcher(R"(severity=~"high|critical")").value()}},
                    .window = 5min,
                    .op = compare::at_least,
                    .threshold = 3}}));
  evaluation ev;
  auto record = [&](std::string service, std::string code, severity sev) {
    ASSERT_TRUE(tracker.record({.service = std::move(service),
                                .code = std::move(code),
                                .severity = sev,
                                .message = "failed"}));
  };
  events_engine.evaluate(ev);
  record("checkout", "DATABASE_ERROR", severity::high);
  record("checkout", "DATABASE_ERROR", severity::high);
  record("checkout", "TIMEOUT", severity::high);
  record("search", "DATABASE_ERROR", severity::low);
  clock.advance(15s);
  events_engine.evaluate(ev);
  EXPECT_TRUE(ev.fired.empty());
  record("checkout", "DATABASE_ERROR", severity::critical);
  clock.advance(15s);
  events_engine.evaluate(ev);
  ASSERT_EQ(ev.fired.size(), 1u);
  EXPECT_EQ(ev.fired[0].labels,
            (label_set{
                {"alertname", "ErrorBurst"}, {"service", "checkout"}, {"code", "DATABASE_ERROR"}}));
}

TEST(RuleCompile, RejectsInvalidRules) {
  EXPECT_FALSE(compile(rule{.name = "bad name", .cond = {.series = {.metric = "m"}}}));
  EXPECT_FALSE(compile(rule{.name = "R", .cond = {.series = {.metric = ""}}}));
  EXPECT_FALSE(compile(
      rule{.name = "R",
           .cond = {.kind = condition_kind::rate, .series = {.metric = "m"}}}));  // no window
  EXPECT_FALSE(compile(rule{.name = "R",
                            .cond = {.kind = condition_kind::histogram_quantile,
                                     .series = {.metric = "m"},
                                     .quantile = 1.5}}));
  EXPECT_FALSE(compile(rule{.name = "R",
                            .cond = {.series = {.metric = "m"}},
                            .annotations = {{"summary", "{{ $nope }}"}}}));
  EXPECT_FALSE(compile(rule{.name = "R",
                            .cond = {.series = {.metric = "m"}},
                            .annotations = {{"summary", "{{ printf \"%s\" $value }}"}}}));
  EXPECT_TRUE(compile(rule{.name = "R", .cond = {.series = {.metric = "m"}}}));
}

TEST(LabelTemplate, RendersEveryExpression) {
  auto t = label_template::parse(
      "{{$value}} {{ $labels.a }} {{ printf \"%.1f\" $value }} {{ humanizePercentage $value }}");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->render(label_set{{"a", "x"}}, 0.25), "0.25 x 0.2 25%");
  EXPECT_FALSE(label_template::parse("{{ $value"));
}

TEST(RuleEngineFailures, SeriesOverTheLimitOrOfTheWrongKindNameTheRuleEachCycle) {
  manual_clock clock;
  series_table table;
  rule_engine engine{{&table}, clock, {.interval = 15s, .max_series_per_rule = 2}};
  for (const char* q : {"a", "b", "c"})
    table.gauge("queue_length", {{"queue", q}})->set(1);
  table.gauge("latency", {})->set(1);
  ASSERT_TRUE(engine.upsert(rule{.name = "Wide",
                                 .cond = {.kind = condition_kind::threshold,
                                          .series = {.metric = "queue_length"},
                                          .op = compare::above,
                                          .threshold = 10}}));
  ASSERT_TRUE(engine.upsert(rule{.name = "SlowP99",
                                 .cond = {.kind = condition_kind::histogram_quantile,
                                          .series = {.metric = "latency"},
                                          .op = compare::above,
                                          .threshold = 1,
                                          .quantile = 0.99}}));
  evaluation ev;
  for (int cycle = 0; cycle < 2; ++cycle) {  // every cycle, not only the one that binds
    clock.advance(15s);
    engine.evaluate(ev);
    ASSERT_EQ(ev.failures.size(), 2u);
    EXPECT_EQ(ev.failures[0].rule, "Wide");
    EXPECT_EQ(ev.failures[0].reason, kSeriesLimit);
    EXPECT_EQ(ev.failures[0].series, 1u);
    EXPECT_EQ(ev.failures[1].rule, "SlowP99");
    EXPECT_EQ(ev.failures[1].reason, kWrongKind);
  }
  ASSERT_TRUE(engine.remove("SlowP99"));
  ASSERT_TRUE(engine.upsert(rule{
      .name = "Wide",
      .cond = {.kind = condition_kind::threshold,
               .series = {.metric = "queue_length", .matchers = {{.name = "queue", .value = "a"}}},
               .op = compare::above,
               .threshold = 10}}));
  clock.advance(15s);
  engine.evaluate(ev);
  EXPECT_TRUE(ev.failures.empty());
}

}  // namespace
}  // namespace keel::alert
