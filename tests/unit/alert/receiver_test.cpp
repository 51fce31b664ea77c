#include "keel/alert/receiver.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "alert/internal/crypto.hpp"
#include "keel/core/rfc3339.hpp"

namespace keel::alert {
namespace {

using namespace std::chrono_literals;
using json = nlohmann::json;

class Receivers : public ::testing::Test {
 protected:
  notification make(bool resolved = false) {
    alert a;
    a.rule = "HighErrorRate";
    a.labels = {
        {"alertname", "HighErrorRate"}, {"severity", "high"}, {"service", "monitoring-api"}};
    a.annotations = {{"summary", "Application error rate exceeds 5% <!channel>"}};
    a.state = resolved ? alert_state::inactive : alert_state::firing;
    a.value = 0.07;
    a.active_since = a.fired_at = now - 5min;
    if (resolved) a.ends_at = now;
    notification n;
    n.receiver = "r";
    n.group_key = "{}/0:{alertname=\"HighErrorRate\"}";
    n.id = "abc-1";
    n.group_labels = {{"alertname", "HighErrorRate"}};
    n.common_labels = a.labels;
    n.common_annotations = a.annotations;
    n.alerts = {a};
    n.created_at = now;
    return n;
  }
  json body(const receiver_config& r, const notification& n) {
    auto out = render(r, n, now);
    EXPECT_TRUE(out) << out.error().to_string();
    return json::parse(out->body);
  }
  std::chrono::system_clock::time_point now =
      std::chrono::system_clock::time_point(std::chrono::seconds(1'767'225'600));
};

TEST_F(Receivers, WebhookCarriesTheAlertmanagerWebhookShape) {
  receiver_config r{.name = "hook", .kind = receiver_kind::webhook, .url = "http://x/"};
  auto j = body(r, make());
  EXPECT_EQ(j["version"], "4");
  EXPECT_EQ(j["status"], "firing");
  EXPECT_EQ(j["receiver"], "hook");
  EXPECT_EQ(j["groupLabels"]["alertname"], "HighErrorRate");
  ASSERT_EQ(j["alerts"].size(), 1u);
  EXPECT_EQ(j["alerts"][0]["status"], "firing");
  EXPECT_EQ(j["alerts"][0]["labels"]["service"], "monitoring-api");
  EXPECT_EQ(j["alerts"][0]["endsAt"], "0001-01-01T00:00:00Z");
  EXPECT_EQ(j["alerts"][0]["startsAt"], format_rfc3339(now - 5min));
  EXPECT_EQ(body(r, make(true))["status"], "resolved");
}

TEST_F(Receivers, SlackUsesAHeaderAndEscapedMrkdwnSections) {
  receiver_config r{.name = "s", .kind = receiver_kind::slack, .url = "https://hooks.example/x"};
  auto j = body(r, make());
  EXPECT_TRUE(j["text"].is_string());
  ASSERT_GE(j["blocks"].size(), 2u);
  EXPECT_EQ(j["blocks"][0]["type"], "header");
  EXPECT_EQ(j["blocks"][0]["text"]["type"], "plain_text");
  EXPECT_LE(j["blocks"][0]["text"]["text"].get<std::string>().size(), 150u);
  EXPECT_EQ(j["blocks"][1]["type"], "section");
  EXPECT_EQ(j["blocks"][1]["text"]["type"], "mrkdwn");
  const auto text = j["blocks"][1]["text"]["text"].get<std::string>();
  EXPECT_NE(text.find("&lt;!channel&gt;"), std::string::npos);
  EXPECT_EQ(text.find("<!channel>"), std::string::npos);
  EXPECT_EQ(j["blocks"].back()["type"], "context");
}

TEST_F(Receivers, PagerDutyTriggerFollowsEventsApiV2) {
  receiver_config r{.name = "pd", .kind = receiver_kind::pagerduty, .routing_key = "R0UT1NG"};
  auto n = make();
  auto j = body(r, n);
  EXPECT_EQ(j["routing_key"], "R0UT1NG");
  EXPECT_EQ(j["event_action"], "trigger");
  EXPECT_EQ(j["dedup_key"], pagerduty_dedup_key(n.group_key));
  EXPECT_LE(j["dedup_key"].get<std::string>().size(), 255u);
  const auto& p = j["payload"];
  EXPECT_LE(p["summary"].get<std::string>().size(), 1024u);
  EXPECT_EQ(p["source"], "monitoring-api");
  EXPECT_EQ(p["severity"], "error");  // high -> error
  EXPECT_TRUE(parse_rfc3339(p["timestamp"].get<std::string>()).has_value());
  EXPECT_EQ(p["class"], "HighErrorRate");
  EXPECT_TRUE(p["custom_details"].is_object());
}

TEST_F(Receivers, PagerDutyResolveReusesTheGroupsDedupKey) {
  receiver_config r{.name = "pd", .kind = receiver_kind::pagerduty, .routing_key = "R0UT1NG"};
  auto trigger = body(r, make());
  auto resolve = body(r, make(true));
  EXPECT_EQ(resolve["event_action"], "resolve");
  EXPECT_EQ(resolve["dedup_key"], trigger["dedup_key"]);
  EXPECT_FALSE(resolve.contains("payload"));
  EXPECT_EQ(render(r, make(), now)->dedup_key, trigger["dedup_key"]);
}

TEST_F(Receivers, PagerDutySummaryIsCutAt1024Bytes) {
  receiver_config r{.name = "pd", .kind = receiver_kind::pagerduty, .routing_key = "k"};
  auto n = make();
  n.alerts[0].annotations.set("summary", std::string(5000, 'x'));
  EXPECT_EQ(body(r, n)["payload"]["summary"].get<std::string>().size(), 1024u);
}

TEST_F(Receivers, AlertmanagerGetsPostableAlerts) {
  receiver_config r{.name = "am",
                    .kind = receiver_kind::alertmanager,
                    .url = "http://am:9093",
                    .am_validity = 15min,
                    .external_url = "http://keeld:8080"};
  auto j = body(r, make());
  ASSERT_TRUE(j.is_array());
  ASSERT_EQ(j.size(), 1u);
  EXPECT_EQ(j[0]["labels"]["alertname"], "HighErrorRate");
  EXPECT_EQ(j[0]["annotations"]["summary"].get<std::string>().substr(0, 11), "Application");
  EXPECT_EQ(j[0]["startsAt"], format_rfc3339(now - 5min));
  EXPECT_EQ(j[0]["endsAt"], format_rfc3339(now + 15min));
  EXPECT_EQ(j[0]["generatorURL"], "http://keeld:8080");
  EXPECT_EQ(body(r, make(true))[0]["endsAt"], format_rfc3339(now));
}

TEST_F(Receivers, EmailIsAPlainTextMessageWithoutHeaderInjection) {
  receiver_config r{.name = "mail",
                    .kind = receiver_kind::email,
                    .url = "smtp://127.0.0.1:25",
                    .from = "keel@example.com",
                    .to = {"ops@example.com"}};
  auto n = make();
  n.group_labels.set("service", "x\r\nBcc: victim@example.com");
  auto out = render(r, n, now).value();
  EXPECT_EQ(out.content_type, "message/rfc822");
  EXPECT_NE(out.body.find("Subject: [FIRING:1] HighErrorRate"), std::string::npos);
  EXPECT_NE(out.body.find("To: ops@example.com\r\n"), std::string::npos);
  EXPECT_NE(out.body.find("Date: Thu, 01 Jan 2026 00:00:00 +0000\r\n"), std::string::npos);
  EXPECT_EQ(out.body.find("\r\nBcc:"), std::string::npos);
}

TEST_F(Receivers, ConfigIsValidatedPerKind) {
  EXPECT_FALSE(
      validate(receiver_config{.name = "w", .kind = receiver_kind::webhook, .url = "ftp://x"}));
  EXPECT_FALSE(validate(receiver_config{.name = "p", .kind = receiver_kind::pagerduty}));
  EXPECT_FALSE(validate(receiver_config{
      .name = "e", .kind = receiver_kind::email, .url = "smtp://x", .from = "a@b"}));
  EXPECT_FALSE(
      validate(receiver_config{.name = "", .kind = receiver_kind::webhook, .url = "http://x"}));
  EXPECT_TRUE(
      validate(receiver_config{.name = "w", .kind = receiver_kind::webhook, .url = "https://x"}));
}

TEST(WebhookSignature, IsHmacSha256OfTimestampDotBody) {
  // RFC 4231 test case 2 checks the HMAC itself.
  EXPECT_EQ(internal::to_hex(internal::hmac_sha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  EXPECT_EQ(webhook_signature("k", "{}", 42),
            "t=42,v1=" + internal::to_hex(internal::hmac_sha256("k", "42.{}")));
}

}  // namespace
}  // namespace keel::alert
