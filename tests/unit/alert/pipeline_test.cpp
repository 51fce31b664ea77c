#include "keel/alert/pipeline.hpp"

#include <gtest/gtest.h>

#include <unistd.h>
#include <filesystem>
#include <fstream>

#include <algorithm>

#include "keel/alert/config.hpp"
#include "keel/alert/pipeline_checks.hpp"
#include "keel/health/registry.hpp"
#include "keel/metrics/exposition.hpp"
#include "keel/metrics/registry.hpp"
#include "unit/alert/temp_dir.hpp"
#include "unit/alert/test_http_server.hpp"

namespace keel::alert {
namespace {

using namespace std::chrono_literals;

error_event event(std::string message, std::string code = "DATABASE_ERROR") {
  error_event e;
  e.service = "payments";
  e.code = std::move(code);
  e.category = keel::category::systemic;
  e.severity = keel::severity::high;
  e.message = std::move(message);
  return e;
}

std::vector<error_event> events(int n, std::string message = "connection refused") {
  std::vector<error_event> out;
  for (int i = 0; i < n; ++i)
    out.push_back(event(message));
  return out;
}

class Pipeline : public ::testing::Test {
 protected:
  std::unique_ptr<pipeline> make(const alerting_config& cfg = {}) {
    return pipeline::create(clock, {.data_dir = dir.path(), .metrics = &metrics}, cfg).value();
  }
  // The pipeline's rule names, sorted.
  static std::vector<std::string> names(pipeline& p) {
    std::vector<std::string> out;
    for (const auto& r : p.rules().rules())
      out.push_back(r.name);
    std::sort(out.begin(), out.end());
    return out;
  }
  std::string scrape() {
    std::string out;
    keel::metrics::expose(metrics, keel::metrics::format::prometheus_text_0_0_4, out);
    return out;
  }
  // A webhook receiver on the local server, routed to with no group wait.
  alerting_config with_hook() {
    alerting_config cfg;
    cfg.receivers = {
        {.name = "hook", .kind = receiver_kind::webhook, .url = server.url(), .timeout = 300ms}};
    cfg.root = route{.receiver = "hook", .group_wait = 0ms};
    return cfg;
  }

  testing::temp_dir dir;
  manual_clock clock;
  keel::metrics::registry metrics;
  testing::test_http_server server;
};

TEST_F(Pipeline, IngestStoresEventsWithTheirGroupBeforeCountingThem) {
  auto p = make();
  auto out = p->ingest(events(3)).value();
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[2].count, 3u);
  auto d = p->store();
  EXPECT_EQ(d->store->event_count().value(), 3u);
  auto groups = d->store->load_groups().value();
  ASSERT_EQ(groups.size(), 1u);
  EXPECT_EQ(groups[0].count, 3u);
  EXPECT_EQ(p->tracker().stats().total, 3u);
  EXPECT_NE(scrape().find("keel_alert_events_accepted_total 3"), std::string::npos);
}

TEST_F(Pipeline, InvalidEventRefusesTheWholeBatchAndKeepsNothing) {
  auto p = make();
  auto batch = events(2);
  batch[1].code = "not a code";
  auto out = p->ingest(batch);
  ASSERT_FALSE(out);
  EXPECT_EQ(out.error(), codes::field_validation_error);
  EXPECT_EQ(p->store()->store->event_count().value(), 0u);
  EXPECT_EQ(p->tracker().stats().total, 0u);
}

TEST_F(Pipeline, RestartBringsBackStatsRecentEventsAndEachIssuesEvents) {
  std::string fp;
  {
    auto p = make();
    auto first = p->ingest(events(4));
    ASSERT_TRUE(first) << first.error().message();
    fp = (*first)[0].fingerprint;
    auto second = p->ingest({event("timeout", "TIMEOUT")});
    ASSERT_TRUE(second) << second.error().message();
  }
  keel::metrics::registry fresh;  // a restarted process has a new registry
  auto again = pipeline::create(clock, {.data_dir = dir.path(), .metrics = &fresh}, {});
  ASSERT_TRUE(again) << again.error().message();
  auto& p = *again;
  const auto stats = p->tracker().stats();
  EXPECT_EQ(stats.total, 5u);
  EXPECT_EQ(stats.by_code.at("DATABASE_ERROR"), 4u);
  EXPECT_EQ(stats.by_code.at("TIMEOUT"), 1u);
  EXPECT_EQ(stats.by_service.at("payments"), 5u);
  const auto recent = p->tracker().recent(10);
  ASSERT_EQ(recent.size(), 5u);
  EXPECT_EQ(recent[0].message, "timeout");  // newest first
  EXPECT_EQ(p->tracker().group(fp)->recent.size(), 4u);
  EXPECT_EQ(p->tracker().group(fp)->count, 4u);
}

TEST_F(Pipeline, SecondPipelineOnTheSameDirectoryIsRefusedNamingThePid) {
  auto first = make();
  auto second = pipeline::create(clock, {.data_dir = dir.path()}, {});
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error(), codes::conflict);
  EXPECT_NE(second.error().message().find("pid " + std::to_string(::getpid())), std::string::npos)
      << second.error().message();
  first.reset();  // released with its holder
  EXPECT_TRUE(pipeline::create(clock, {.data_dir = dir.path()}, {}));
}

