#include "keel/alert/metrics_source.hpp"

#include <gtest/gtest.h>

#include <thread>

#include "keel/alert/rule_engine.hpp"
#include "keel/metrics/registry.hpp"

namespace keel::alert {
namespace {

using namespace std::chrono_literals;

// A rule_engine evaluating a real keel::metrics registry on a manual clock.
class MetricsSource : public ::testing::Test {
 protected:
  evaluation step(std::chrono::milliseconds d = 15s) {
    clock.advance(d);
    evaluation ev;
    engine.evaluate(ev);
    return ev;
  }
  void add(rule r) { ASSERT_TRUE(engine.upsert(std::move(r))); }

  // keeld's default rule: 5xx responses over all responses, once there are
  // more than 100 requests.
  rule error_rate_rule() {
    return rule{.name = "HighErrorRate",
                .cond = {.kind = condition_kind::ratio,
                         .series = {.metric = "http_requests_total",
                                    .matchers = {parse_matcher(R"(status=~"5..")").value()}},
                         .denominator = {.metric = "http_requests_total"},
                         .by = std::vector<std::string>{},
                         .op = compare::above,
                         .threshold = 0.05,
                         .min_denominator = 100},
                .labels = {{"severity", "high"}},
                .annotations = {{"summary", "Error rate {{ humanizePercentage $value }}"}}};
  }

  keel::metrics::registry reg;
  metrics_source source{reg};
  manual_clock clock;
  rule_engine engine{{&source}, clock, {.interval = 15s}};
};

TEST_F(MetricsSource, ThresholdOnAGaugeFiresWithTheChildsLabels) {
  auto* depth =
      reg.add_gauge({.name = "queue_length", .help = "Jobs waiting.", .labels = {"queue"}}).value();
  auto& mail = depth->labels("mail");
  add(rule{.name = "QueueTooLong",
           .cond = {.kind = condition_kind::threshold,
                    .series = {.metric = "queue_length"},
                    .op = compare::above,
                    .threshold = 10}});
  mail.set(5);
  EXPECT_TRUE(step().fired.empty());
  mail.set(11);
  auto ev = step();
  ASSERT_EQ(ev.fired.size(), 1u);
  EXPECT_EQ(ev.fired[0].labels.get("queue"), "mail");
  EXPECT_EQ(ev.fired[0].value, 11);
}

TEST_F(MetricsSource, CounterIsSelectedByItsExposedTotalName) {
  auto* jobs = reg.add_counter({.name = "jobs", .help = "Jobs run."}).value();
  std::vector<std::shared_ptr<const series>> found;
  source.select("jobs", found);
  EXPECT_TRUE(found.empty());  // Prometheus shows only jobs_total
  jobs->labels().inc(3);
  source.select("jobs_total", found);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0]->name(), "jobs_total");
  EXPECT_EQ(found[0]->kind(), series_kind::counter);
  EXPECT_EQ(found[0]->value(), 3);
}

TEST_F(MetricsSource, SelectingAgainReturnsTheSameSeriesObjects) {
  auto* f = reg.add_counter({.name = "hits_total", .help = "Hits.", .labels = {"route"}}).value();
  f->labels("/a");
  std::vector<std::shared_ptr<const series>> first, second;
  source.select("hits_total", first);
  f->labels("/b");
  source.select("hits_total", second);
  ASSERT_EQ(first.size(), 1u);
  ASSERT_EQ(second.size(), 2u);
  EXPECT_EQ(first[0].get(), second[0].get());
  EXPECT_EQ(source.bound(), 2u);
}

TEST_F(MetricsSource, GenerationChangesWhenAFamilyOrAChildIsAdded) {
  const auto g0 = source.generation();
  auto* f = reg.add_counter({.name = "x_total", .help = "X.", .labels = {"k"}}).value();
  const auto g1 = source.generation();
  EXPECT_NE(g1, g0);
  f->labels("a");
  const auto g2 = source.generation();
  EXPECT_NE(g2, g1);
  f->labels("a").inc();  // an existing child: no change
  EXPECT_EQ(source.generation(), g2);
}

TEST_F(MetricsSource, SeedErrorRateOverStatusChildrenFiresOnceMoreThanAHundredRequests) {
  auto* requests = reg.add_counter({.name = "http_requests_total",
                                    .help = "HTTP requests served.",
                                    .labels = {"method", "status"}})
                       .value();
  auto& ok = requests->labels("GET", "200");
  ok.inc(40);  // before the rule (added after the first cycle): its baseline, not counted
  (void)step();
  add(error_rate_rule());
  (void)step();
  ok.inc(50);
  // The 5xx child is created after the rule bound: it is found at the next
  // cycle and counts from zero.
  requests->labels("GET", "503").inc(50);
  EXPECT_TRUE(step().fired.empty());  // 50 % of exactly 100 requests: no verdict yet
  ok.inc(1);
  auto ev = step();
  ASSERT_EQ(ev.fired.size(), 1u);
  EXPECT_EQ(ev.fired[0].labels.get("alertname"), "HighErrorRate");
  EXPECT_EQ(ev.fired[0].annotations.get("summary"), "Error rate 49.5%");
}

