#include "keel/alert/config.hpp"

#include <gtest/gtest.h>

#include "keel/alert/rule_engine.hpp"

#include <nlohmann/json.hpp>

namespace keel::alert {
namespace {

// A refusal that says why: the message holds `reason`.
#define EXPECT_REFUSED(expr, reason)                                                      \
  do {                                                                                    \
    const auto refused_ = (expr);                                                         \
    ASSERT_FALSE(refused_) << #expr << " was accepted";                                   \
    EXPECT_NE(refused_.error().message().find(reason), std::string::npos)                 \
        << #expr << ": \"" << refused_.error().message() << "\" does not say " << reason; \
  } while (0)

using namespace std::chrono_literals;

// The seeds' two rules, as docs/alerting.md shows them.
constexpr std::string_view kSeedConfig = R"yaml(
rules:
  - alert: HighErrorRate
    ratio:
      numerator: http_errors_total
      denominator: http_requests_total
      by: []
      above: 0.05
      min_denominator: 100
    labels:
      severity: high
      service: monitoring-api
    annotations:
      title: High Error Rate Detected
      summary: "Application error rate exceeds 5% (now {{ humanizePercentage $value }})"
  - alert: SlowResponseTime
    histogram_average:
      metric: http_request_duration_seconds
      window: 5m
      by: []
      above: 2
    labels:
      severity: medium
      service: monitoring-api
    annotations:
      summary: "Average response time {{ printf \"%.2f\" $value }} s exceeds 2 seconds"

route:
  receiver: ops
  group_by: [alertname, service]
  group_wait: 30s
  group_interval: 5m
  repeat_interval: 4h
  routes:
    - matchers: ['alertname="HighErrorRate"']
      receiver: ops
      repeat_interval: 5m      # the seed's cooldown_minutes: 5
    - matchers: ['alertname="SlowResponseTime"']
      receiver: ops
      repeat_interval: 10m     # the seed's cooldown_minutes: 10
    - matchers: ['severity="critical"']
      receiver: pager
      continue: true

receivers:
  - name: ops
    webhook:
      url: http://127.0.0.1:9000/alerts
      secret: change-me
  - name: pager
    pagerduty:
      routing_key: R0UT1NGKEY
    send_resolved: true
    timeout: 5s

inhibit_rules:
  - source_matchers: ['severity="critical"']
    target_matchers: ['severity=~"high|medium|low"']
    equal: [service]
)yaml";

TEST(Config, SeedConfigurationLoads) {
  auto cfg = load_config_yaml(kSeedConfig);
  ASSERT_TRUE(cfg) << cfg.error().to_string();
  ASSERT_EQ(cfg->rules.size(), 2u);
  const auto& r0 = cfg->rules[0];
  EXPECT_EQ(r0.name, "HighErrorRate");
  EXPECT_EQ(r0.cond.kind, condition_kind::ratio);
  EXPECT_EQ(r0.cond.series.metric, "http_errors_total");
  EXPECT_EQ(r0.cond.denominator.metric, "http_requests_total");
  EXPECT_EQ(r0.cond.min_denominator, 100);
  EXPECT_EQ(r0.cond.threshold, 0.05);
  EXPECT_EQ(cfg->rules[1].cond.kind, condition_kind::histogram_average);
  EXPECT_EQ(cfg->rules[1].cond.window, 5min);
  ASSERT_TRUE(cfg->root);
  EXPECT_EQ(cfg->root->routes[0].repeat_interval, 5min);
  EXPECT_TRUE(cfg->root->routes[2].continue_matching);
  ASSERT_EQ(cfg->receivers.size(), 2u);
  EXPECT_EQ(cfg->receivers[0].secret, "change-me");
  EXPECT_EQ(cfg->receivers[1].kind, receiver_kind::pagerduty);
  EXPECT_EQ(cfg->receivers[1].timeout, 5s);
  ASSERT_EQ(cfg->inhibit_rules.size(), 1u);
  EXPECT_EQ(cfg->inhibit_rules[0].equal, std::vector<std::string>{"service"});
}

TEST(Config, LoadedSeedRuleFiresInTheEngine) {
  auto cfg = load_config_yaml(kSeedConfig).value();
  manual_clock clock;
  series_table t;
  auto req = t.counter("http_requests_total", {{"method", "GET"}});
  auto err = t.counter("http_errors_total", {{"method", "GET"}});
  rule_engine e({&t}, clock);
  for (auto& r : cfg.rules)
    ASSERT_TRUE(e.upsert(r));
  evaluation ev;
  e.evaluate(ev);
  req->add(200);
  err->add(20);
  clock.advance(15s);
  e.evaluate(ev);
  ASSERT_EQ(ev.fired.size(), 1u);
  EXPECT_EQ(ev.fired[0].annotations.get("summary"), "Application error rate exceeds 5% (now 10%)");
}

TEST(Config, ErrorsNameLineColumnAndPath) {
  auto r = load_rules_yaml(R"yaml(
rules:
  - alert: A
    threshold: {metric: m, above: 1}
  - alert: B
    threshold: {metric: m, above: 1}
    for: 5x
)yaml");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), codes::validation_error);
  EXPECT_EQ(r.error().details().at("line"), 7);
  EXPECT_EQ(r.error().details().at("path"), "rules[1].for");
  EXPECT_NE(r.error().message().find("line 7"), std::string::npos);
}

TEST(Config, SectionOfALargerDocumentKeepsItsLines) {
  auto ok = load_config_yaml(
      "server:\n  listen: 127.0.0.1:8000\nalerting:\n  rules:\n"
      "    - alert: A\n      threshold: {metric: m, above: 1}\n",
      "alerting");
  ASSERT_TRUE(ok) << ok.error().message();
  ASSERT_EQ(ok->rules.size(), 1u);
  EXPECT_EQ(ok->rules[0].name, "A");

  auto bad = load_config_yaml(
      "server: {}\nalerting:\n  rules:\n    - alert: B\n"
      "      threshold: {metric: m, above: 1}\n      for: 5x\n",
      "alerting");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().details().at("line"), 6);
  EXPECT_EQ(bad.error().details().at("path"), "alerting.rules[0].for");

