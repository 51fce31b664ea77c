// ALERTS / ALERTS_FOR_STATE and the delivery metrics, exposed through a real
// keel::metrics registry and checked by promtool.
#include <gtest/gtest.h>

#include <filesystem>

#include "keel/alert/alerts_collector.hpp"
#include "keel/alert/delivery_collector.hpp"
#include "keel/alert/metrics_source.hpp"
#include "keel/metrics/exposition.hpp"
#include "keel/metrics/registry.hpp"
#include "support/promtool.hpp"
#include "unit/alert/temp_dir.hpp"
#include "unit/alert/test_http_server.hpp"

namespace keel::alert {
namespace {

using namespace std::chrono_literals;

using ::keel::testing::kPromtool;
using ::keel::testing::promtool_check;
const keel::clock::system_time kStart{std::chrono::seconds(1'700'000'000)};

notification note(int i, const keel::clock& clock) {
  alert a;
  a.rule = "HighErrorRate";
  a.labels = {{"alertname", "HighErrorRate"}, {"instance", std::to_string(i)}};
  a.state = alert_state::firing;
  a.active_since = a.fired_at = clock.system_now();
  notification n;
  n.receiver = "hook";
  n.group_key = "{}:{instance=\"" + std::to_string(i) + "\"}";
  n.id = "n-" + std::to_string(i);
  n.group_labels = a.labels;
  n.common_labels = a.labels;
  n.alerts = {a};
  return n;
}

class AlertsCollector : public ::testing::Test {
 protected:
  void SetUp() override {
    depth = reg.add_gauge({.name = "queue_length", .help = "Jobs waiting.", .labels = {"queue"}})
                .value();
    ASSERT_TRUE(engine.upsert(rule{.name = "QueueTooLong",
                                   .cond = {.kind = condition_kind::threshold,
                                            .series = {.metric = "queue_length"},
                                            .op = compare::above,
                                            .threshold = 10},
                                   .for_duration = 1min,
                                   .labels = {{"severity", "warning"}}}));
    ASSERT_TRUE(reg.add_collector(std::make_shared<alerts_collector>(engine)));
  }
  void step(std::chrono::milliseconds d = 15s) {
    clock.advance(d);
    evaluation ev;
    engine.evaluate(ev);
  }
  std::string text() { return keel::metrics::expose(reg); }

  keel::metrics::registry reg;
  keel::metrics::gauge_family* depth = nullptr;
  metrics_source source{reg};
  manual_clock clock{kStart};
  rule_engine engine{{&source}, clock, {.interval = 15s}};
};

TEST_F(AlertsCollector, PendingAlertShowsAlertStatePendingAndWhenItBecameActive) {
  depth->labels("mail").set(20);
  step();  // active at kStart + 15 s
  const std::string t = text();
  EXPECT_NE(
      t.find(
          R"(ALERTS{alertname="QueueTooLong",alertstate="pending",queue="mail",severity="warning"} 1)"),
      std::string::npos)
      << t;
  EXPECT_NE(
      t.find(
          R"(ALERTS_FOR_STATE{alertname="QueueTooLong",queue="mail",severity="warning"} 1700000015)"),
      std::string::npos)
      << t;
}

TEST_F(AlertsCollector, FiringAlertShowsAlertStateFiringWithTheSameActiveTime) {
  depth->labels("mail").set(20);
  step();
  step(1min);
  const std::string t = text();
  EXPECT_NE(t.find(R"(alertstate="firing",queue="mail")"), std::string::npos) << t;
  EXPECT_EQ(t.find(R"(alertstate="pending")"), std::string::npos) << t;
  EXPECT_NE(
      t.find(
          R"(ALERTS_FOR_STATE{alertname="QueueTooLong",queue="mail",severity="warning"} 1700000015)"),
      std::string::npos)
      << t;
}

TEST_F(AlertsCollector, ResolvedAlertLeavesBothSeries) {
  depth->labels("mail").set(20);
  step();
  step(1min);
  depth->labels("mail").set(0);
  step();
  const std::string t = text();
  EXPECT_EQ(t.find("ALERTS{"), std::string::npos) << t;
  EXPECT_EQ(t.find("ALERTS_FOR_STATE{"), std::string::npos) << t;
  EXPECT_NE(t.find("# TYPE ALERTS gauge"), std::string::npos) << t;
}

TEST_F(AlertsCollector, ShowsTheStateOfTheLastEvaluationNotOfLaterChanges) {
  depth->labels("mail").set(20);
  EXPECT_EQ(text().find("ALERTS{"), std::string::npos);  // not evaluated yet
  step();
  depth->labels("mail").set(0);  // no cycle since: still pending as evaluated
  EXPECT_NE(text().find(R"(alertstate="pending")"), std::string::npos);
}

TEST_F(AlertsCollector, ExpositionPassesPromtool) {
  if (!std::filesystem::exists(kPromtool)) GTEST_SKIP() << "promtool not installed";
  depth->labels("mail").set(20);
  depth->labels("sms \"urgent\"\nline").set(30);  // a label value that needs escaping
  step();
  step(1min);
  const std::string t = text();
  ASSERT_NE(t.find("ALERTS{"), std::string::npos) << t;
  const auto [code, out] = promtool_check(t);
  EXPECT_EQ(code, 0) << out << "\n--- input ---\n" << t;
  EXPECT_EQ(out, "") << t;
}

class DeliveryCollector : public ::testing::Test {
 protected:
  void SetUp() override {
    st = store::open({.data_dir = dir.path()}, clock).value();
    box = std::make_unique<outbox>(*st);
    hook = {.name = "hook", .kind = receiver_kind::webhook, .url = server.url(), .timeout = 300ms};
    worker = std::make_unique<delivery_worker>(*box, http, policy, clock,
                                               std::vector<receiver_config>{hook});
    ASSERT_TRUE(reg.add_collector(std::make_shared<delivery_collector>(*worker, *box, clock)));
  }
  void enqueue(int n) {
    notifier nt(*box, {hook}, clock);
    for (int i = 0; i < n; ++i)
      ASSERT_GT(nt.enqueue(note(i, clock)).value(), 0);
  }
  std::string text() { return keel::metrics::expose(reg); }

  testing::temp_dir dir;
  manual_clock clock{kStart};
  std::unique_ptr<store> st;
  std::unique_ptr<outbox> box;
  testing::test_http_server server;
  receiver_config hook;
  curl_transport http;
  fixed_delay_policy policy{{.delay = 30s, .max_attempts = 2}};
  std::unique_ptr<delivery_worker> worker;
  keel::metrics::registry reg;
};

TEST_F(DeliveryCollector, FailedAttemptsAndPendingDepthAndAgeAreShown) {
  enqueue(2);
  clock.advance(10s);
  EXPECT_EQ(worker->run_once("hook"), 1u);  // refused: the receiver is down
  const std::string t = text();
  EXPECT_NE(t.find(R"(keel_alert_notification_attempts_total{receiver="hook"} 1)"),
            std::string::npos)
      << t;
  EXPECT_NE(t.find(R"(keel_alert_notifications_failed_total{receiver="hook"} 1)"),
            std::string::npos);
  EXPECT_NE(t.find(R"(keel_alert_notifications_sent_total{receiver="hook"} 0)"), std::string::npos);
  EXPECT_NE(t.find(R"(keel_alert_outbox_pending{receiver="hook"} 2)"), std::string::npos);
  EXPECT_NE(t.find(R"(keel_alert_outbox_oldest_pending_age_seconds{receiver="hook"} 10)"),
            std::string::npos);
}

TEST_F(DeliveryCollector, SentAndDeadLetteredTotalsCountPerReceiver) {
  server.listen();
  enqueue(1);
  EXPECT_EQ(worker->run_once("hook"), 1u);
  server.respond_with(400);
  enqueue(1);
  EXPECT_EQ(worker->run_once("hook"), 1u);
  const std::string t = text();
  EXPECT_NE(t.find(R"(keel_alert_notifications_sent_total{receiver="hook"} 1)"), std::string::npos)
      << t;
  EXPECT_NE(t.find(R"(keel_alert_notifications_dead_lettered_total{receiver="hook"} 1)"),
            std::string::npos);
  EXPECT_NE(t.find(R"(keel_alert_outbox_pending{receiver="hook"} 0)"), std::string::npos);
  EXPECT_NE(t.find(R"(keel_alert_outbox_oldest_pending_age_seconds{receiver="hook"} 0)"),
            std::string::npos);
}

TEST_F(DeliveryCollector, RebindingFollowsAReplacedWorkerAndUnboundShowsNoSamples) {
  auto dc = std::make_shared<delivery_collector>(clock);
  keel::metrics::registry other;
  ASSERT_TRUE(other.add_collector(dc));
  std::string t = keel::metrics::expose(other);
  EXPECT_NE(t.find("# TYPE keel_alert_outbox_pending gauge"), std::string::npos) << t;
  EXPECT_EQ(t.find("receiver="), std::string::npos) << t;
  enqueue(1);
  dc->bind(worker.get(), box.get());
  EXPECT_NE(keel::metrics::expose(other).find(R"(keel_alert_outbox_pending{receiver="hook"} 1)"),
            std::string::npos);
  dc->bind(nullptr, nullptr);
  worker.reset();  // safe: the collector no longer points at it
  EXPECT_EQ(keel::metrics::expose(other).find("receiver="), std::string::npos);
}

TEST_F(DeliveryCollector, ExpositionPassesPromtool) {
  if (!std::filesystem::exists(kPromtool)) GTEST_SKIP() << "promtool not installed";
  enqueue(1);
  (void)worker->run_once("hook");
  const std::string t = text();
  ASSERT_NE(t.find("keel_alert_outbox_pending{"), std::string::npos) << t;
  const auto [code, out] = promtool_check(t);
  EXPECT_EQ(code, 0) << out << "\n--- input ---\n" << t;
  EXPECT_EQ(out, "") << t;
}

}  // namespace
}  // namespace keel::alert