TEST_F(MetricsSource, SeedErrorRateStaysQuietAtFivePercent) {
  auto* requests =
      reg.add_counter(
             {.name = "http_requests", .help = "HTTP requests served.", .labels = {"status"}})
          .value();
  auto& ok = requests->labels("200");
  auto& bad = requests->labels("500");
  add(error_rate_rule());
  (void)step();
  ok.inc(950);
  bad.inc(50);
  EXPECT_TRUE(step().fired.empty());  // 50 / 1000 = 5 %: not above
  bad.inc(1);
  EXPECT_EQ(step().fired.size(), 1u);  // 51 / 1001
}

TEST_F(MetricsSource, SeedSlowResponseTimeUsesTheHistogramAverage) {
  auto* latency = reg.add_histogram({.name = "http_request_duration_seconds",
                                     .help = "Time to serve a request.",
                                     .labels = {"route"},
                                     .buckets = {0.1, 0.5, 1, 2.5, 5, 10}})
                      .value();
  auto& orders = latency->labels("/orders");
  orders.observe(30);  // before the rule (added after the first cycle): outside every window
  (void)step();
  add(rule{.name = "SlowResponseTime",
           .cond = {.kind = condition_kind::histogram_average,
                    .series = {.metric = "http_request_duration_seconds"},
                    .window = 5min,
                    .by = std::vector<std::string>{},
                    .op = compare::above,
                    .threshold = 2.0},
           .annotations = {{"summary", "Average {{ printf \"%.2f\" $value }} s"}}});
  (void)step();
  orders.observe(1.0);
  orders.observe(2.0);
  EXPECT_TRUE(step().fired.empty());       // 1.5 s
  latency->labels("/users").observe(4.5);  // a new child joins the same alert
  auto ev = step();                        // (1 + 2 + 4.5) / 3 = 2.5 s
  ASSERT_EQ(ev.fired.size(), 1u);
  EXPECT_EQ(ev.fired[0].annotations.get("summary"), "Average 2.50 s");
  for (int i = 0; i < 30; ++i)
    (void)step();  // no traffic for 7.5 min: no average, resolves
  EXPECT_TRUE(engine.active().empty());
}

TEST_F(MetricsSource, HistogramSeriesReadsBucketsSumAndCount) {
  auto* f =
      reg.add_histogram({.name = "size_bytes", .help = "Sizes.", .buckets = {10, 100}}).value();
  auto& h = f->labels();
  h.observe(5);
  h.observe(50);
  h.observe(500);
  std::vector<std::shared_ptr<const series>> found;
  source.select("size_bytes", found);
  ASSERT_EQ(found.size(), 1u);
  histogram_snapshot snap;
  found[0]->read_histogram(snap);
  EXPECT_EQ(snap.upper_bounds, (std::vector<double>{10, 100}));
  EXPECT_EQ(snap.cumulative, (std::vector<std::uint64_t>{1, 2, 3}));
  EXPECT_EQ(snap.count, 3u);
  EXPECT_DOUBLE_EQ(snap.sum, 555);
  EXPECT_EQ(found[0]->value(), 3);
}

TEST_F(MetricsSource, IncrementsOfThreadsThatExitedAreStillCounted) {
  auto* f = reg.add_counter({.name = "work_total", .help = "Work."}).value();
  auto& c = f->labels();
  std::thread([&] { c.inc(7); }).join();
  std::vector<std::shared_ptr<const series>> found;
  source.select("work_total", found);
  ASSERT_EQ(found.size(), 1u);
  source.begin_reads();
  const double inside = found[0]->value();
  source.end_reads();
  EXPECT_EQ(inside, 7);
  EXPECT_EQ(found[0]->value(), 7);  // outside a bracket too
}

TEST_F(MetricsSource, ReadBracketsNestOnOneThread) {
  metrics_source other(reg);
  auto* f = reg.add_counter({.name = "n_total", .help = "N."}).value();
  f->labels().inc(2);
  std::vector<std::shared_ptr<const series>> found;
  source.select("n_total", found);
  source.begin_reads();
  other.begin_reads();  // a second source on the same arena: no self-deadlock
  EXPECT_EQ(found[0]->value(), 2);
  other.end_reads();
  EXPECT_EQ(found[0]->value(), 2);
  source.end_reads();
}

TEST_F(MetricsSource, FamilyRegisteredAfterTheRuleIsFoundAtTheNextCycle) {
  add(rule{.name = "Errors",
           .cond = {.kind = condition_kind::increase,
                    .series = {.metric = "errors_total"},
                    .window = 5min,
                    .op = compare::at_least,
                    .threshold = 3}});
  (void)step();
  auto* f = reg.add_counter({.name = "errors_total", .help = "Errors.", .labels = {"job"}}).value();
  f->labels("x").inc(3);
  auto ev = step();
  ASSERT_EQ(ev.fired.size(), 1u);
  EXPECT_EQ(ev.fired[0].labels.get("job"), "x");
}

TEST_F(MetricsSource, SeriesKeepTheirFamilyAliveAfterTheRegistryIsGone) {
  std::vector<std::shared_ptr<const series>> found;
  {
    keel::metrics::registry local;
    metrics_source src(local);
    local.add_gauge({.name = "g", .help = "G."}).value()->labels().set(4);
    src.select("g", found);
  }
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0]->value(), 4);
}

}  // namespace
}  // namespace keel::alert
