// cors through the real server, as a browser would call it: preflights,
// actual requests, refusals from inner layers, and origins it must not
// answer.
#include "keel/http/cors.hpp"

#include <gtest/gtest.h>

#include "http_client.hpp"
#include "keel/http/bearer_auth.hpp"
#include "keel/http/error_boundary.hpp"
#include "keel/http/rate_limit.hpp"
#include "middleware_harness.hpp"

namespace keel::http {
namespace {

using testing::client;
using testing::http_reply;
using testing::middleware_harness;

constexpr std::string_view console = "https://console.example.com";

cors_options console_only() {
  return {.allowed_origins = {std::string(console), "http://127.0.0.1:8080"},
          .allowed_methods = {"GET", "POST", "DELETE"},
          .allowed_headers = {"Authorization", "Content-Type", "X-Request-ID"},
          .exposed_headers = {"Retry-After", "X-Request-ID"},
          .max_age = std::chrono::seconds(300)};
}

middleware_harness served(cors_options options, double rps = 1000, double burst = 1000) {
  return middleware_harness([&](const router&) -> std::vector<middleware_ptr> {
    return {std::make_shared<error_boundary>(), std::make_shared<cors>(std::move(options)),
            std::make_shared<rate_limit>(rate_limit_options{
                .requests_per_second = rps, .burst = burst, .tag_mask = route_tags::admin}),
            std::make_shared<bearer_auth>(bearer_auth_options{.token = "s3cret", .realm = "t"})};
  });
}

std::optional<http_reply> preflight(client& c, std::string_view path, std::string_view origin,
                                    std::string_view method, std::string_view headers = {}) {
  std::string req = "OPTIONS " + std::string(path) +
                    " HTTP/1.1\r\nHost: test\r\nOrigin: " + std::string(origin) +
                    "\r\nAccess-Control-Request-Method: " + std::string(method) + "\r\n";
  if (!headers.empty()) req += "Access-Control-Request-Headers: " + std::string(headers) + "\r\n";
  req += "\r\n";
  if (!c.send(req)) return std::nullopt;
  return c.read_reply();
}

bool has_cors_headers(const http_reply& r) {
  for (const auto& [name, value] : r.headers) {
    if (name.starts_with("Access-Control-")) return true;
  }
  return false;
}

TEST(Cors, AllowedPreflightIsAnsweredWithTheAllowLists) {
  auto h = served(console_only());
  client c(h.port());
  const auto r = preflight(c, "/items/7", console, "POST", "content-type, authorization");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 204);
  EXPECT_EQ(r->header("Access-Control-Allow-Origin"), std::string(console));
  EXPECT_EQ(r->header("Access-Control-Allow-Methods"), "GET, POST, DELETE");
  EXPECT_EQ(r->header("Access-Control-Allow-Headers"), "Authorization, Content-Type, X-Request-ID");
  EXPECT_EQ(r->header("Access-Control-Max-Age"), "300");
  EXPECT_FALSE(r->header("Access-Control-Allow-Credentials"));
  EXPECT_EQ(r->header("Vary"),
            "Origin, Access-Control-Request-Method, Access-Control-Request-Headers");
  // A preflight carries no credentials: an admin route's preflight passes
  // the bearer layer (the router answers it without the handler).
  const auto admin = preflight(c, "/admin", console, "GET", "Authorization");
  ASSERT_TRUE(admin);
  EXPECT_EQ(admin->status, 204);
  EXPECT_EQ(admin->header("Access-Control-Allow-Origin"), std::string(console));
}

TEST(Cors, PreflightAskingForMoreThanAllowedGetsNoCorsHeaders) {
  auto h = served(console_only());
  client c(h.port());
  const auto method = preflight(c, "/items/7", console, "PUT");
  ASSERT_TRUE(method);
  EXPECT_FALSE(has_cors_headers(*method));
  const auto header = preflight(c, "/items/7", console, "GET", "Authorization, X-Secret");
  ASSERT_TRUE(header);
  EXPECT_FALSE(has_cors_headers(*header));
  const auto lowercase_method = preflight(c, "/items/7", console, "post");  // methods are exact
  ASSERT_TRUE(lowercase_method);
  EXPECT_FALSE(has_cors_headers(*lowercase_method));
  const auto unknown_path = preflight(c, "/nowhere", console, "GET");
  ASSERT_TRUE(unknown_path);
  EXPECT_EQ(unknown_path->status, 404);
  EXPECT_FALSE(has_cors_headers(*unknown_path));
  EXPECT_EQ(unknown_path->header("Vary"),
            "Origin, Access-Control-Request-Method, Access-Control-Request-Headers");
}

TEST(Cors, OriginsAreComparedExactly) {
  auto h = served(console_only());
  client c(h.port());
  for (std::string_view origin :
       {"https://evil.example.com", "https://console.example.com.evil.example",
        "http://console.example.com", "https://CONSOLE.example.com",
        "https://console.example.com:443", "null", "http://127.0.0.1:8081", ""}) {
    const auto r = preflight(c, "/items/7", origin, "GET");
    ASSERT_TRUE(r) << origin;
    EXPECT_FALSE(has_cors_headers(*r)) << origin;
    const auto get = c.get("/items/7", "Origin: " + std::string(origin) + "\r\n");
    ASSERT_TRUE(get) << origin;
    EXPECT_EQ(get->status, 200);
    EXPECT_FALSE(has_cors_headers(*get)) << origin;  // served, but unreadable by that page
    EXPECT_EQ(get->header("Vary"), "Origin");
  }
  const auto local = preflight(c, "/items/7", "http://127.0.0.1:8080", "DELETE");
  ASSERT_TRUE(local);
  EXPECT_EQ(local->header("Access-Control-Allow-Origin"), "http://127.0.0.1:8080");
}

TEST(Cors, ActualRequestsAndTheirRefusalsAreReadableByTheAllowedPage) {
  auto h = served(console_only(), /*rps=*/1, /*burst=*/1);  // limits /admin
  client c(h.port());
  const std::string origin = "Origin: " + std::string(console) + "\r\n";
  const auto ok = c.get("/items/7", origin);
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
  EXPECT_EQ(ok->header("Access-Control-Allow-Origin"), std::string(console));
  EXPECT_EQ(ok->header("Access-Control-Expose-Headers"), "Retry-After, X-Request-ID");
  EXPECT_EQ(ok->header("Vary"), "Origin");
  EXPECT_FALSE(ok->header("Access-Control-Allow-Methods"));  // preflight only

  const auto unauthorised = c.get("/admin", origin);
  ASSERT_TRUE(unauthorised);
  EXPECT_EQ(unauthorised->status, 401);
  EXPECT_EQ(unauthorised->header("Access-Control-Allow-Origin"), std::string(console));

  const auto limited = c.get("/admin", origin);  // the burst of 1 is spent
  ASSERT_TRUE(limited);
  EXPECT_EQ(limited->status, 429);
  EXPECT_TRUE(limited->header("Retry-After"));
  EXPECT_EQ(limited->header("Access-Control-Allow-Origin"), std::string(console));
  EXPECT_EQ(limited->header("Access-Control-Expose-Headers"), "Retry-After, X-Request-ID");

  const auto no_origin = c.get("/health");  // curl, a server: nothing to add but Vary
  ASSERT_TRUE(no_origin);
  EXPECT_FALSE(has_cors_headers(*no_origin));
}

TEST(Cors, AnyOriginAnswersStarAndCredentialsAreSentOnlyWhenAsked) {
  {
    auto h = served({.allowed_origins = {"*"}});
    client c(h.port());
    const auto r = c.get("/items/7", "Origin: https://anywhere.example\r\n");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->header("Access-Control-Allow-Origin"), "*");
    EXPECT_FALSE(r->header("Access-Control-Allow-Credentials"));
    const auto p = preflight(c, "/items/7", "https://anywhere.example", "PATCH", "content-type");
    ASSERT_TRUE(p);
    EXPECT_EQ(p->header("Access-Control-Allow-Origin"), "*");
    EXPECT_EQ(p->header("Access-Control-Max-Age"), "600");
  }
  {
    auto options = console_only();
    options.allow_credentials = true;
    options.max_age = std::chrono::seconds(0);
    auto h = served(std::move(options));
    client c(h.port());
    const auto p = preflight(c, "/items/7", console, "GET");
    ASSERT_TRUE(p);
    EXPECT_EQ(p->header("Access-Control-Allow-Credentials"), "true");
    EXPECT_FALSE(p->header("Access-Control-Max-Age"));
  }
}