  auto none = load_config_yaml("server: {}\n", "alerting");
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->rules.empty());
}

TEST(Config, UnknownKeysAreErrors) {
  auto r = load_rules_yaml(R"yaml(
rules:
  - alert: A
    threshold: {metric: m, above: 1}
    anotations: {summary: typo}
)yaml");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().details().at("line"), 5);
  EXPECT_NE(r.error().message().find("unknown key 'anotations'"), std::string::npos);
}

TEST(Config, SyntaxErrorsCarryTheirLine) {
  auto r = load_rules_yaml("rules:\n  - alert: A\n    threshold: {metric: m\n");
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error().details().contains("line"));
}

TEST(Config, EachConditionNeedsExactlyOneComparison) {
  EXPECT_REFUSED(load_rules_yaml("alert: A\nthreshold: {metric: m}\n"),
                 "rule.threshold: exactly one of above, at_least, below, at_most is required");
  EXPECT_REFUSED(load_rules_yaml("alert: A\nthreshold: {metric: m, above: 1, below: 2}\n"),
                 "rule.threshold: exactly one of above, at_least, below, at_most is required");
  EXPECT_TRUE(load_rules_yaml("alert: A\nthreshold: {metric: m, at_most: 2}\n"));
}

TEST(Config, InvalidTemplateIsReportedAtItsRule) {
  auto r = load_rules_yaml(
      "rules:\n  - alert: A\n    threshold: {metric: m, above: 1}\n"
      "    annotations: {s: '{{ $oops }}'}\n");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().details().at("path"), "rules[0]");
}

