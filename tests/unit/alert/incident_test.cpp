#include "keel/alert/incident.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "unit/alert/temp_dir.hpp"

namespace keel::alert {
namespace {

using namespace std::chrono_literals;

alert firing(std::string service, std::string code) {
  alert a;
  a.rule = "ErrorBurst";
  a.labels = {
      {"alertname", "ErrorBurst"}, {"service", std::move(service)}, {"code", std::move(code)}};
  a.annotations = {{"summary", "errors are bursting"}};
  a.state = alert_state::firing;
  return a;
}

class Incidents : public ::testing::Test {
 protected:
  manual_clock clock;
  incident_manager mgr{clock, {.ack_timeout = 15min, .escalation = {"slack", "pager", "cto"}}};
};

TEST_F(Incidents, FiringAlertOpensAnIncidentKeyedByServiceAndCode) {
  auto notices = mgr.on_alert(firing("checkout", "DATABASE_ERROR"));
  auto inc = mgr.open_for("checkout:DATABASE_ERROR");
  ASSERT_TRUE(inc);
  EXPECT_EQ(inc->state, incident_state::open);
  EXPECT_EQ(inc->title, "errors are bursting");
  EXPECT_EQ(inc->timeline.front().kind, "opened");
  ASSERT_EQ(notices.size(), 1u);
  EXPECT_EQ(notices[0].receiver, "slack");
  EXPECT_EQ(notices[0].reason, "opened");
}

TEST_F(Incidents, MoreAlertsAndEventsOfTheKeyJoinTheOpenIncident) {
  (void)mgr.on_alert(firing("checkout", "DATABASE_ERROR"));
  auto second = firing("checkout", "DATABASE_ERROR");
  second.labels.set("instance", "b");
  EXPECT_TRUE(mgr.on_alert(second).empty());
  mgr.on_event({.service = "checkout", .code = "DATABASE_ERROR", .message = "x"});
  mgr.on_event({.service = "search", .code = "DATABASE_ERROR", .message = "x"});
  auto inc = mgr.open_for("checkout:DATABASE_ERROR").value();
  EXPECT_EQ(inc.alerts.size(), 2u);
  EXPECT_EQ(inc.events, 1u);
  EXPECT_EQ(mgr.list().size(), 1u);
}

TEST_F(Incidents, UnacknowledgedIncidentEscalatesAfterTheTimeoutLevelByLevel) {
  (void)mgr.on_alert(firing("checkout", "TIMEOUT"));
  clock.advance(14min);
  EXPECT_TRUE(mgr.tick().empty());
  clock.advance(1min);
  auto e1 = mgr.tick();
  ASSERT_EQ(e1.size(), 1u);
  EXPECT_EQ(e1[0].receiver, "pager");
  clock.advance(15min);
  auto e2 = mgr.tick();
  ASSERT_EQ(e2.size(), 1u);
  EXPECT_EQ(e2[0].receiver, "cto");
  clock.advance(1h);
  EXPECT_TRUE(mgr.tick().empty());  // nobody left to escalate to
  EXPECT_EQ(mgr.open_for("checkout:TIMEOUT")->escalation_level, 2u);
}

TEST_F(Incidents, AcknowledgedIncidentDoesNotEscalate) {
  (void)mgr.on_alert(firing("checkout", "TIMEOUT"));
  const auto id = mgr.open_for("checkout:TIMEOUT")->id;
  clock.advance(10min);
  ASSERT_TRUE(mgr.acknowledge(id, "alice"));
  clock.advance(1h);
  EXPECT_TRUE(mgr.tick().empty());
  auto inc = mgr.get(id).value();
  EXPECT_EQ(inc.state, incident_state::acknowledged);
  EXPECT_EQ(inc.acknowledged_by, "alice");
  EXPECT_EQ(*inc.acknowledged_at - inc.opened_at, 10min);
}

TEST_F(Incidents, ResolvedIncidentFreesTheKeyForANewOne) {
  (void)mgr.on_alert(firing("checkout", "TIMEOUT"));
  const auto id = mgr.open_for("checkout:TIMEOUT")->id;
  ASSERT_TRUE(mgr.resolve(id, "bob"));
  EXPECT_FALSE(mgr.open_for("checkout:TIMEOUT"));
  EXPECT_EQ(mgr.resolve(id, "bob").error(), codes::invalid_state_transition);
  EXPECT_EQ(mgr.acknowledge(id, "bob").error(), codes::invalid_state_transition);
  (void)mgr.on_alert(firing("checkout", "TIMEOUT"));
  EXPECT_NE(mgr.open_for("checkout:TIMEOUT")->id, id);
  EXPECT_EQ(mgr.list(true).size(), 2u);
}

TEST_F(Incidents, TimelineRecordsEveryTransitionInOrder) {
  (void)mgr.on_alert(firing("checkout", "TIMEOUT"));
  const auto id = mgr.open_for("checkout:TIMEOUT")->id;
  clock.advance(15min);
  (void)mgr.tick();
  ASSERT_TRUE(mgr.record_action(id, "alice", "restarted the pool"));
  ASSERT_TRUE(mgr.acknowledge(id, "alice"));
  ASSERT_TRUE(mgr.resolve(id, "alice"));
  std::vector<std::string> kinds;
  const auto inc = mgr.get(id).value();
  for (const auto& t : inc.timeline)
    kinds.push_back(t.kind);
  EXPECT_EQ(kinds, (std::vector<std::string>{"opened", "escalated", "action", "acknowledged",
                                             "resolved"}));
}

TEST_F(Incidents, UnknownIncidentIsNotFound) {
  EXPECT_EQ(mgr.acknowledge("inc-nope", "a").error(), codes::resource_not_found);
}

// Seed 003's policies: the first matching policy takes the incident, with
// its own escalation chain and acknowledge timeout.
TEST(IncidentPolicies, FirstMatchingPolicyHandlesTheIncidentForItsLife) {
  manual_clock clock;
  incident_manager mgr{clock,
                       {.ack_timeout = 15min,
                        .escalation = {"slack", "email"},
                        .policies = {{.name = "critical",
                                      .matchers = {parse_matcher(R"(severity="critical")").value()},
                                      .ack_timeout = 5min,
                                      .escalation = {"pager", "cto"}},
                                     {.name = "payments",
                                      .matchers = {parse_matcher(R"(service="payments")").value()},
                                      .ack_timeout = 30min,
                                      .escalation = {"payments-team", "payments-lead"}}}}};
  auto critical = firing("checkout", "DATABASE_ERROR");
  critical.labels.set("severity", "critical");
  auto notices = mgr.on_alert(critical);
  ASSERT_EQ(notices.size(), 1u);
  EXPECT_EQ(notices[0].receiver, "pager");
  auto inc = mgr.open_for("checkout:DATABASE_ERROR").value();
  EXPECT_EQ(inc.policy, "critical");
  EXPECT_EQ(inc.severity, "critical");

  EXPECT_EQ(mgr.on_alert(firing("payments", "TIMEOUT")).at(0).receiver, "payments-team");
  EXPECT_EQ(mgr.on_alert(firing("search", "TIMEOUT")).at(0).receiver, "slack");  // default

  clock.advance(5min);  // only the critical one is due
  auto due = mgr.tick();
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].receiver, "cto");
  clock.advance(10min);  // the default's 15 min
  due = mgr.tick();
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].receiver, "email");
  clock.advance(15min);  // payments' 30 min
  due = mgr.tick();
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].receiver, "payments-lead");

  // A reload without the payments policy: its incident falls back to the
  // default's handling from then on.
  mgr.set_policies({.ack_timeout = 15min, .escalation = {"slack", "email", "cto"}}, {});
  clock.advance(15min);
  bool payments_escalated = false;
  for (const auto& n : mgr.tick())
    payments_escalated |= n.receiver == "cto";
  EXPECT_TRUE(payments_escalated);
}

