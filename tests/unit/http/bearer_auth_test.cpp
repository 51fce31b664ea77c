// bearer_auth through the real server: only the tagged routes need the
// token, and the answers say nothing about it.
#include "keel/http/bearer_auth.hpp"

#include <gtest/gtest.h>

#include "http_client.hpp"
#include "keel/http/error_boundary.hpp"
#include "middleware_harness.hpp"

namespace keel::http {
namespace {

using testing::client;
using testing::middleware_harness;

middleware_harness guarded() {
  return middleware_harness([](const router&) -> std::vector<middleware_ptr> {
    return {std::make_shared<error_boundary>(), std::make_shared<bearer_auth>(bearer_auth_options{
                                                    .token = "s3cret-token", .realm = "test"})};
  });
}

std::string header_of(const testing::http_reply& r, std::string_view name) {
  for (const auto& [k, v] : r.headers) {
    if (iequals(k, name)) return v;
  }
  return {};
}

TEST(BearerAuth, UntaggedRoutesPassWithoutAToken) {
  auto h = guarded();
  client c(h.port());
  EXPECT_EQ(c.get("/health")->status, 200);
}

TEST(BearerAuth, MissingTokenIs401WithAChallenge) {
  auto h = guarded();
  client c(h.port());
  const auto r = c.get("/admin");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);
  EXPECT_EQ(header_of(*r, "WWW-Authenticate"), "Bearer realm=\"test\"");
  EXPECT_NE(header_of(*r, "Content-Type").find("problem+json"), std::string::npos);
  EXPECT_EQ(c.get("/admin", "Authorization: Basic czNjcmV0\r\n")->status, 401);
  EXPECT_EQ(c.get("/admin", "Authorization: Bearer \r\n")->status, 401);
}

TEST(BearerAuth, WrongTokenIs403AndSaysNothingOfTheRightOne) {
  auto h = guarded();
  client c(h.port());
  for (const char* guess : {"s3cret-toke", "s3cret-token2", "S3CRET-TOKEN", "x"}) {
    const auto r = c.get("/admin", std::string("Authorization: Bearer ") + guess + "\r\n");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 403) << guess;
    EXPECT_EQ(r->body.find("s3cret"), std::string::npos);
  }
}

TEST(BearerAuth, RightTokenPassesWhateverTheSchemeCase) {
  auto h = guarded();
  client c(h.port());
  EXPECT_EQ(c.get("/admin", "Authorization: Bearer s3cret-token\r\n")->status, 200);
  EXPECT_EQ(c.get("/admin", "Authorization: bearer s3cret-token\r\n")->status, 200);
}

TEST(BearerAuth, EmptyTokenIsAConfigurationError) {
  EXPECT_THROW(bearer_auth(bearer_auth_options{}), keel::exception);
  EXPECT_THROW(bearer_auth(bearer_auth_options{.token = "a\r\nb"}), keel::exception);
}

TEST(ConstantTimeEqual, ComparesWholeValues) {
  EXPECT_TRUE(constant_time_equal("abc", "abc"));
  EXPECT_FALSE(constant_time_equal("abd", "abc"));
  EXPECT_FALSE(constant_time_equal("ab", "abc"));
  EXPECT_FALSE(constant_time_equal("abcd", "abc"));
  EXPECT_FALSE(constant_time_equal("", "abc"));
}

}  // namespace
}  // namespace keel::http
