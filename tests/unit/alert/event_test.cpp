#include "keel/alert/event.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "keel/core/rfc3339.hpp"

namespace keel::alert {
namespace {

using namespace std::chrono_literals;

const auto kNow = std::chrono::system_clock::time_point(std::chrono::seconds(1'767'225'600));

error_event valid_event() {
  return error_event{.service = "checkout",
                     .code = "DATABASE_ERROR",
                     .message = "insert into orders failed",
                     .timestamp = kNow};
}

bool has_field_error(const keel::error& e, std::string_view field) {
  for (const auto& p : e.details().at("errors")) {
    if (p.at("field") == field) return true;
  }
  return false;
}

TEST(ErrorEvent, ValidEventPasses) { EXPECT_TRUE(validate(valid_event()).has_value()); }

TEST(ErrorEvent, MissingRequiredFieldsAreEachReported) {
  error_event e;
  auto r = validate(e);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), codes::field_validation_error);
  EXPECT_TRUE(has_field_error(r.error(), "service"));
  EXPECT_TRUE(has_field_error(r.error(), "code"));
  EXPECT_TRUE(has_field_error(r.error(), "message"));
  EXPECT_TRUE(has_field_error(r.error(), "timestamp"));
}

TEST(ErrorEvent, OversizedMessageIsRejected) {
  auto e = valid_event();
  e.message = std::string(9000, 'x');
  auto r = validate(e);
  ASSERT_FALSE(r);
  EXPECT_TRUE(has_field_error(r.error(), "message"));
}

TEST(ErrorEvent, OversizedDetailsAreRejected) {
  auto e = valid_event();
  e.details["blob"] = std::string(20000, 'x');
  auto r = validate(e);
  ASSERT_FALSE(r);
  EXPECT_TRUE(has_field_error(r.error(), "details"));
}

TEST(ErrorEvent, TooManyFramesAreRejected) {
  auto e = valid_event();
  e.frames.resize(65);
  auto r = validate(e);
  ASSERT_FALSE(r);
  EXPECT_TRUE(has_field_error(r.error(), "frames"));
}

TEST(ErrorEvent, CodeMustBeScreamingSnake) {
  auto e = valid_event();
  e.code = "database error";
  auto r = validate(e);
  ASSERT_FALSE(r);
  EXPECT_TRUE(has_field_error(r.error(), "code"));
}

TEST(ErrorEvent, TraceIdsMustBeLowercaseHexOfTheRightLength) {
  auto e = valid_event();
  e.trace_id = "ABC";
  e.span_id = "0123456789abcdeg";
  auto r = validate(e);
  ASSERT_FALSE(r);
  EXPECT_TRUE(has_field_error(r.error(), "trace_id"));
  EXPECT_TRUE(has_field_error(r.error(), "span_id"));
}

TEST(ErrorEvent, InvalidUtf8IsRejected) {
  auto e = valid_event();
  e.message = "bad \xff byte";
  EXPECT_FALSE(validate(e));
}

TEST(ErrorEvent, FromJsonTakesCategoryAndSeverityFromARegisteredCode) {
  auto r = event_from_json(R"({"service":"api","code":"TIMEOUT","message":"upstream slow"})", kNow);
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(r->category, category::transient);
  EXPECT_EQ(r->severity, severity::medium);
  EXPECT_EQ(r->timestamp, kNow);
}

TEST(ErrorEvent, FromJsonReadsEveryField) {
  auto r = event_from_json(R"({"service":"api","environment":"prod","release":"1.2.3",
      "code":"APP_FAILURE","category":"systemic","severity":"critical","message":"m",
      "details":{"k":1},"request_id":"req-1","trace_id":"0123456789abcdef0123456789abcdef",
      "span_id":"0123456789abcdef","frames":[{"function":"f","file":"a.cpp","line":7,"in_app":false}],
      "fingerprint":"custom","timestamp":"2026-01-01T00:00:05Z"})",
                           kNow);
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(r->environment, "prod");
  EXPECT_EQ(r->category, category::systemic);
  EXPECT_EQ(r->severity, severity::critical);
  ASSERT_EQ(r->frames.size(), 1u);
  EXPECT_EQ(r->frames[0].line, 7u);
  EXPECT_FALSE(r->frames[0].in_app);
  EXPECT_EQ(r->timestamp, kNow + 5s);
  EXPECT_EQ(r->fingerprint, "custom");
  // The JSON shape round-trips.
  auto again = event_from_json(to_json(*r).dump(), kNow);
  ASSERT_TRUE(again);
  EXPECT_EQ(to_json(*again), to_json(*r));
}

