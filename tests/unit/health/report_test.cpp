// Aggregation rules and the application/health+json rendering.
#include "keel/health/report.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace keel::health {
namespace {

check_report make(std::string name, check_status s, bool critical = true) {
  check_report r;
  r.name = std::move(name);
  r.status = s;
  r.critical = critical;
  return r;
}

TEST(Aggregate, AllPassingIsHealthy) {
  EXPECT_EQ(aggregate({make("a", check_status::pass), make("b", check_status::pass)}),
            health_status::healthy);
  EXPECT_EQ(aggregate({}), health_status::healthy);
}

TEST(Aggregate, CriticalFailureIsUnhealthy) {
  EXPECT_EQ(aggregate({make("a", check_status::pass), make("b", check_status::fail, true)}),
            health_status::unhealthy);
}

TEST(Aggregate, NonCriticalFailureIsDegraded) {
  EXPECT_EQ(aggregate({make("a", check_status::pass), make("b", check_status::fail, false)}),
            health_status::degraded);
}

TEST(Aggregate, WarningIsDegradedEvenWhenCritical) {
  EXPECT_EQ(aggregate({make("a", check_status::warn, true)}), health_status::degraded);
}

TEST(Aggregate, CriticalFailureWinsOverWarnings) {
  EXPECT_EQ(aggregate({make("a", check_status::warn), make("b", check_status::fail, false),
                       make("c", check_status::fail, true)}),
            health_status::unhealthy);
}

TEST(Report, OnlyUnhealthyMapsTo503) {
  report r;
  r.status = health_status::healthy;
  EXPECT_EQ(r.http_status(), 200);
  r.status = health_status::degraded;
  EXPECT_EQ(r.http_status(), 200);
  r.status = health_status::unhealthy;
  EXPECT_EQ(r.http_status(), 503);
}

TEST(Report, StatusWordsAreTheSeedsAndTheDrafts) {
  EXPECT_EQ(to_string(health_status::healthy), "healthy");
  EXPECT_EQ(to_string(health_status::degraded), "degraded");
  EXPECT_EQ(to_string(health_status::unhealthy), "unhealthy");
  EXPECT_EQ(to_draft_status(health_status::healthy), "pass");
  EXPECT_EQ(to_draft_status(health_status::degraded), "warn");
  EXPECT_EQ(to_draft_status(health_status::unhealthy), "fail");
}

TEST(HealthJson, RendersTopLevelAndChecksKeyedByComponentAndMeasurement) {
  report r;
  r.status = health_status::degraded;
  r.output = "degraded: cache";
  check_report db = make("db", check_status::pass);
  db.measurement = "responseTime";
  db.component_type = "datastore";
  db.component_id = "primary";
  db.observed_value = 1.5;
  db.observed_unit = "ms";
  db.duration = std::chrono::microseconds(2500);
  db.time = std::chrono::system_clock::time_point(std::chrono::seconds(1'700'000'000));
  check_report cache = make("cache", check_status::fail, false);
  cache.output = "connection refused";
  r.checks = {db, cache};

  auto j = nlohmann::json::parse(r.to_health_json(
      {.service_id = "keeld", .version = "1", .release_id = "1.2.0", .description = "monitoring"}));
  EXPECT_EQ(j["status"], "warn");
  EXPECT_EQ(j["serviceId"], "keeld");
  EXPECT_EQ(j["version"], "1");
  EXPECT_EQ(j["releaseId"], "1.2.0");
  EXPECT_EQ(j["description"], "monitoring");
  EXPECT_EQ(j["output"], "degraded: cache");
  const auto& d = j["checks"]["db:responseTime"];
  ASSERT_TRUE(d.is_array());
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0]["status"], "pass");
  EXPECT_EQ(d[0]["componentType"], "datastore");
  EXPECT_EQ(d[0]["componentId"], "primary");
  EXPECT_EQ(d[0]["observedValue"], 1.5);
  EXPECT_EQ(d[0]["observedUnit"], "ms");
  EXPECT_EQ(d[0]["time"], "2023-11-14T22:13:20.000000Z");
  EXPECT_EQ(d[0]["durationMs"], 2.5);
  EXPECT_EQ(d[0]["critical"], true);
  EXPECT_FALSE(d[0].contains("output"));
  const auto& c = j["checks"]["cache"][0];
  EXPECT_EQ(c["status"], "fail");
  EXPECT_EQ(c["output"], "connection refused");
  EXPECT_EQ(c["critical"], false);
}

TEST(HealthJson, HealthyReportHasNoOutputAndEmptyChecks) {
  report r;
  auto j = nlohmann::json::parse(r.to_health_json());
  EXPECT_EQ(j["status"], "pass");
  EXPECT_FALSE(j.contains("output"));
  EXPECT_TRUE(j["checks"].is_object());
  EXPECT_TRUE(j["checks"].empty());
}

TEST(HealthJson, OutputIsRedacted) {
  report r;
  r.status = health_status::unhealthy;
  check_report c = make("db", check_status::fail);
  c.output = "cannot connect: postgres://app:password=hunter2@db/x token=abc123";
  r.checks = {c};
  const std::string body = r.to_health_json();
  EXPECT_EQ(body.find("hunter2"), std::string::npos) << body;
  EXPECT_EQ(body.find("abc123"), std::string::npos) << body;
  EXPECT_NE(body.find("[REDACTED]"), std::string::npos);
}

TEST(HealthJson, HostileOutputStaysValidJson) {
  report r;
  check_report c = make("x", check_status::fail);
  c.output = "quote\" backslash\\ newline\n nul\x01 bad\xff utf8";
  r.checks = {c};
  const std::string body = r.to_health_json();
  EXPECT_TRUE(nlohmann::json::accept(body)) << body;
}

}  // namespace
}  // namespace keel::health