TEST(IncidentPolicies, PolicyAndSeveritySurviveTheStoredForm) {
  manual_clock clock;
  incident_manager mgr{clock,
                       {.policies = {{.name = "critical",
                                      .matchers = {parse_matcher(R"(severity="critical")").value()},
                                      .escalation = {"pager"}}}}};
  auto a = firing("checkout", "DATABASE_ERROR");
  a.labels.set("severity", "critical");
  (void)mgr.on_alert(a);
  const auto inc = mgr.open_for("checkout:DATABASE_ERROR").value();
  const auto back = incident_from_record(to_record(inc)).value();
  EXPECT_EQ(back.current->policy, "critical");
  EXPECT_EQ(back.current->severity, "critical");
  EXPECT_EQ(to_json(inc, false).at("policy"), "critical");
}

TEST(IncidentActions, OnOpenActionsRunAndAreRecorded) {
  manual_clock clock;
  std::vector<std::string> opened_breakers;
  incident_manager mgr(clock, {.on_open = {{.kind = action_kind::notify, .name = "team"},
                                           {.kind = action_kind::open_breaker, .name = "payments"},
                                           {.kind = action_kind::run_handler, .name = "drain"},
                                           {.kind = action_kind::run_handler, .name = "missing"}},
                               .breaker_opener = [&](std::string_view b) -> result<void> {
                                 opened_breakers.emplace_back(b);
                                 return ok();
                               }});
  int drained = 0;
  mgr.register_handler("drain", [&](const incident& i) -> result<void> {
    EXPECT_EQ(i.key, "checkout:TIMEOUT");
    ++drained;
    return ok();
  });
  auto notices = mgr.on_alert(firing("checkout", "TIMEOUT"));
  ASSERT_EQ(notices.size(), 1u);
  EXPECT_EQ(notices[0].receiver, "team");
  EXPECT_EQ(opened_breakers, std::vector<std::string>{"payments"});
  EXPECT_EQ(drained, 1);
  std::vector<std::string> actions;
  const auto inc = mgr.open_for("checkout:TIMEOUT").value();
  for (const auto& t : inc.timeline) {
    if (t.kind == "action") actions.push_back(t.detail);
  }
  EXPECT_EQ(actions, (std::vector<std::string>{"notify team: queued", "open_breaker payments: ok",
                                               "run_handler drain: ok",
                                               "run_handler missing: failed: no handler"}));
}

TEST(IncidentAudit, AcknowledgeAndResolveAreAudited) {
  testing::temp_dir dir;
  manual_clock clock;
  auto st = store::open({.data_dir = dir.path()}, clock).value();
  audit_log log(*st);
  incident_manager mgr(clock, {.audit = &log});
  (void)mgr.on_alert(firing("checkout", "TIMEOUT"));
  const auto id = mgr.open_for("checkout:TIMEOUT")->id;
  ASSERT_TRUE(mgr.acknowledge(id, "alice"));
  ASSERT_TRUE(mgr.resolve(id, "alice"));
  auto entries = log.list(0, 10).value();
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].record.action, "incident.acknowledge");
  EXPECT_EQ(entries[1].record.action, "incident.resolve");
  EXPECT_EQ(entries[1].record.resource, "incident/" + id);
  EXPECT_TRUE(log.verify()->ok);
}

}  // namespace
}  // namespace keel::alert