TEST(Cors, NoOriginsConfiguredAddsOnlyVary) {
  auto h = served({});
  client c(h.port());
  const auto p = preflight(c, "/items/7", console, "GET");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->status, 204);
  EXPECT_FALSE(has_cors_headers(*p));
}

TEST(Cors, RefusesAllowListsABrowserWouldNotMatchOrThatOpenTooMuch) {
  const auto refused = [](cors_options o) {
    try {
      cors layer(std::move(o));
    } catch (const keel::exception& e) {
      EXPECT_TRUE(e.error() == codes::configuration_error);
      return std::string(e.error().message());
    }
    return std::string();
  };
  for (std::string origin :
       {"https://console.example.com/", "https://console.example.com/app", "console.example.com",
        "https://Console.example.com", "https://user@console.example.com", "https://",
        "https://a.example:", "https://a.example:123456", "https://a.example:80:81", "[::1]",
        "http://[::1", "http://[zz]:80", "://a.example", "https://a.example?x"}) {
    const std::string why = refused({.allowed_origins = {origin}});
    EXPECT_NE(why.find("scheme://host[:port]"), std::string::npos) << origin;
    EXPECT_NE(why.find(origin), std::string::npos) << origin;  // names the entry
  }
  EXPECT_NE(refused({.allowed_origins = {"null"}}).find("anyone can send"), std::string::npos);
  EXPECT_NE(refused({.allowed_origins = {"*", std::string(console)}}).find("list none beside it"),
            std::string::npos);
  EXPECT_NE(
      refused({.allowed_origins = {"*"}, .allow_credentials = true}).find("allow_credentials"),
      std::string::npos);
  EXPECT_NE(refused({.allowed_methods = {"GET", "PO ST"}}).find("not a method name"),
            std::string::npos);
  EXPECT_NE(refused({.allowed_headers = {"*"}}).find("not a header name"), std::string::npos);
  EXPECT_NE(refused({.exposed_headers = {"Bad\r\nHeader"}}).find("not a header name"),
            std::string::npos);
  EXPECT_NE(refused({.max_age = std::chrono::seconds(-1)}).find("negative"), std::string::npos);
  // Accepted shapes.
  for (std::string origin : {"http://127.0.0.1:8080", "https://console.example.com",
                             "http://[::1]:3000", "http://[::1]", "app+x.y-z://host"}) {
    EXPECT_EQ(refused({.allowed_origins = {origin}}), "") << origin;
  }
  EXPECT_TRUE(cors({.allowed_origins = {"http://[::1]:3000"}}).allows_origin("http://[::1]:3000"));
  EXPECT_FALSE(cors({.allowed_origins = {"http://[::1]:3000"}}).allows_origin("http://[::1]"));
}

}  // namespace
}  // namespace keel::http
