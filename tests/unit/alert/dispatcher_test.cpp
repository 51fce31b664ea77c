#include "keel/alert/dispatcher.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace keel::alert {
namespace {

using namespace std::chrono_literals;

matcher m(std::string_view text) { return parse_matcher(text).value(); }

class Dispatcher : public ::testing::Test {
 protected:
  alert firing(std::string name, label_set extra = {}) {
    alert a;
    a.rule = name;
    a.labels = std::move(extra);
    a.labels.set("alertname", name);
    a.state = alert_state::firing;
    a.active_since = a.fired_at = clock.system_now();
    return a;
  }
  alert resolved(alert a) {
    a.state = alert_state::inactive;
    a.ends_at = clock.system_now();
    return a;
  }
  std::vector<notification> tick(std::chrono::milliseconds d = 0ms) {
    clock.advance(d);
    std::vector<notification> out;
    d_.tick(out);
    return out;
  }
  void put(const alert& a) { ASSERT_TRUE(d_.put(a)); }

  manual_clock clock;
  route root{.receiver = "default",
             .group_by = std::vector<std::string>{"alertname"},
             .group_wait = 30s,
             .group_interval = 5min,
             .repeat_interval = 4h,
             .routes = {{.receiver = "pager", .matchers = {m(R"(severity="critical")")}},
                        {.receiver = "db-team",
                         .matchers = {m(R"(service=~"db|cache")")},
                         .continue_matching = true},
                        {.receiver = "audit", .matchers = {m(R"(service="db")")}}}};
  dispatcher d_{root, clock};
};

TEST_F(Dispatcher, RoutesByLabelsToTheFirstMatchingChild) {
  EXPECT_EQ(d_.receivers_for({{"severity", "critical"}, {"service", "db"}}),
            std::vector<std::string>{"pager"});
  EXPECT_EQ(d_.receivers_for({{"service", "web"}}), std::vector<std::string>{"default"});
}

TEST_F(Dispatcher, ContinueAlsoTriesLaterSiblings) {
  EXPECT_EQ(d_.receivers_for({{"service", "db"}}), (std::vector<std::string>{"db-team", "audit"}));
}

TEST_F(Dispatcher, FirstNotificationWaitsForGroupWaitAndBatchesTheGroup) {
  put(firing("HighLatency", {{"instance", "a"}}));
  EXPECT_TRUE(tick(10s).empty());
  put(firing("HighLatency", {{"instance", "b"}}));
  EXPECT_TRUE(tick(19s).empty());
  auto out = tick(1s);  // 30 s after the first alert
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].receiver, "default");
  EXPECT_EQ(out[0].alerts.size(), 2u);
  EXPECT_EQ(out[0].group_labels, (label_set{{"alertname", "HighLatency"}}));
  EXPECT_EQ(out[0].common_labels, (label_set{{"alertname", "HighLatency"}}));
}

TEST_F(Dispatcher, ChangesGoOutAtTheNextGroupInterval) {
  put(firing("HighLatency", {{"instance", "a"}}));
  ASSERT_EQ(tick(30s).size(), 1u);
  put(firing("HighLatency", {{"instance", "b"}}));
  EXPECT_TRUE(tick(4min).empty());
  auto out = tick(1min);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].alerts.size(), 2u);
}

TEST_F(Dispatcher, UnchangedFiringGroupRepeatsAfterRepeatInterval) {
  put(firing("HighLatency"));
  ASSERT_EQ(tick(30s).size(), 1u);
  for (int i = 0; i < 47; ++i)
    EXPECT_TRUE(tick(5min).empty()) << i;  // 3 h 55 min
  EXPECT_EQ(tick(5min).size(), 1u);        // 4 h since the last notification
}

TEST_F(Dispatcher, ResolvedAlertIsNotifiedOnceAndLeavesTheGroup) {
  auto a = firing("HighLatency");
  put(a);
  ASSERT_EQ(tick(30s).size(), 1u);
  put(resolved(a));
  auto out = tick(5min);
  ASSERT_EQ(out.size(), 1u);
  ASSERT_EQ(out[0].alerts.size(), 1u);
  EXPECT_TRUE(out[0].alerts[0].resolved());
  EXPECT_FALSE(out[0].firing());
  EXPECT_EQ(d_.group_count(), 0u);
}