// The crash-loop case: events between the start and the first evaluation count.
TEST_F(Pipeline, EventsBeforeTheFirstEvaluationFireAnEventRule) {
  alerting_config cfg;
  cfg.rules = {rule{.name = "DatabaseErrors",
                    .cond = {.kind = condition_kind::increase,
                             .series = {.metric = "keel_error_events_total"},
                             .window = 5min,
                             .op = compare::at_least,
                             .threshold = 1}}};
  auto p = make(cfg);
  (void)p->ingest(events(50)).value();
  clock.advance(30s);
  p->run_once();
  const auto active = p->rules().active();
  ASSERT_EQ(active.size(), 1u);
  EXPECT_EQ(active[0].state, alert_state::firing);
  EXPECT_EQ(active[0].value, 50);
}

TEST_F(Pipeline, StoreThatRefusesWritesAnswersUnavailableKeepsNothingAndRecovers) {
  auto p = make();
  (void)p->ingest(events(1)).value();
  const auto db = p->store()->store->path();
  ASSERT_TRUE(testing::sqlite3_cli(
      db,
      "CREATE TRIGGER refuse_events BEFORE INSERT ON events BEGIN SELECT RAISE(FAIL, 'no space'); "
      "END; CREATE TRIGGER refuse_probe BEFORE INSERT ON store_probe BEGIN SELECT RAISE(FAIL, "
      "'no space'); END;"));
  for (int i = 0; i < 3; ++i) {
    auto out = p->ingest(events(10));
    ASSERT_FALSE(out);
    EXPECT_EQ(out.error(), codes::service_unavailable);
    ASSERT_TRUE(out.error().retry_after());
  }
  EXPECT_EQ(p->tracker().stats().total, 1u);  // nothing counted that was not stored
  EXPECT_FALSE(p->health().store_problem.empty());
  p->run_once();  // the probe fails too: still failing
  EXPECT_FALSE(p->health().store_problem.empty());
  EXPECT_NE(scrape().find("keel_alert_events_rejected_total{reason=\"store_unavailable\"} 30"),
            std::string::npos);

  ASSERT_TRUE(testing::sqlite3_cli(db, "DROP TRIGGER refuse_events; DROP TRIGGER refuse_probe;"));
  p->run_once();
  EXPECT_TRUE(p->health().store_problem.empty());
  (void)p->ingest(events(2)).value();
  // The refused events were not kept to be written later: 1 + 2, not 33.
  EXPECT_EQ(p->store()->store->event_count().value(), 3u);
  EXPECT_EQ(p->store()->store->load_groups().value()[0].count, 3u);
  EXPECT_EQ(p->tracker().stats().total, 3u);
}

