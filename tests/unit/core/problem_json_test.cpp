#include "keel/core/problem_json.hpp"

#include <gtest/gtest.h>

#include "keel/core/context.hpp"

namespace keel {
namespace {

using json = nlohmann::ordered_json;

error leaky_error() {
  return error(codes::database_error,
               "INSERT INTO users VALUES ('bob','pw') failed at /srv/app/db.cpp: password=hunter2")
      .with_detail("table", "users")
      .with_detail("api_key", "sk_live_123")
      .with_cause(error(codes::timeout, "socket /var/run/pg.sock timed out"));
}

TEST(ProblemJson, ProductionHasTheRfc9457MembersAndExtensions) {
  auto body = render_problem(leaky_error(), {}, "/api/v1/users", "req-1");
  auto j = json::parse(body);
  EXPECT_EQ(j["type"], "urn:keel:problem:database-error");
  EXPECT_EQ(j["title"], "Database error");
  EXPECT_EQ(j["status"], 500);
  EXPECT_EQ(j["detail"], codes::database_error.public_message);
  EXPECT_EQ(j["instance"], "/api/v1/users");
  EXPECT_EQ(j["code"], "DATABASE_ERROR");
  EXPECT_EQ(j["request_id"], "req-1");
  EXPECT_EQ(j["retryable"], true);
  EXPECT_TRUE(j["timestamp"].get<std::string>().ends_with("Z"));
  EXPECT_EQ(j["timestamp"].get<std::string>().size(), 27u);
  EXPECT_EQ(j["details"]["table"], "users");
}

TEST(ProblemJson, ProductionNeverLeaksInternals) {
  auto body = render_problem(leaky_error(), {.mode = render_mode::production});
  for (const char* secret : {"INSERT", "/srv/app", "hunter2", "pg.sock", "TIMEOUT", "sk_live_123",
                             "problem_json_test", "internal_message", "causes", "where"}) {
    EXPECT_EQ(body.find(secret), std::string::npos) << secret << " leaked: " << body;
  }
}

TEST(ProblemJson, DevelopmentAddsRedactedInternals) {
  auto j = json::parse(render_problem(leaky_error(), {.mode = render_mode::development}));
  const auto msg = j["internal_message"].get<std::string>();
  EXPECT_NE(msg.find("INSERT INTO users"), std::string::npos);
  EXPECT_EQ(msg.find("hunter2"), std::string::npos);
  EXPECT_NE(msg.find("password=[REDACTED]"), std::string::npos);
  EXPECT_NE(j["where"].get<std::string>().find("problem_json_test.cpp:"), std::string::npos);
  ASSERT_EQ(j["causes"].size(), 1u);
  EXPECT_EQ(j["causes"][0]["code"], "TIMEOUT");
  EXPECT_EQ(j["details"]["api_key"], "[REDACTED]");
}

TEST(ProblemJson, TakesTheRequestIdFromTheCurrentContext) {
  context_scope scope({.request_id = *request_id::parse("ctx-id-7")});
  auto j = json::parse(render_problem(error(codes::resource_not_found)));
  EXPECT_EQ(j["request_id"], "ctx-id-7");
  EXPECT_FALSE(j.contains("instance"));
}

TEST(ProblemJson, TypeBaseIsConfigurable) {
  auto j = json::parse(
      render_problem(error(codes::rate_limited).with_retry_after(std::chrono::seconds(2)),
                     {.type_base = "https://errors.example/"}));
  EXPECT_EQ(j["type"], "https://errors.example/rate-limited");
  EXPECT_EQ(j["status"], 429);
  EXPECT_EQ(j["retry_after_ms"], 2000);
}

TEST(ProblemJson, InvalidUtf8InInputStillRendersValidJson) {
  auto e = error(codes::validation_error, "bad \xff\xfe bytes").with_detail("raw", "x");
  auto body = render_problem(e, {.mode = render_mode::development}, "/p\xc3(ath");
  EXPECT_TRUE(json::accept(body));
}

TEST(CodeToKebab, Converts) {
  EXPECT_EQ(code_to_kebab("RESOURCE_NOT_FOUND"), "resource-not-found");
  EXPECT_EQ(code_to_kebab("E2E"), "e2e");
}

}  // namespace
}  // namespace keel