TEST_F(Dispatcher, AlertResolvedBeforeItWasNotifiedSendsNothing) {
  auto a = firing("Blip");
  put(a);
  clock.advance(10s);
  put(resolved(a));
  EXPECT_TRUE(tick(20s).empty());
  EXPECT_EQ(d_.group_count(), 0u);
}

TEST_F(Dispatcher, SilenceMutesMatchingAlertsWhileActive) {
  auto id = d_.add_silence({.matchers = {m(R"(alertname="HighLatency")")},
                            .starts_at = clock.system_now(),
                            .ends_at = clock.system_now() + 1h,
                            .created_by = "alice",
                            .comment = "deploying"});
  ASSERT_TRUE(id);
  put(firing("HighLatency"));
  EXPECT_TRUE(tick(30s).empty());
  EXPECT_TRUE(d_.silenced({{"alertname", "HighLatency"}}));
  EXPECT_TRUE(tick(59min).empty());
  auto out = tick(5min);  // the silence ended
  ASSERT_EQ(out.size(), 1u);
}

TEST_F(Dispatcher, ExpiredSilenceStopsMuting) {
  auto id = d_.add_silence({.matchers = {m(R"(alertname="X")")},
                            .starts_at = clock.system_now(),
                            .ends_at = clock.system_now() + 1h,
                            .created_by = "alice"})
                .value();
  ASSERT_TRUE(d_.expire_silence(id));
  EXPECT_FALSE(d_.silenced({{"alertname", "X"}}));
  EXPECT_EQ(d_.expire_silence("nope").error(), codes::resource_not_found);
}

TEST_F(Dispatcher, SilenceNeedsMatchersCreatorAndAnOrderedSpan) {
  EXPECT_FALSE(d_.add_silence(
      {.starts_at = clock.system_now(), .ends_at = clock.system_now() + 1h, .created_by = "a"}));
  EXPECT_FALSE(d_.add_silence({.matchers = {m("a=b")},
                               .starts_at = clock.system_now(),
                               .ends_at = clock.system_now(),
                               .created_by = "a"}));
  EXPECT_FALSE(d_.add_silence({.matchers = {m("a=b")},
                               .starts_at = clock.system_now(),
                               .ends_at = clock.system_now() + 1h}));
}

TEST_F(Dispatcher, CriticalAlertInhibitsLowerSeveritiesOfTheSameService) {
  d_.set_inhibit_rules({{.source_matchers = {m(R"(severity="critical")")},
                         .target_matchers = {m(R"(severity=~"high|medium|low")")},
                         .equal = {"service"}}});
  put(firing("DbDown", {{"severity", "critical"}, {"service", "checkout"}}));
  put(firing("SlowQueries", {{"severity", "high"}, {"service", "checkout"}}));
  put(firing("SlowQueries", {{"severity", "high"}, {"service", "search"}}));
  auto out = tick(30s);
  std::vector<std::string> seen;
  for (const auto& n : out) {
    for (const auto& a : n.alerts)
      seen.push_back(std::string(a.labels.get("service")) + "/" + a.rule);
  }
  std::sort(seen.begin(), seen.end());
  EXPECT_EQ(seen, (std::vector<std::string>{"checkout/DbDown", "search/SlowQueries"}));
  EXPECT_TRUE(d_.inhibited({{"severity", "high"}, {"service", "checkout"}}));
}

// A rule whose source and target both match one alert mutes the other
// alerts it matches, never that alert itself.
TEST_F(Dispatcher, AnAlertDoesNotInhibitItself) {
  d_.set_inhibit_rules({{.source_matchers = {m(R"(severity=~"critical|high")")},
                         .target_matchers = {m(R"(severity=~"critical|high")")},
                         .equal = {"service"}}});
  put(firing("DbDown", {{"severity", "critical"}, {"service", "checkout"}}));
  auto out = tick(30s);
  ASSERT_EQ(out.size(), 1u);
  ASSERT_EQ(out[0].alerts.size(), 1u);
  EXPECT_EQ(out[0].alerts[0].rule, "DbDown");
  EXPECT_FALSE(
      d_.inhibited({{"alertname", "DbDown"}, {"severity", "critical"}, {"service", "checkout"}}));
  // Another alert of the service that matches both sides is muted by it.
  EXPECT_TRUE(d_.inhibited({{"severity", "high"}, {"service", "checkout"}}));
  EXPECT_FALSE(d_.inhibited({{"severity", "high"}, {"service", "search"}}));
}