TEST(ErrorEvent, FromJsonRejectsWrongTypesAndGarbage) {
  EXPECT_EQ(event_from_json("not json", kNow).error(), codes::validation_error);
  EXPECT_EQ(event_from_json("[1,2]", kNow).error(), codes::validation_error);
  auto r = event_from_json(R"({"service":1,"code":"X","message":"m","severity":"huge"})", kNow);
  ASSERT_FALSE(r);
  EXPECT_TRUE(has_field_error(r.error(), "service"));
  EXPECT_TRUE(has_field_error(r.error(), "severity"));
}

TEST(ErrorEvent, FromJsonRejectsOversizedInputBeforeParsing) {
  std::string big = R"({"service":"a","code":"X","message":")" + std::string(70000, 'x') + "\"}";
  EXPECT_EQ(event_from_json(big, kNow).error(), codes::payload_too_large);
}

TEST(EventsFromJson, OneObjectAnArrayOrAnEventsMemberAreTheSameBatch) {
  const auto one = nlohmann::ordered_json::parse(
      R"({"service":"api","code":"TIMEOUT","message":"upstream slow"})");
  ASSERT_EQ(events_from_json(one, kNow).value().size(), 1u);
  ASSERT_EQ(events_from_json(nlohmann::ordered_json::array({one, one}), kNow).value().size(), 2u);
  const nlohmann::ordered_json wrapped{{"events", {one, one, one}}};
  const auto events = events_from_json(wrapped, kNow).value();
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[2].message, "upstream slow");
  EXPECT_EQ(events[2].timestamp, kNow);
}

TEST(EventsFromJson, EveryBadFieldOfEveryEventIsListedWithItsIndex) {
  const auto body = nlohmann::ordered_json::parse(R"([
    {"service":"api","code":"TIMEOUT","message":"fine"},
    {"service":1,"code":"X","message":"m","severity":"huge"},
    "not an event"])");
  auto r = events_from_json(body, kNow);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), codes::field_validation_error);
  const auto& errors = r.error().details().at("errors");
  std::vector<std::pair<std::size_t, std::string>> seen;
  for (const auto& e : errors)
    seen.emplace_back(e.at("index").get<std::size_t>(), e.value("field", ""));
  EXPECT_NE(std::find(seen.begin(), seen.end(), std::pair<std::size_t, std::string>{1, "service"}),
            seen.end());
  EXPECT_NE(std::find(seen.begin(), seen.end(), std::pair<std::size_t, std::string>{1, "severity"}),
            seen.end());
  EXPECT_NE(std::find_if(seen.begin(), seen.end(), [](const auto& p) { return p.first == 2; }),
            seen.end());
  EXPECT_EQ(std::find_if(seen.begin(), seen.end(), [](const auto& p) { return p.first == 0; }),
            seen.end());
}

TEST(EventsFromJson, BatchSizeAndShapeAreBounded) {
  const auto one = nlohmann::ordered_json::parse(R"({"service":"a","code":"X","message":"m"})");
  EXPECT_EQ(events_from_json(nlohmann::ordered_json::array(), kNow).error(),
            codes::validation_error);
  nlohmann::ordered_json big = nlohmann::ordered_json::array();
  for (int i = 0; i < 4; ++i)
    big.push_back(one);
  EXPECT_EQ(events_from_json(big, kNow, {}, 3).error(), codes::validation_error);
  EXPECT_EQ(events_from_json(nlohmann::ordered_json(42), kNow).error(), codes::validation_error);
  EXPECT_EQ(events_from_json(nlohmann::ordered_json{{"events", "x"}}, kNow).error(),
            codes::validation_error);
}

}  // namespace
}  // namespace keel::alert