TEST_F(Pipeline, FailingReceiverIsNamedInHealthAndMetricsUntilItRecovers) {
  auto p = make(with_hook());
  auto queued = p->send_test_notification("hello").value();
  ASSERT_EQ(queued["queued"].size(), 1u);
  p->run_once();  // refused: nobody listens yet
  auto h = p->health();
  ASSERT_EQ(h.failing_receivers.size(), 1u);
  EXPECT_EQ(h.failing_receivers[0].name, "hook");
  EXPECT_FALSE(h.failing_receivers[0].last_error.empty());
  auto text = scrape();
  EXPECT_NE(text.find("keel_alert_notifications_failed_total{receiver=\"hook\"} 1"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("keel_alert_outbox_pending{receiver=\"hook\"} 1"), std::string::npos);

  server.listen();
  server.respond_with(200);
  clock.advance(11min);  // past any backoff
  p->run_once();
  EXPECT_TRUE(p->health().failing_receivers.empty());
  EXPECT_EQ(server.accepted().size(), 1u);
  text = scrape();
  EXPECT_NE(text.find("keel_alert_notifications_sent_total{receiver=\"hook\"} 1"),
            std::string::npos);
  EXPECT_NE(text.find("keel_alert_outbox_pending{receiver=\"hook\"} 0"), std::string::npos);
  // Its own delivery failure became an event of its own service.
  const auto stats = p->tracker().stats();
  EXPECT_EQ(stats.by_service.at("keel"), 1u);
}

TEST_F(Pipeline, SilenceIsRefusedWhileTheStoreIsNotOpen) {
  auto p = pipeline::create(clock, {.data_dir = "/proc/keel-cannot-create"}, {}).value();
  EXPECT_FALSE(p->health().store_open);
  silence s{.matchers = {parse_matcher("alertname=\"X\"").value()},
            .starts_at = clock.system_now(),
            .ends_at = clock.system_now() + 1h,
            .created_by = "ops",
            .comment = "maintenance"};
  auto id = p->add_silence(s);
  ASSERT_FALSE(id);
  EXPECT_EQ(id.error(), codes::service_unavailable);
  EXPECT_TRUE(p->dispatch().silences().empty());
  EXPECT_EQ(p->ingest(events(1)).error(), codes::service_unavailable);
}

TEST_F(Pipeline, IncidentCountsItsEventsAndResolvesWithItsAlert) {
  alerting_config cfg;
  cfg.rules = {rule{.name = "DatabaseErrors",
                    .cond = {.kind = condition_kind::increase,
                             .series = {.metric = "keel_error_events_total"},
                             .window = 1min,
                             .by = std::vector<std::string>{"service", "code"},
                             .op = compare::at_least,
                             .threshold = 1}}};
  auto p = make(cfg);
  (void)p->ingest(events(1)).value();
  clock.advance(30s);
  p->run_once();
  auto open = p->incidents().list(false);
  ASSERT_EQ(open.size(), 1u);
  (void)p->ingest(events(4)).value();
  EXPECT_EQ(p->incidents().get(open[0].id)->events, 4u);
  auto text = scrape();
  EXPECT_NE(text.find("keel_alert_incidents{state=\"open\"} 1"), std::string::npos) << text;
  EXPECT_NE(text.find("keel_error_events_total{category=\"systemic\",code=\"DATABASE_ERROR\","
                      "service=\"payments\",severity=\"high\"} 5"),
            std::string::npos)
      << text;
  // No events for longer than the window: the alert resolves, so does the incident.
  for (int i = 0; i < 5; ++i) {
    clock.advance(30s);
    p->run_once();
  }
  EXPECT_EQ(p->incidents().get(open[0].id)->state, incident_state::resolved);
  // Resolved 90 s after it opened (its 1 min window emptied), never acknowledged.
  text = scrape();
  EXPECT_NE(text.find("keel_alert_incident_mttr_seconds 90"), std::string::npos) << text;
  EXPECT_NE(text.find("keel_alert_incident_mtta_seconds 0"), std::string::npos);
}

// Under steady ingest the events kept stay bounded by the retention; the
// groups keep counting every event ever stored.
TEST_F(Pipeline, EventsPastTheRetentionArePrunedInBoundedBatchesAndGroupsKeepTheirCounts) {
  auto p =
      pipeline::create(
          clock,
          {.data_dir = dir.path(), .retention = 1h, .prune_interval = 1min, .prune_batch = 64}, {})
          .value();
  for (int round = 0; round < 20; ++round) {
    (void)p->ingest(events(100)).value();
    clock.advance(10min);
    p->run_once();
    // At most the last hour's rounds (6 of 100) plus the one just ingested.
    EXPECT_LE(p->store()->store->event_count().value(), 700u) << "round " << round;
  }
  EXPECT_GE(p->store()->store->event_count().value(), 500u);
  EXPECT_EQ(p->store()->store->load_groups().value()[0].count, 2000u);
  EXPECT_EQ(p->tracker().stats().total, 2000u);
}

TEST_F(Pipeline, AuditEntriesPastTheirRetentionArePrunedAndTheChainStillVerifies) {
  auto p = pipeline::create(clock,
                            {.data_dir = dir.path(),
                             .audit_retention = 24h,
                             .prune_interval = 1min,
                             .metrics = &metrics},
                            {})
               .value();
  for (int i = 0; i < 30; ++i)
    p->audit("alice", "silence.create", "silence/" + std::to_string(i), "r1");
  clock.advance(25h);
  p->audit("bob", "rule.update", "rule/x", "r2");
  p->run_once();
  auto& audit = *p->store()->audit;
  const auto left = audit.list(0, 100).value();
  ASSERT_EQ(left.size(), 1u);  // the day-old ones went, the newest stays
  EXPECT_EQ(left[0].record.actor, "bob");
  const auto v = audit.verify(audit.head().value()).value();
  EXPECT_TRUE(v.ok);
  EXPECT_EQ(v.pruned_through, 30);
}

TEST_F(Pipeline, RulesChangedThroughTheApiSurviveARestartUntilTheFileIsReloaded) {
  alerting_config file = load_config_yaml(R"(
rules:
  - alert: FromFile
    events: {window: 5m, at_least: 1}
  - alert: Doomed
    events: {window: 5m, at_least: 2}
)")
                             .value();
  {
    auto p = make(file);
    EXPECT_EQ(p->put_rules("alert: FromApi\nevents: {window: 5m, at_least: 3}\n").value(),
              std::vector<std::string>{"FromApi"});
    ASSERT_TRUE(p->delete_rule("Doomed"));
    EXPECT_EQ(p->delete_rule("Doomed").error(), codes::resource_not_found);
    EXPECT_EQ(p->put_rules("alert: [").error(), codes::validation_error);
  }
  keel::metrics::registry fresh;
  auto p = pipeline::create(clock, {.data_dir = dir.path(), .metrics = &fresh}, file).value();
  EXPECT_EQ(names(*p), (std::vector<std::string>{"FromApi", "FromFile"}));
  // The operator reloads the file: it is the whole configuration again,
  // now and after the next restart.
  ASSERT_TRUE(p->reconfigure(file));
  EXPECT_EQ(names(*p), (std::vector<std::string>{"Doomed", "FromFile"}));
  p.reset();
  keel::metrics::registry third;
  p = pipeline::create(clock, {.data_dir = dir.path(), .metrics = &third}, file).value();
  EXPECT_EQ(names(*p), (std::vector<std::string>{"Doomed", "FromFile"}));
}

// A start while the store cannot open runs on the file alone; once the
// store opens, what was changed through the API before is back.
TEST_F(Pipeline, StoreOpenedAfterADegradedStartBringsBackWhatTheApiChanged) {
  const alerting_config file =
      load_config_yaml("rules:\n  - alert: FromFile\n    events: {window: 5m, at_least: 1}\n")
          .value();
  {
    auto p = make(file);
    ASSERT_TRUE(p->put_rules("alert: FromApi\nevents: {window: 5m, at_least: 3}\n"));
  }
  const auto real = dir.path();
  const auto aside = std::filesystem::path(real.string() + ".aside");
  std::filesystem::rename(real, aside);
  std::ofstream(real) << "a file where the data directory should be";
  keel::metrics::registry fresh;
  auto p = pipeline::create(clock, {.data_dir = real, .metrics = &fresh}, file).value();
  ASSERT_FALSE(p->store());
  EXPECT_EQ(names(*p), std::vector<std::string>{"FromFile"});

  std::filesystem::remove(real);
  std::filesystem::rename(aside, real);
  clock.advance(5s);
  p->run_once();
  ASSERT_TRUE(p->store());
  EXPECT_EQ(names(*p), (std::vector<std::string>{"FromApi", "FromFile"}));
}

// A document of many rules is stored once, and dropped once no rule names it.
TEST_F(Pipeline, RulesDocumentIsStoredOnceAndDroppedWhenNoRuleNamesIt) {
  auto p = make();
  std::string doc = "rules:\n";
  for (int i = 0; i < 50; ++i)
    doc += "  - alert: R" + std::to_string(i) + "\n    events: {window: 5m, at_least: 1}\n";
  ASSERT_EQ(p->put_rules(doc).value().size(), 50u);
  auto stored_bytes = [&] {
    std::size_t n = 0;
    const auto settings = p->store()->store->load_settings("api.").value();
    for (const auto& [k, v] : settings)
      n += v.size();
    return n;
  };
  EXPECT_LT(stored_bytes(), doc.size() + 50 * 80);  // the document once, a short reference per rule
  for (int i = 0; i < 50; ++i)
    ASSERT_TRUE(p->delete_rule("R" + std::to_string(i)));
  const auto left = p->store()->store->load_settings("api.").value();
  for (const auto& [k, v] : left)
    EXPECT_FALSE(k.starts_with("api.doc:")) << k;
}

TEST_F(Pipeline, ConfigurationPostedThroughTheApiSurvivesARestart) {
  {
    auto p = make();
    auto cfg = p->configure(
        "receivers:\n  - {name: ops, webhook: {url: 'http://127.0.0.1:9/x'}}\n"
        "route: {receiver: ops}\nrules:\n  - alert: Api\n    events: {window: 5m, at_least: 1}\n");
    ASSERT_TRUE(cfg) << cfg.error().message();
    EXPECT_EQ(p->configure("route: {receiver: nobody}").error(), codes::validation_error);
  }
  keel::metrics::registry fresh;
  auto p = pipeline::create(clock, {.data_dir = dir.path(), .metrics = &fresh}, {}).value();
  ASSERT_EQ(p->receivers().size(), 1u);
  EXPECT_EQ(p->receivers()[0].name, "ops");
  ASSERT_EQ(p->rules().rules().size(), 1u);
  EXPECT_EQ(p->rules().rules()[0].name, "Api");
}

// Alertmanager #2370: a restart neither re-pages a firing alert nor
// forgets it; it resolves (and says so) when its events age out.
TEST_F(Pipeline, FiringAlertSurvivesARestartWithoutARepageAndStillResolves) {
  server.listen();
  server.respond_with(200);
  auto cfg = with_hook();
  cfg.rules = load_rules_yaml("alert: DbErrors\nevents: {window: 5m, at_least: 1}\n").value();
  std::chrono::system_clock::time_point fired_at;
  {
    auto p = make(cfg);
    (void)p->ingest(events(1)).value();
    clock.advance(30s);
    p->run_once();
    p->run_once();  // dispatched and delivered
    ASSERT_EQ(server.accepted().size(), 1u);
    fired_at = p->rules().active().at(0).fired_at;
  }
  keel::metrics::registry fresh;
  auto p = pipeline::create(clock, {.data_dir = dir.path(), .metrics = &fresh}, cfg).value();
  clock.advance(30s);
  p->run_once();
  p->run_once();
  EXPECT_EQ(server.accepted().size(), 1u);  // no second page
  auto active = p->rules().active();
  ASSERT_EQ(active.size(), 1u);
  EXPECT_EQ(active[0].state, alert_state::firing);
  EXPECT_EQ(active[0].fired_at, fired_at);
  for (int i = 0; i < 12 && !p->rules().active().empty(); ++i) {
    clock.advance(30s);
    p->run_once();
  }
  EXPECT_TRUE(p->rules().active().empty());
  clock.advance(5min);  // the group's next flush (group_interval)
  p->run_once();
  auto got = server.accepted();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(nlohmann::json::parse(got[1].body)["status"], "resolved");
}

TEST_F(Pipeline, PendingAlertKeepsItsForTimerAcrossARestart) {
  alerting_config cfg;
  cfg.rules =
      load_rules_yaml("alert: DbErrors\nfor: 10m\nevents: {window: 30m, at_least: 1}\n").value();
  std::chrono::system_clock::time_point since;
  {
    auto p = make(cfg);
    (void)p->ingest(events(1)).value();
    clock.advance(30s);
    p->run_once();
    ASSERT_EQ(p->rules().active().at(0).state, alert_state::pending);
    since = p->rules().active()[0].active_since;
  }
  clock.advance(9min);  // keeld was down meanwhile
  keel::metrics::registry fresh;
  auto p = pipeline::create(clock, {.data_dir = dir.path(), .metrics = &fresh}, cfg).value();
  clock.advance(30s);
  p->run_once();  // 9 min 30 s pending
  ASSERT_EQ(p->rules().active().at(0).state, alert_state::pending);
  EXPECT_EQ(p->rules().active()[0].active_since, since);
  clock.advance(30s);
  p->run_once();  // 10 min since it started pending, not since the restart
  EXPECT_EQ(p->rules().active().at(0).state, alert_state::firing);
}

TEST_F(Pipeline, IncidentKeepsItsTimelineCountAndEscalationTimerAcrossARestart) {
  server.listen();
  server.respond_with(200);
  auto cfg = with_hook();
  cfg.receivers.push_back({.name = "oncall",
                           .kind = receiver_kind::webhook,
                           .url = server.url("/oncall"),
                           .timeout = 300ms});
  cfg.rules = load_rules_yaml("alert: DbErrors\nevents: {window: 30m, at_least: 1}\n").value();
  cfg.incidents.ack_timeout = 10min;
  cfg.incidents.escalation = {"hook", "oncall"};
  std::string id;
  {
    auto p = make(cfg);
    (void)p->ingest(events(1)).value();
    clock.advance(30s);
    p->run_once();
    auto open = p->incidents().list(false);
    ASSERT_EQ(open.size(), 1u);
    id = open[0].id;
    (void)p->ingest(events(2)).value();
    clock.advance(6min);
    p->run_once();  // 6 of the 10 minutes waited; saved
  }
  keel::metrics::registry fresh;
  auto p = pipeline::create(clock, {.data_dir = dir.path(), .metrics = &fresh}, cfg).value();
  auto i = p->incidents().get(id);
  ASSERT_TRUE(i);
  EXPECT_EQ(i->state, incident_state::open);
  EXPECT_EQ(i->events, 2u);
  EXPECT_EQ(i->timeline.front().kind, "opened");
  EXPECT_EQ(i->escalation_level, 0u);
  clock.advance(4min);  // 10 minutes since it opened, 4 since the restart
  p->run_once();
  EXPECT_EQ(p->incidents().get(id)->escalation_level, 1u);
  // A new incident gets a new id, not a reused one.
  ASSERT_TRUE(p->incidents().resolve(id, "ops"));
  (void)p->ingest({event("timeout", "TIMEOUT")}).value();
  clock.advance(30s);
  p->run_once();
  for (const auto& other : p->incidents().list(false))
    EXPECT_NE(other.id, id);
}

// Seed 003's "database connection failures": a word in the message.
TEST_F(Pipeline, EventRuleMatchesAWordInTheMessageAndAnyOtherField) {
  alerting_config cfg;
  cfg.rules = load_rules_yaml(R"(
alert: DatabaseConnectionFailures
events:
  fields: ['message=~".*connection (refused|reset).*"', 'environment="production"']
  window: 5m
  at_least: 3
)")
                  .value();
  auto p = make(cfg);
  auto prod = [](std::string msg) {
    auto e = event(std::move(msg));
    e.environment = "production";
    return e;
  };
  auto staging = prod("connection refused by db-1");
  staging.environment = "staging";
  (void)p
      ->ingest({prod("connection refused by db-1"), prod("connection reset by peer"),
                prod("query timeout"), staging})
      .value();
  clock.advance(30s);
  p->run_once();
  EXPECT_TRUE(p->rules().active().empty());  // 2 of the 4 match
  (void)p->ingest({prod("upstream connection reset")}).value();
  clock.advance(30s);
  p->run_once();
  auto active = p->rules().active();
  ASSERT_EQ(active.size(), 1u);
  EXPECT_EQ(active[0].value, 3);
  EXPECT_EQ(active[0].labels.get("service"), "payments");
  EXPECT_EQ(active[0].labels.get("code"), "DATABASE_ERROR");
}

TEST_F(Pipeline, EventRuleFieldsNameOnlyEventFields) {
  auto r =
      load_rules_yaml("alert: X\nevents: {fields: ['hostname=\"a\"'], window: 5m, at_least: 1}\n");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("no event field 'hostname'"), std::string::npos)
      << r.error().message();
  EXPECT_FALSE(load_rules_yaml(
      "alert: X\nincrease: {metric: m, fields: ['message=\"a\"'], window: 5m, at_least: 1}\n"));
}