TEST(Config, EventRulesTakeMatchersAndGroupByServiceAndCode) {
  auto r = load_rules_yaml(R"yaml(
alert: DatabaseErrors
events:
  matchers: ['code="DATABASE_ERROR"', 'severity=~"high|critical"']
  window: 10m
  at_least: 5
)yaml");
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ((*r)[0].cond.kind, condition_kind::events);
  EXPECT_EQ((*r)[0].cond.series.matchers.size(), 2u);
  EXPECT_TRUE(compile((*r)[0]).has_value());
}

TEST(Config, RouteMustNameKnownReceivers) {
  auto r = load_config_yaml("route: {receiver: ghost}\n");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("unknown receiver 'ghost'"), std::string::npos);
}

TEST(Config, IncidentPoliciesAreMatchedByLabelsEachWithItsHandling) {
  constexpr std::string_view kReceivers = R"yaml(
receivers:
  - {name: slack, slack: {url: "http://127.0.0.1:9/hook"}}
  - {name: pager, webhook: {url: "http://127.0.0.1:9/page"}}
)yaml";
  auto ok = load_config_yaml(std::string(kReceivers) + R"yaml(
incidents:
  escalation: [slack]
  policies:
    - name: critical_payments
      matchers: ['severity="critical"', 'service=~"payments|checkout"']
      ack_timeout: 5m
      escalation: [pager, slack]
      on_open: [{open_breaker: payments}]
    - name: database
      matchers: ['code="DATABASE_ERROR"']
      escalation: [slack, pager]
)yaml");
  ASSERT_TRUE(ok) << ok.error().message();
  ASSERT_EQ(ok->incidents.policies.size(), 2u);
  const auto& p = ok->incidents.policies[0];
  EXPECT_EQ(p.name, "critical_payments");
  EXPECT_EQ(p.matchers.size(), 2u);
  EXPECT_EQ(p.ack_timeout, std::chrono::minutes(5));
  EXPECT_EQ(p.escalation, (std::vector<std::string>{"pager", "slack"}));
  EXPECT_EQ(p.on_open.at(0).kind, action_kind::open_breaker);
  EXPECT_EQ(ok->incidents.policies[1].ack_timeout, std::chrono::minutes(15));
  EXPECT_EQ(ok->incidents.escalation, std::vector<std::string>{"slack"});

  auto error_of = [&](std::string_view policies) {
    auto r = load_config_yaml(std::string(kReceivers) + "incidents:\n  policies:\n" +
                              std::string(policies));
    return r ? std::string() : r.error().message();
  };
  EXPECT_NE(error_of("    - {name: a, matchers: ['x=\"y\"'], escalation: [ghost]}\n")
                .find("incidents.policies[0].escalation[0]: unknown receiver 'ghost'"),
            std::string::npos);
  EXPECT_NE(error_of("    - {name: a}\n").find("matchers are required"), std::string::npos);
  EXPECT_NE(
      error_of("    - {name: a, matchers: ['x=\"y\"']}\n    - {name: a, matchers: ['x=\"z\"']}\n")
          .find("duplicate policy name 'a'"),
      std::string::npos);
  EXPECT_NE(error_of("    - {name: a, matchers: ['x=\"y\"'], severity: high}\n")
                .find("unknown key 'severity'"),
            std::string::npos);
}

