// http_metrics through the real server (loopback, manual clock), read back
// from the registry's Prometheus text exposition.
#include "keel/http/http_metrics.hpp"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "http_client.hpp"
#include "keel/http/error_boundary.hpp"
#include "keel/http/request_context_middleware.hpp"
#include "keel/metrics/exposition.hpp"
#include "middleware_harness.hpp"

namespace keel::http {
namespace {

using testing::client;
using testing::middleware_harness;

// The value of the sample line starting with `series` (name{labels}), or -1.
double sample(const std::string& text, const std::string& series) {
  const std::string needle = "\n" + series + " ";
  const std::string body = "\n" + text;
  const auto at = body.find(needle);
  if (at == std::string::npos) return -1;
  return std::stod(body.substr(at + needle.size()));
}

struct metrics_fixture {
  metrics::registry registry;
  std::shared_ptr<http_metrics> layer;
  std::unique_ptr<middleware_harness> h;

  explicit metrics_fixture(unsigned io_threads = 1) {
    h = std::make_unique<middleware_harness>(
        [this](const router& routes) -> std::vector<middleware_ptr> {
          layer = http_metrics::create(registry, routes).value();
          return {std::make_shared<request_context_middleware>(), layer,
                  std::make_shared<error_boundary>()};
        },
        io_threads);
  }
  std::string text() const { return metrics::expose(registry); }
};

TEST(HttpMetrics, CountsRequestsByMethodRoutePatternAndStatus) {
  metrics_fixture f;
  client c(f.h->port());
  ASSERT_EQ(c.get("/items/1")->status, 200);
  ASSERT_EQ(c.get("/items/2")->status, 200);
  ASSERT_EQ(c.get("/conflict")->status, 409);
  const std::string t = f.text();
  EXPECT_EQ(sample(t, R"(http_requests_total{method="GET",route="/items/{id}",status="200"})"), 2);
  EXPECT_EQ(sample(t, R"(http_requests_total{method="GET",route="/conflict",status="409"})"), 1);
  EXPECT_EQ(t.find("/items/1"), std::string::npos);  // never the raw path
}

TEST(HttpMetrics, UnmatchedPathsShareTheUnmatchedRouteLabel) {
  metrics_fixture f;
  client c(f.h->port());
  ASSERT_EQ(c.get("/nope/a")->status, 404);
  ASSERT_EQ(c.get("/nope/b")->status, 404);
  const std::string t = f.text();
  EXPECT_EQ(sample(t, R"(http_requests_total{method="GET",route="unmatched",status="404"})"), 2);
  EXPECT_EQ(sample(t, R"(http_request_duration_seconds_count{route="unmatched"})"), 2);
  EXPECT_EQ(t.find("/nope"), std::string::npos);
}

TEST(HttpMetrics, MethodNotAllowedKeepsThePatternAndUnknownMethodsAreOther) {
  metrics_fixture f;
  client c(f.h->port());
  ASSERT_TRUE(c.send("DELETE /items/1 HTTP/1.1\r\nHost: t\r\n\r\n"));
  ASSERT_EQ(c.read_reply()->status, 405);
  ASSERT_TRUE(c.send("BREW /items/1 HTTP/1.1\r\nHost: t\r\n\r\n"));
  ASSERT_EQ(c.read_reply()->status, 405);
  const std::string t = f.text();
  EXPECT_EQ(sample(t, R"(http_requests_total{method="DELETE",route="/items/{id}",status="405"})"),
            1);
  EXPECT_EQ(sample(t, R"(http_requests_total{method="OTHER",route="/items/{id}",status="405"})"),
            1);
  EXPECT_EQ(t.find("BREW"), std::string::npos);
}

TEST(HttpMetrics, ObservesDurationOnTheServersClock) {
  metrics_fixture f;
  client c(f.h->port());
  ASSERT_EQ(c.get("/slow")->status, 200);  // the handler advances the clock 250 ms
  const std::string t = f.text();
  EXPECT_EQ(sample(t, R"(http_request_duration_seconds_bucket{route="/slow",le="0.1"})"), 0);
  EXPECT_EQ(sample(t, R"(http_request_duration_seconds_bucket{route="/slow",le="0.25"})"), 1);
  EXPECT_EQ(sample(t, R"(http_request_duration_seconds_bucket{route="/slow",le="+Inf"})"), 1);
  EXPECT_DOUBLE_EQ(sample(t, R"(http_request_duration_seconds_sum{route="/slow"})"), 0.25);
}

TEST(HttpMetrics, EveryPatternHasItsDurationSeriesFromTheStart) {
  metrics_fixture f;
  const std::string t = f.text();
  EXPECT_EQ(sample(t, R"(http_request_duration_seconds_count{route="/health"})"), 0);
  EXPECT_EQ(sample(t, R"(http_request_duration_seconds_count{route="/status/{code}"})"), 0);
  EXPECT_EQ(sample(t, "http_requests_in_flight"), 0);
}

TEST(HttpMetrics, InFlightGaugeCountsTheRequestBeingServed) {
  metrics_fixture f;
  double inside = -1;
  f.h->probe = [&](response&) { inside = sample(f.text(), "http_requests_in_flight"); };
  client c(f.h->port());
  ASSERT_EQ(c.get("/probe")->status, 200);
  EXPECT_EQ(inside, 1);
  EXPECT_EQ(sample(f.text(), "http_requests_in_flight"), 0);
}

TEST(HttpMetrics, SteadyStateUsesThePerRouteTableOnly) {
  metrics_fixture f;
  client c(f.h->port());
  for (int i = 0; i < 50; ++i) {
    ASSERT_EQ(c.get("/items/" + std::to_string(i))->status, 200);
    ASSERT_EQ(c.get("/nope")->status, 404);
  }
  EXPECT_EQ(f.layer->slow_lookups(), 0u);
  const std::string t = f.text();
  EXPECT_EQ(sample(t, R"(http_requests_total{method="GET",route="/items/{id}",status="200"})"), 50);
  EXPECT_EQ(sample(t, R"(http_requests_total{method="GET",route="unmatched",status="404"})"), 50);
}

TEST(HttpMetrics, MoreStatusesThanTableSlotsAreStillCountedExactly) {
  metrics_fixture f;
  client c(f.h->port());
  // 40 distinct statuses on one route: more than the 32 table slots.
  for (int round = 0; round < 2; ++round) {
    for (int s = 200; s < 240; ++s)
      ASSERT_EQ(c.get("/status/" + std::to_string(s))->status, s);
  }
  EXPECT_GT(f.layer->slow_lookups(), 0u);
  const std::string t = f.text();
  for (int s = 200; s < 240; ++s) {
    EXPECT_EQ(sample(t, R"(http_requests_total{method="GET",route="/status/{code}",status=")" +
                            std::to_string(s) + "\"}"),
              2)
        << s;
  }
}

TEST(HttpMetrics, OutOfRangeStatusIsCountedAsThe500TheServerSends) {
  metrics_fixture f;
  client c(f.h->port());
  ASSERT_EQ(c.get("/status/42")->status, 500);
  EXPECT_EQ(
      sample(f.text(), R"(http_requests_total{method="GET",route="/status/{code}",status="500"})"),
      1);
}

TEST(HttpMetrics, ARouterOtherThanTheOneGivenToCreateStillCountsByPattern) {
  metrics::registry registry;
  std::shared_ptr<http_metrics> layer;
  middleware_harness h([&](const router&) -> std::vector<middleware_ptr> {
    router other;  // different patterns, so the route indexes disagree
    other.get("/x", [](request&, response&) {});
    layer = http_metrics::create(registry, other).value();
    return {layer, std::make_shared<error_boundary>()};
  });
  client c(h.port());
  ASSERT_EQ(c.get("/items/5")->status, 200);
  ASSERT_EQ(c.get("/items/6")->status, 200);
  EXPECT_GT(layer->slow_lookups(), 0u);
  const std::string t = metrics::expose(registry);
  EXPECT_EQ(sample(t, R"(http_requests_total{method="GET",route="/items/{id}",status="200"})"), 2);
  EXPECT_EQ(sample(t, R"(http_request_duration_seconds_count{route="/items/{id}"})"), 2);
}

TEST(HttpMetrics, CreateFailsWhenANameIsTakenWithOtherLabels) {
  metrics::registry reg;
  ASSERT_TRUE(reg.add_counter({.name = "http_requests_total", .help = "x", .labels = {"code"}}));
  router r;
  r.get("/a", [](request&, response&) {});
  auto m = http_metrics::create(reg, r);
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().code(), codes::conflict);
}

TEST(HttpMetrics, ConcurrentClientsOnTwoIoThreadsAreAllCounted) {
  metrics_fixture f(2);
  constexpr int clients = 4;
  constexpr int per_client = 100;
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < clients; ++t) {
    threads.emplace_back([&, t] {
      client c(f.h->port());
      for (int i = 0; i < per_client; ++i) {
        auto r = c.get(i % 2 == 0 ? "/items/" + std::to_string(t) : std::string("/status/201"));
        if (r && (r->status == 200 || r->status == 201)) ok.fetch_add(1);
      }
    });
  }
  for (auto& th : threads)
    th.join();
  ASSERT_EQ(ok.load(), clients * per_client);
  const std::string t = f.text();
  EXPECT_EQ(sample(t, R"(http_requests_total{method="GET",route="/items/{id}",status="200"})"),
            clients * per_client / 2);
  EXPECT_EQ(sample(t, R"(http_requests_total{method="GET",route="/status/{code}",status="201"})"),
            clients * per_client / 2);
  EXPECT_EQ(sample(t, "http_requests_in_flight"), 0);
}

}  // namespace
}  // namespace keel::http
