#include "keel/alert/event.hpp"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace keel::alert