TEST(Config, IncidentPolicyNamesKnownReceiversAndActions) {
  constexpr std::string_view kReceivers = R"yaml(
receivers:
  - {name: slack, slack: {url: "http://127.0.0.1:9/hook"}}
  - {name: pager, webhook: {url: "http://127.0.0.1:9/page"}}
)yaml";
  auto ok = load_config_yaml(std::string(kReceivers) + R"yaml(
incidents:
  ack_timeout: 10m
  escalation: [slack, pager]
  on_open:
    - notify: pager
    - open_breaker: payments
)yaml");
  ASSERT_TRUE(ok) << ok.error().message();
  EXPECT_EQ(ok->incidents.ack_timeout, std::chrono::minutes(10));
  EXPECT_EQ(ok->incidents.escalation, (std::vector<std::string>{"slack", "pager"}));
  ASSERT_EQ(ok->incidents.on_open.size(), 2u);
  EXPECT_EQ(ok->incidents.on_open[0].kind, action_kind::notify);
  EXPECT_EQ(ok->incidents.on_open[0].name, "pager");
  EXPECT_EQ(ok->incidents.on_open[1].kind, action_kind::open_breaker);
  EXPECT_EQ(ok->incidents.on_open[1].name, "payments");
  EXPECT_EQ(load_config_yaml(kReceivers)->incidents.ack_timeout, std::chrono::minutes(15));

  auto ghost =
      load_config_yaml(std::string(kReceivers) + "incidents:\n  escalation: [slack, ghost]\n");
  ASSERT_FALSE(ghost);
  EXPECT_EQ(ghost.error().details().at("path"), "incidents.escalation[1]");
  EXPECT_EQ(ghost.error().details().at("line"), 6);
  EXPECT_NE(ghost.error().message().find("unknown receiver 'ghost'"), std::string::npos);
  EXPECT_REFUSED(load_config_yaml(std::string(kReceivers) +
                                  "incidents:\n  on_open: [{notify: slack, open_breaker: b}]\n"),
                 "incidents.on_open[0]: one of notify, open_breaker or run_handler");
  const auto handler =
      load_config_yaml(std::string(kReceivers) + "incidents:\n  on_open: [{run_handler: drain}]\n");
  ASSERT_TRUE(handler) << handler.error().message();
  EXPECT_EQ(handler->incidents.on_open.at(0).kind, action_kind::run_handler);
  EXPECT_REFUSED(load_config_yaml("incidents:\n  ack_timeout: 0\n"),
                 "incidents.ack_timeout: must be positive");
}

TEST(Config, DuplicateRuleNamesAreRejected) {
  EXPECT_REFUSED(load_rules_yaml("rules:\n  - alert: A\n    threshold: {metric: m, above: 1}\n"
                                 "  - alert: A\n    threshold: {metric: m, above: 2}\n"),
                 "rules[1]: duplicate rule name 'A'");
}

TEST(Config, OversizedDocumentIsRefused) {
  std::string big(1024 * 1024 + 1, '#');
  EXPECT_EQ(load_config_yaml(big).error(), codes::payload_too_large);
}

TEST(ParseDuration, ReadsPrometheusDurations) {
  EXPECT_EQ(parse_duration("500ms"), 500ms);
  EXPECT_EQ(parse_duration("30s"), 30s);
  EXPECT_EQ(parse_duration("1h30m"), 90min);
  EXPECT_EQ(parse_duration("1d"), 24h);
  EXPECT_EQ(parse_duration("0"), 0ms);
  EXPECT_FALSE(parse_duration("5x"));
  EXPECT_FALSE(parse_duration("-5s"));
  EXPECT_FALSE(parse_duration("s"));
  EXPECT_FALSE(parse_duration(""));
}

TEST(RuleView, DescribesEveryFieldOfTheCondition) {
  const auto cfg = load_config_yaml(kSeedConfig).value();
  const auto ratio = to_json(cfg.rules.at(0));
  EXPECT_EQ(ratio.at("name"), "HighErrorRate");
  EXPECT_EQ(ratio.at("condition"), "ratio");
  EXPECT_EQ(ratio.at("metric"), "http_errors_total");
  EXPECT_EQ(ratio.at("denominator").at("metric"), "http_requests_total");
  EXPECT_EQ(ratio.at("min_denominator"), 100.0);
  EXPECT_EQ(ratio.at("op"), to_string(compare::above));
  EXPECT_EQ(ratio.at("threshold"), 0.05);
  EXPECT_EQ(ratio.at("by"), nlohmann::ordered_json::array());
  EXPECT_EQ(ratio.at("labels").at("severity"), "high");
  const auto slow = to_json(cfg.rules.at(1));
  EXPECT_EQ(slow.at("window_ms"), 300'000);
  EXPECT_EQ(slow.at("threshold"), 2.0);
  EXPECT_FALSE(slow.contains("denominator"));
}

}  // namespace
}  // namespace keel::alert