TEST_F(Pipeline, RuleReadingTheWrongKindIsCountedLoggedAndNamedInHealthUntilFixed) {
  auto p = make(load_config_yaml(R"(
rules:
  - alert: EventsP99
    histogram_quantile: {metric: keel_error_events_total, quantile: 0.99, above: 1}
)")
                    .value());
  keel::health::registry health({.clock = &clock});
  ASSERT_TRUE(add_pipeline_checks(health, *p));
  (void)p->ingest(events(1)).value();  // the counter has a series now
  p->run_once();
  p->run_once();
  ASSERT_EQ(p->health().failing_rules.size(), 1u);
  EXPECT_EQ(p->health().failing_rules[0].reason, kWrongKind);
  EXPECT_NE(scrape().find("keel_alert_rule_evaluation_failures_total{reason=\"wrong_kind\"} 2"),
            std::string::npos)
      << scrape();
  auto report = health.run(keel::health::view::all);
  EXPECT_EQ(report.status, keel::health::health_status::degraded);
  auto rules = std::ranges::find(report.checks, "rules", &keel::health::check_report::name);
  ASSERT_NE(rules, report.checks.end());
  EXPECT_NE(rules->output.find("EventsP99 (wrong_kind"), std::string::npos) << rules->output;

  ASSERT_TRUE(
      p->put_rules("alert: EventsP99\nthreshold: {metric: "
                   "keel_error_events_total, above: 100}\n"));
  p->run_once();
  EXPECT_TRUE(p->health().failing_rules.empty());
  clock.advance(1h);  // past the registry's cache
  report = health.run(keel::health::view::all);
  EXPECT_EQ(report.status, keel::health::health_status::healthy) << report.to_health_json();
}

TEST_F(Pipeline, LoopThatIsNotRunningOnceStartedFailsLiveness) {
  auto p = make();
  keel::health::registry health({.clock = &clock});
  ASSERT_TRUE(add_pipeline_checks(health, *p));
  EXPECT_EQ(health.liveness().status, keel::health::health_status::healthy);  // not started yet
  p->start();
  EXPECT_TRUE(p->health().loop_running);
  p->stop();
  EXPECT_FALSE(p->health().loop_running);
  clock.advance(1h);  // past the registry's cache
  const auto live = health.liveness();
  EXPECT_EQ(live.status, keel::health::health_status::unhealthy);
  ASSERT_EQ(live.checks.size(), 1u);
  EXPECT_NE(live.checks[0].output.find("alert loop not running"), std::string::npos);
}

}  // namespace
}  // namespace keel::alert
