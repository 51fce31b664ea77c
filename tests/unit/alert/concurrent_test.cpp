// keel::alert used from several threads at once (also run under TSan).
#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <thread>
#include <vector>

#include "keel/alert/alerts_collector.hpp"
#include "keel/alert/audit.hpp"
#include "keel/alert/delivery.hpp"
#include "keel/alert/dispatcher.hpp"
#include "keel/alert/error_tracker.hpp"
#include "keel/alert/metrics_source.hpp"
#include "keel/alert/pipeline.hpp"
#include "keel/alert/resilient_delivery_policy.hpp"
#include "keel/alert/rule_engine.hpp"
#include "keel/alert/store.hpp"
#include "keel/metrics/exposition.hpp"
#include "keel/metrics/registry.hpp"
#include "unit/alert/temp_dir.hpp"
#include "unit/alert/test_http_server.hpp"

namespace keel::alert {
namespace {

using namespace std::chrono_literals;

constexpr int kThreads = 4;

template <class F>
void run_threads(F f) {
  std::vector<std::thread> ts;
  for (int t = 0; t < kThreads; ++t)
    ts.emplace_back(f, t);
  for (auto& t : ts)
    t.join();
}

TEST(AlertConcurrent, TrackerCountsEveryEventFromManyThreadsIntoTheStore) {
  testing::temp_dir dir;
  manual_clock clock;
  auto st = store::open({.data_dir = dir.path(), .event_batch = 64}, clock).value();
  error_tracker tracker(clock, {}, st.get());
  constexpr int kPerThread = 500;
  run_threads([&](int t) {
    for (int i = 0; i < kPerThread; ++i) {
      error_event e{.service = "s" + std::to_string(t % 2),
                    .code = "TIMEOUT",
                    .message = "call " + std::to_string(i) + " timed out"};
      ASSERT_TRUE(tracker.record(std::move(e)));
      if (i % 100 == 0) (void)tracker.top_groups(5);
    }
  });
  ASSERT_TRUE(st->flush());
  EXPECT_EQ(tracker.stats().total, static_cast<std::uint64_t>(kThreads * kPerThread));
  EXPECT_EQ(tracker.stats().groups, 2u);
  EXPECT_EQ(st->event_count().value(), static_cast<std::uint64_t>(kThreads * kPerThread));
  std::uint64_t in_series = 0;
  std::vector<std::shared_ptr<const series>> s;
  tracker.series().select(error_events_series, s);
  for (const auto& x : s)
    in_series += static_cast<std::uint64_t>(x->value());
  EXPECT_EQ(in_series, static_cast<std::uint64_t>(kThreads * kPerThread));
}

// Issue 19 #14: retries of one batch racing each other (a client that
// timed out and retried while the first try was still committing) store
// it once, whether they share a group commit or follow each other.
TEST(AlertConcurrent, ConcurrentRetriesOfOneBatchStoreItOnce) {
  testing::temp_dir dir;
  manual_clock clock;
  auto st = store::open({.data_dir = dir.path()}, clock).value();
  const ingest_key key{.key = "same-batch", .digest = "d"};
  const std::vector<error_event> events{
      {.service = "s", .code = "TIMEOUT", .message = "m", .timestamp = clock.system_now()},
      {.service = "s", .code = "TIMEOUT", .message = "m", .timestamp = clock.system_now()}};
  const std::vector<std::string> fps{"fp", "fp"};
  std::atomic<int> stored{0};
  run_threads([&](int) {
    for (int i = 0; i < 10; ++i) {
      const auto r = st->append(events, fps, key);
      ASSERT_TRUE(r);
      for (bool b : *r)
        stored += b ? 1 : 0;
    }
  });
  EXPECT_EQ(stored.load(), 2);
  EXPECT_EQ(st->event_count().value(), 2u);
}

TEST(AlertConcurrent, EngineEvaluatesWhileRulesChangeAndSeriesMove) {
  manual_clock clock;
  series_table table;
  rule_engine engine({&table}, clock);
  std::atomic<bool> stop{false};
  std::thread evaluator([&] {
    evaluation ev;
    while (!stop) {
      clock.advance(15s);
      engine.evaluate(ev);
    }
  });
  run_threads([&](int t) {
    for (int i = 0; i < 200; ++i) {
      auto g = table.gauge("load", {{"t", std::to_string(t)}, {"i", std::to_string(i % 10)}});
      g->set(i);
      const std::string name = "R" + std::to_string(t) + "_" + std::to_string(i % 5);
      ASSERT_TRUE(
          engine.upsert({.name = name, .cond = {.series = {.metric = "load"}, .threshold = 100}}));
      (void)engine.active();
      (void)engine.alerts_series();
      if (i % 7 == 0) (void)engine.remove(name);
    }
  });
  stop = true;
  evaluator.join();
  EXPECT_LE(engine.rule_count(), static_cast<std::size_t>(kThreads * 5));
}

TEST(AlertConcurrent, DispatcherTakesAlertsWhileTicking) {
  manual_clock clock;
  dispatcher d({.receiver = "r",
                .group_by = std::vector<std::string>{"alertname"},
                .group_wait = 0s,
                .group_interval = 1s},
               clock);
  std::atomic<bool> stop{false};
  std::set<std::string> notified;  // touched by the ticker only, until it is joined
  auto collect = [&notified](const std::vector<notification>& out) {
    for (const auto& n : out) {
      for (const auto& a : n.alerts)
        notified.insert(a.fingerprint());
    }
  };
  std::thread ticker([&] {
    while (!stop) {
      std::vector<notification> out;
      clock.advance(1s);
      d.tick(out);
      collect(out);
    }
  });
  run_threads([&](int t) {
    for (int i = 0; i < 300; ++i) {
      alert a;
      a.rule = "A" + std::to_string(t);
      a.labels = {{"alertname", a.rule}, {"i", std::to_string(i)}};
      a.state = alert_state::firing;
      ASSERT_TRUE(d.put(a));
      if (i % 50 == 0) {
        (void)d.add_silence({.matchers = {parse_matcher("i=none").value()},
                             .starts_at = clock.system_now(),
                             .ends_at = clock.system_now() + 1h,
                             .created_by = "t"});
      }
    }
  });
  stop = true;
  ticker.join();
  std::vector<notification> out;
  clock.advance(1s);
  d.tick(out);
  collect(out);
  EXPECT_EQ(notified.size(), static_cast<std::size_t>(kThreads * 300));
}

TEST(AlertConcurrent, AuditChainStaysValidUnderConcurrentAppends) {
  testing::temp_dir dir;
  manual_clock clock;
  auto st = store::open({.data_dir = dir.path()}, clock).value();
  audit_log log(*st);
  run_threads([&](int t) {
    for (int i = 0; i < 25; ++i) {
      ASSERT_TRUE(log.append({.actor = "t" + std::to_string(t), .action = "rule.update"}));
    }
  });
  auto v = log.verify().value();
  EXPECT_TRUE(v.ok);
  EXPECT_EQ(v.entries, static_cast<std::uint64_t>(kThreads * 25));
}

// The worker thread delivers what other threads enqueue while it runs.
TEST(AlertConcurrent, BackgroundWorkerDeliversWhatManyThreadsEnqueue) {
  testing::temp_dir dir;
  const keel::clock& clock = keel::clock::real();
  auto st = store::open({.data_dir = dir.path(), .full_sync = false}, clock).value();
  outbox box(*st);
  testing::test_http_server server;
  server.listen();
  receiver_config hook{
      .name = "hook", .kind = receiver_kind::webhook, .url = server.url(), .timeout = 2s};
  curl_transport http;
  fixed_delay_policy policy({.delay = 50ms});
  delivery_worker worker(box, http, policy, clock, {hook}, {.poll_interval = 20ms});
  notifier nt(box, {hook}, clock);
  worker.start();
  run_threads([&](int t) {
    for (int i = 0; i < 5; ++i) {
      alert a;
      a.rule = "A";
      a.labels = {{"alertname", "A"}, {"t", std::to_string(t)}, {"i", std::to_string(i)}};
      a.state = alert_state::firing;
      notification n{.receiver = "hook",
                     .group_key = a.labels.to_string(),
                     .id = std::to_string(t) + "-" + std::to_string(i),
                     .alerts = {a}};
      ASSERT_GT(nt.enqueue(n).value(), 0);
      worker.wake();
    }
  });
  // Waiting on real sockets, not on a timing rule: poll until delivered or 10 s.
  for (int i = 0; i < 1000 && server.accepted().size() < kThreads * 5; ++i) {
    std::this_thread::sleep_for(10ms);
  }
  worker.stop();
  EXPECT_EQ(server.accepted().size(), static_cast<std::size_t>(kThreads * 5));
  EXPECT_EQ(box.stats()->pending, 0u);
}

// Rules read keel::metrics cells while other threads increment them, create
// new children, exit (folding their cells), and a scrape exposes ALERTS.
TEST(AlertConcurrent, EngineReadsMetricsWhileThreadsIncrementCreateChildrenAndScrape) {
  keel::metrics::registry reg;
  auto* work = reg.add_counter({.name = "work_total", .help = "Work.", .labels = {"t"}}).value();
  auto* lat =
      reg.add_histogram({.name = "work_seconds", .help = "Work time.", .labels = {"t"}}).value();
  metrics_source source(reg);
  manual_clock clock;
  rule_engine engine({&source}, clock, {.interval = 1s});
  ASSERT_TRUE(engine.upsert(rule{.name = "Working",
                                 .cond = {.kind = condition_kind::threshold,
                                          .series = {.metric = "work_total"},
                                          .by = std::vector<std::string>{},
                                          .op = compare::above,
                                          .threshold = 0}}));
  ASSERT_TRUE(engine.upsert(rule{.name = "Slow",
                                 .cond = {.kind = condition_kind::histogram_average,
                                          .series = {.metric = "work_seconds"},
                                          .window = 10s,
                                          .op = compare::above,
                                          .threshold = 0}}));
  ASSERT_TRUE(reg.add_collector(std::make_shared<alerts_collector>(engine)));
  constexpr int kPerThread = 20000;
  std::atomic<bool> done{false};
  std::thread evaluator([&] {
    evaluation ev;
    while (!done.load()) {
      clock.advance(1s);
      engine.evaluate(ev);
    }
  });
  std::thread scraper([&] {
    while (!done.load())
      EXPECT_NE(keel::metrics::expose(reg).find("# TYPE ALERTS gauge"), std::string::npos);
  });
  run_threads([&](int t) {
    for (int i = 0; i < kPerThread; ++i) {
      // A new child every 2000 increments: rules rebind while reading.
      const std::string child = std::to_string(t) + "-" + std::to_string(i / 2000);
      work->labels(child).inc();
      lat->labels(child).observe(0.01);
    }
  });
  done = true;
  evaluator.join();
  scraper.join();
  clock.advance(1s);
  evaluation ev;
  engine.evaluate(ev);
  double total = 0;
  for (const auto& a : engine.active()) {
    if (a.rule == "Working") total = a.value;
  }
  EXPECT_EQ(total, kThreads * kPerThread);  // every increment of the exited threads is seen
}

// The background worker with the breaker policy delivers everything.
TEST(AlertConcurrent, ResilientPolicyWorkerDeliversWhatManyThreadsEnqueue) {
  testing::temp_dir dir;
  const keel::clock& clock = keel::clock::real();
  auto st = store::open({.data_dir = dir.path(), .full_sync = false}, clock).value();
  outbox box(*st);
  testing::test_http_server server;
  server.listen();
  receiver_config a{
      .name = "a", .kind = receiver_kind::webhook, .url = server.url(), .timeout = 2s};
  receiver_config b = a;
  b.name = "b";
  curl_transport http;
  keel::resilience::breaker_registry breakers({}, clock);
  resilient_delivery_policy policy(breakers, keel::random_source::thread_safe());
  delivery_worker worker(box, http, policy, clock, {a, b}, {.poll_interval = 20ms});
  notifier nt(box, {a, b}, clock);
  worker.start();
  run_threads([&](int t) {
    for (int i = 0; i < 5; ++i) {
      alert al;
      al.rule = "A";
      al.labels = {{"alertname", "A"}, {"t", std::to_string(t)}, {"i", std::to_string(i)}};
      al.state = alert_state::firing;
      notification n{.receiver = t % 2 == 0 ? "a" : "b",
                     .group_key = al.labels.to_string(),
                     .id = std::to_string(t) + "-" + std::to_string(i),
                     .alerts = {al}};
      ASSERT_GT(nt.enqueue(n).value(), 0);
      worker.wake();
    }
  });
  for (int i = 0; i < 1000 && server.accepted().size() < kThreads * 5; ++i) {
    std::this_thread::sleep_for(10ms);
  }
  worker.stop();
  EXPECT_EQ(server.accepted().size(), static_cast<std::size_t>(kThreads * 5));
  EXPECT_EQ(box.stats()->pending, 0u);
  EXPECT_EQ(breakers.size(), 2u);
}

// The pipeline as keeld runs it: its loop and a delivery thread started,
// four threads ingesting (group commit), silences and test notifications
// meanwhile, scrapes and health reads; every acknowledged event is stored
// once and counted once.
TEST(AlertConcurrent, PipelineIngestsFromManyThreadsWhileItsLoopAndDeliveryRun) {
  testing::temp_dir dir;
  testing::test_http_server hook;
  hook.listen();
  hook.respond_with(200);
  keel::metrics::registry metrics;
  alerting_config cfg;
  cfg.receivers = {
      {.name = "hook", .kind = receiver_kind::webhook, .url = hook.url(), .timeout = 1s}};
  cfg.root = route{.receiver = "hook", .group_wait = 0ms};
  cfg.rules = {rule{.name = "Errors",
                    .cond = {.kind = condition_kind::increase,
                             .series = {.metric = "keel_error_events_total"},
                             .window = 1min,
                             .op = compare::at_least,
                             .threshold = 1}}};
  auto p = pipeline::create(keel::clock::real(),
                            {.data_dir = dir.path(),
                             .evaluation_interval = 20ms,
                             .dispatch_interval = 10ms,
                             .store_interval = 10ms,
                             .metrics = &metrics},
                            cfg)
               .value();
  p->start();
  std::atomic<std::uint64_t> acknowledged{0};
  run_threads([&](int t) {
    for (int i = 0; i < 50; ++i) {
      std::vector<error_event> batch;
      for (int j = 0; j < 10; ++j) {
        batch.push_back({.service = "svc" + std::to_string(t),
                         .code = "DATABASE_ERROR",
                         .message = "failure " + std::to_string(j)});
      }
      if (auto r = p->ingest(std::move(batch))) acknowledged += r->size();
      if (i % 10 == 0) {
        (void)p->add_silence({.matchers = {parse_matcher("alertname=\"None\"").value()},
                              .starts_at = std::chrono::system_clock::now(),
                              .ends_at = std::chrono::system_clock::now() + 1h,
                              .created_by = "t",
                              .comment = "c"});
        (void)p->send_test_notification("t");
        std::string text;
        keel::metrics::expose(metrics, keel::metrics::format::prometheus_text_0_0_4, text);
        (void)p->health();
      }
    }
  });
  p->stop();
  EXPECT_EQ(acknowledged.load(), 4u * 50 * 10);
  EXPECT_EQ(p->store()->store->event_count().value(), acknowledged.load());
  EXPECT_EQ(p->tracker().stats().total, acknowledged.load());
  std::uint64_t grouped = 0;
  const auto groups = p->store()->store->load_groups().value();
  for (const auto& g : groups)
    grouped += g.count;
  EXPECT_EQ(grouped, acknowledged.load());
}

}  // namespace
}  // namespace keel::alert