TEST_F(Dispatcher, InhibitionEndsWhenTheSourceResolves) {
  d_.set_inhibit_rules({{.source_matchers = {m(R"(severity="critical")")},
                         .target_matchers = {m(R"(severity="high")")},
                         .equal = {"service"}}});
  auto crit = firing("DbDown", {{"severity", "critical"}, {"service", "checkout"}});
  put(crit);
  put(firing("SlowQueries", {{"severity", "high"}, {"service", "checkout"}}));
  (void)tick(30s);
  put(resolved(crit));
  EXPECT_FALSE(d_.inhibited({{"severity", "high"}, {"service", "checkout"}}));
}

TEST_F(Dispatcher, GroupByAllLabelsMakesOneGroupPerAlert) {
  ASSERT_TRUE(d_.set_route(
      {.receiver = "r", .group_by = std::vector<std::string>{"..."}, .group_wait = 0s}));
  put(firing("A", {{"i", "1"}}));
  put(firing("A", {{"i", "2"}}));
  EXPECT_EQ(tick().size(), 2u);
}

TEST_F(Dispatcher, NotificationIdsAreUniqueAndGroupKeysStable) {
  auto a = firing("A");
  put(a);
  auto first = tick(30s);
  auto second = tick(4h);
  ASSERT_EQ(first.size(), 1u);
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(first[0].group_key, second[0].group_key);
  EXPECT_NE(first[0].id, second[0].id);
}

TEST(SilenceFromJson, TakesMatchersAndADurationOrAnEnd) {
  const auto now = std::chrono::system_clock::time_point(std::chrono::seconds(1'767'225'600));
  auto s = silence_from_json(nlohmann::ordered_json::parse(
                                 R"({"matchers":["alertname=\"X\"","severity=~\"high|critical\""],
                                     "duration":"2h","created_by":"ana","comment":"deploy"})"),
                             now);
  ASSERT_TRUE(s) << s.error().message();
  EXPECT_EQ(s->matchers.size(), 2u);
  EXPECT_EQ(s->starts_at, now);
  EXPECT_EQ(s->ends_at, now + 2h);
  EXPECT_EQ(s->created_by, "ana");
  const auto view = to_json(*s, now);
  EXPECT_EQ(view.at("state"), "active");
  EXPECT_EQ(view.at("matchers").size(), 2u);
  auto until = silence_from_json(
      nlohmann::ordered_json::parse(R"({"matchers":["a=\"b\""],"ends_at":"2026-01-01T03:00:00Z"})"),
      now);
  ASSERT_TRUE(until);
  EXPECT_EQ(until->ends_at, now + 3h);
  EXPECT_EQ(until->created_by, "admin");
}

TEST(SilenceFromJson, EachBadFieldIsNamed) {
  const auto now = std::chrono::system_clock::time_point(std::chrono::seconds(1'767'225'600));
  auto field_of = [&](std::string_view body) {
    auto s = silence_from_json(nlohmann::ordered_json::parse(body), now);
    EXPECT_FALSE(s) << body;
    return s ? std::string() : s.error().details().value("field", std::string("?"));
  };
  EXPECT_EQ(field_of(R"({"duration":"1h"})"), "matchers");
  EXPECT_EQ(field_of(R"({"matchers":[{"name":"a","value":"b"}]})"), "matchers");
  EXPECT_EQ(field_of(R"({"matchers":["a=\"b\""],"duration":"2 hours"})"), "duration");
  EXPECT_EQ(field_of(R"({"matchers":["a=\"b\""],"ends_at":"2020-01-01T00:00:00Z"})"), "ends_at");
  EXPECT_EQ(field_of(R"({"matchers":["a=\"b\""],"ends_at":"tomorrow"})"), "ends_at");
  EXPECT_EQ(field_of(R"({"matchers":["a=\"b\""],"comment":7})"), "comment");
  EXPECT_FALSE(silence_from_json(nlohmann::ordered_json::array(), now));
}

}  // namespace
}  // namespace keel::alert
