#include "keel/http/router.hpp"

#include <gtest/gtest.h>

#include "keel/core/error.hpp"

namespace keel::http {

// The router fills a request through its private members; tests reach them
// through this friend-free helper that uses the public parse path instead.
class router_test_access {
 public:
  static void set(request& r, method m, std::string_view path) {
    r.verb_ = m;
    r.path_ = path;
    r.target_ = path;
    r.decoded_.clear();
    r.decoded_.reserve(path.size());
  }
};

namespace {

void noop(request&, response&) {}

struct routed {
  match m;
  request req;
};

TEST(Router, MatchesLiteralPath) {
  router r;
  r.get("/health", noop);
  request req;
  router_test_access::set(req, method::get, "/health");
  const match m = r.find(req);
  EXPECT_EQ(m.outcome, match::kind::found);
  ASSERT_NE(m.matched, nullptr);
  EXPECT_EQ(m.matched->pattern, "/health");
  EXPECT_EQ(req.route(), "/health");
}

TEST(Router, CapturesPathParameters) {
  router r;
  r.get("/api/v1/issues/{id}/events/{event}", noop);
  request req;
  router_test_access::set(req, method::get, "/api/v1/issues/42/events/e-7");
  ASSERT_EQ(r.find(req).outcome, match::kind::found);
  EXPECT_EQ(req.param("id"), "42");
  EXPECT_EQ(req.param("event"), "e-7");
  EXPECT_EQ(req.param("missing"), std::nullopt);
  EXPECT_EQ(req.route(), "/api/v1/issues/{id}/events/{event}");
}

TEST(Router, DecodesPercentEncodedParameters) {
  router r;
  r.get("/loggers/{name}", noop);
  request req;
  router_test_access::set(req, method::get, "/loggers/a%20b%2Fc");
  ASSERT_EQ(r.find(req).outcome, match::kind::found);
  EXPECT_EQ(req.param("name"), "a b/c");
}

TEST(Router, MalformedEscapeIsBadPath) {
  router r;
  r.get("/loggers/{name}", noop);
  request req;
  router_test_access::set(req, method::get, "/loggers/a%2");
  EXPECT_EQ(r.find(req).outcome, match::kind::bad_path);
}

TEST(Router, LiteralWinsOverParameterWithBacktracking) {
  router r;
  r.get("/issues/stats", noop);
  r.get("/issues/{id}", noop);
  r.get("/issues/{id}/events", noop);
  request a;
  router_test_access::set(a, method::get, "/issues/stats");
  EXPECT_EQ(r.find(a).matched->pattern, "/issues/stats");
  request b;
  router_test_access::set(b, method::get, "/issues/7");
  EXPECT_EQ(r.find(b).matched->pattern, "/issues/{id}");
  request c;  // "stats" taken literally first, then backtracks to {id}
  router_test_access::set(c, method::get, "/issues/stats/events");
  const match m = r.find(c);
  ASSERT_EQ(m.outcome, match::kind::found);
  EXPECT_EQ(m.matched->pattern, "/issues/{id}/events");
  EXPECT_EQ(c.param("id"), "stats");
}

TEST(Router, UnknownPathIsNotFound) {
  router r;
  r.get("/a/{x}", noop);
  for (std::string_view p : {"/b", "/a", "/a/", "/a/1/2", "/a//"}) {
    request req;
    router_test_access::set(req, method::get, p);
    EXPECT_EQ(r.find(req).outcome, match::kind::not_found) << p;
  }
}

TEST(Router, WrongMethodIsMethodNotAllowedWithAllowedSet) {
  router r;
  r.get("/items", noop);
  r.post("/items", noop);
  request req;
  router_test_access::set(req, method::delete_, "/items");
  const match m = r.find(req);
  EXPECT_EQ(m.outcome, match::kind::method_not_allowed);
  EXPECT_EQ(router::allow_header(m.allowed), "GET, HEAD, POST, OPTIONS");
}

TEST(Router, HeadFallsBackToGet) {
  router r;
  r.get("/items", noop);
  request req;
  router_test_access::set(req, method::head, "/items");
  const match m = r.find(req);
  ASSERT_EQ(m.outcome, match::kind::found);
  EXPECT_EQ(m.matched->verb, method::get);
}

TEST(Router, OptionsWithoutHandlerReportsAllowedMethods) {
  router r;
  r.put("/items/{id}", noop);
  request req;
  router_test_access::set(req, method::options, "/items/1");
  const match m = r.find(req);
  EXPECT_EQ(m.outcome, match::kind::options);
  EXPECT_EQ(router::allow_header(m.allowed), "PUT, OPTIONS");
}

TEST(Router, RejectsDuplicateAndMalformedPatterns) {
  router r;
  r.get("/a/{id}", noop);
  EXPECT_THROW(r.get("/a/{id}", noop), keel::exception);
  EXPECT_THROW(r.get("/a/{other}", noop), keel::exception);  // one name per position
  EXPECT_THROW(r.get("no-slash", noop), keel::exception);
  EXPECT_THROW(r.get("/a//b", noop), keel::exception);
  EXPECT_THROW(r.get("/a/{", noop), keel::exception);
  EXPECT_THROW(r.get("/x/{id}/{id}", noop), keel::exception);
  EXPECT_NO_THROW(r.post("/a/{id}", noop));
}

TEST(Router, CarriesRouteTags) {
  router r;
  r.get("/api/v1/events", noop, {.tags = route_tags::public_api});
  request req;
  router_test_access::set(req, method::get, "/api/v1/events");
  EXPECT_EQ(r.find(req).matched->tags, route_tags::public_api);
}

TEST(Router, AcceptsEveryHandlerForm) {
  router r;
  r.get("/void", [](request&, response&) {});
  r.get("/result", [](request&, response&) -> result<void> { return {}; });
  r.get("/task", [](request&, response&) -> task<void> { co_return; });
  r.get("/task-result",
        [](request&, response&) -> task<result<void>> { co_return result<void>{}; });
  request req;
  router_test_access::set(req, method::get, "/task-result");
  const match m = r.find(req);
  ASSERT_EQ(m.outcome, match::kind::found);
  EXPECT_TRUE(std::holds_alternative<async_result_handler>(m.matched->handler));
}

}  // namespace
}  // namespace keel::http

namespace keel::http {
namespace {

TEST(Router, RouteIndexNamesTheMatchedPatternAlsoFor405) {
  router r;
  r.get("/a", noop);
  r.get("/items/{id}", noop);
  r.post("/items/{id}", noop);  // same pattern: no new index
  r.get("/b", noop);
  ASSERT_EQ(r.pattern_count(), 3u);
  EXPECT_EQ(r.pattern(0), "/a");
  EXPECT_EQ(r.pattern(1), "/items/{id}");
  EXPECT_EQ(r.pattern(2), "/b");

  request req;
  router_test_access::set(req, method::post, "/items/9");
  ASSERT_EQ(r.find(req).outcome, match::kind::found);
  EXPECT_EQ(req.route_index(), 1u);
  router_test_access::set(req, method::delete_, "/b");
  ASSERT_EQ(r.find(req).outcome, match::kind::method_not_allowed);
  EXPECT_EQ(req.route_index(), 2u);
  router_test_access::set(req, method::get, "/nope");
  ASSERT_EQ(r.find(req).outcome, match::kind::not_found);
  EXPECT_EQ(req.route_index(), request::no_route);
}

}  // namespace
}  // namespace keel::http
