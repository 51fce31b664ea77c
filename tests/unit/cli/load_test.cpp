#include "load/engine.hpp"

#include <gtest/gtest.h>

#include "keel/core/ids.hpp"
#include "load/report.hpp"
#include "test_http_server.hpp"

namespace keel::cli::load {
namespace {

using keel::cli::testing::test_http_server;
using namespace std::chrono_literals;

load_report run_ok(const scenario& s, const load_options& o) {
  std::atomic<bool> stop{false};
  auto r = run_load(s, o, stop);
  EXPECT_TRUE(r) << (r ? "" : r.error().message());
  return r ? *r : load_report{};
}

TEST(LoadEngine, SendsExactlyTheRequestCountWithFreshIds) {
  test_http_server srv;
  const auto s = scenario_from_urls({srv.url("/health")}).value();
  const auto r = run_ok(s, {.concurrency = 8, .threads = 2, .requests = 1000});
  EXPECT_EQ(r.total, 1000u);
  EXPECT_EQ(r.successful, 1000u);
  EXPECT_EQ(r.failed, 0u);
  EXPECT_EQ(r.status_counts.at(200), 1000u);
  EXPECT_EQ(srv.hits().at("/health"), 1000u);
  const auto ids = srv.request_ids();
  EXPECT_EQ(ids.size(), 1000u);  // every request its own id
  for (const auto& id : ids)
    EXPECT_TRUE(request_id::is_valid(id)) << id;
  EXPECT_EQ(srv.requests_without_id(), 0u);
  EXPECT_LE(srv.connections(), 8u);  // keep-alive: one connection each
  EXPECT_EQ(r.latency.count(), 1000u);
  EXPECT_GT(r.latency.percentile(50), 0u);
}

TEST(LoadEngine, SeedMixCountsMatchWhatTheServerSaw) {
  test_http_server srv;
  const auto s = seed_scenario(srv.url(""), 0.4).value();
  const auto r = run_ok(s, {.concurrency = 10, .requests = 2000, .seed = 42});
  const auto hits = srv.hits();
  EXPECT_EQ(r.total, 2000u);
  std::uint64_t server_total = 0;
  for (const auto& [path, n] : hits)
    server_total += n;
  EXPECT_EQ(server_total, 2000u);
  // Status codes and per-endpoint counts agree with the server's own counts.
  EXPECT_EQ(r.status_counts.at(500), hits.at("/simulate/error"));
  EXPECT_EQ(r.failed, hits.at("/simulate/error"));
  for (const auto& e : r.endpoints) {
    const std::string path = e.name.substr(4);  // "GET /x"
    EXPECT_EQ(e.requests, hits.at(path)) << e.name;
  }
  // The mix follows the weights: 20 % each for the error endpoints.
  EXPECT_NEAR(static_cast<double>(hits.at("/simulate/error")) / 2000.0, 0.2, 0.04);
  EXPECT_NEAR(static_cast<double>(hits.at("/health")) / 2000.0, 0.2, 0.04);
}

TEST(LoadEngine, CountsStatusCodesPerEndpoint) {
  test_http_server srv;
  auto s = scenario_from_urls({srv.url("/missing"), srv.url("/")}).value();
  s.endpoints[0].weight = 1;
  s.endpoints[1].weight = 1;
  const auto r = run_ok(s, {.concurrency = 4, .requests = 400, .seed = 7});
  EXPECT_EQ(r.status_counts.at(404) + r.status_counts.at(200), 400u);
  EXPECT_EQ(r.endpoints[0].failed, r.status_counts.at(404));
  EXPECT_EQ(r.endpoints[1].successful, r.status_counts.at(200));
  EXPECT_EQ(srv.hits().at("/missing"), r.status_counts.at(404));
}

TEST(LoadEngine, ReconnectsWhenTheServerClosesTheConnection) {
  test_http_server srv;
  const auto s = scenario_from_urls({srv.url("/close")}).value();
  const auto r = run_ok(s, {.concurrency = 2, .requests = 50});
  EXPECT_EQ(r.successful, 50u);
  EXPECT_EQ(srv.hits().at("/close"), 50u);
  EXPECT_GE(srv.connections(), 50u);
}

TEST(LoadEngine, SendsScenarioMethodHeadersAndBody) {
  test_http_server srv;
  auto s =
      scenario_from_yaml("endpoints: [{path: /echo, method: POST, body: '{\"a\":1}'}]", srv.url(""))
          .value();
  const auto r = run_ok(s, {.concurrency = 1, .requests = 3});
  EXPECT_EQ(r.successful, 3u);
  EXPECT_EQ(srv.last_body(), "{\"a\":1}");
}

TEST(LoadEngine, ConnectionRefusedCountsAsFailures) {
  std::uint16_t port = 0;
  {
    test_http_server srv;  // learn a free port, then close it
    port = srv.port();
  }
  const auto s = scenario_from_urls({"http://127.0.0.1:" + std::to_string(port) + "/"}).value();
  const auto r = run_ok(s, {.concurrency = 2, .requests = 6});
  EXPECT_EQ(r.total, 6u);
  EXPECT_EQ(r.failed, 6u);
  EXPECT_EQ(r.status_counts.at(0), 6u);
  EXPECT_EQ(r.errors.at("connect"), 6u);
}

TEST(LoadEngine, TimesOutStalledRequests) {
  test_http_server srv;
  const auto s = scenario_from_urls({srv.url("/stall")}).value();
  const auto r = run_ok(s, {.concurrency = 2, .requests = 4, .timeout = 100ms});
  EXPECT_EQ(r.total, 4u);
  EXPECT_EQ(r.errors.at("timeout"), 4u);
  EXPECT_GE(r.latency.min(), 100'000'000u);
}

TEST(LoadEngine, DurationBoundsTheRun) {
  test_http_server srv;
  const auto s = scenario_from_urls({srv.url("/")}).value();
  const auto t0 = std::chrono::steady_clock::now();
  const auto r = run_ok(s, {.concurrency = 4, .duration = 300ms});
  const auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_GT(r.total, 0u);
  EXPECT_EQ(r.failed, 0u);
  EXPECT_GE(took, 300ms);
  EXPECT_LT(took, 3s);
}

TEST(LoadEngine, DurationEndsEvenWhenTheServerStalls) {
  test_http_server srv;
  const auto s = scenario_from_urls({srv.url("/stall")}).value();
  const auto t0 = std::chrono::steady_clock::now();
  const auto r = run_ok(s, {.concurrency = 3, .duration = 200ms, .timeout = 60s});
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
  EXPECT_EQ(r.total, 0u);  // in-flight requests at the end are abandoned, not counted
}

TEST(LoadEngine, OpenLoopKeepsTheArrivalRate) {
  test_http_server srv;
  const auto s = scenario_from_urls({srv.url("/")}).value();
  const auto r = run_ok(s, {.concurrency = 4, .requests = 100, .rate = 500});
  EXPECT_EQ(r.total, 100u);
  // 100 requests at 500/s are due over 0.2 s.
  EXPECT_GE(r.elapsed, 190ms);
  EXPECT_LT(r.elapsed, 2s);
}

TEST(LoadEngine, OpenLoopChargesStallsToLatency) {
  // One connection, 10 requests due every 10 ms, each answered only after
  // the 150 ms timeout: later requests queue behind earlier ones, and their
  // latency counts from when they were due, not from when they went out.
  test_http_server srv;
  const auto s = scenario_from_urls({srv.url("/stall")}).value();
  const auto r = run_ok(s, {.concurrency = 1, .requests = 10, .rate = 100, .timeout = 150ms});
  EXPECT_EQ(r.total, 10u);
  EXPECT_GT(r.latency.max(), 1'000'000'000u);  // the last one waited for nine before it
}

TEST(LoadEngine, StopFlagEndsTheRun) {
  test_http_server srv;
  const auto s = scenario_from_urls({srv.url("/")}).value();
  std::atomic<bool> stop{true};
  auto r = run_load(s, {.concurrency = 2, .duration = 60s}, stop);
  ASSERT_TRUE(r);
  EXPECT_LT(r->elapsed, 5s);
}

TEST(LoadEngine, RefusesNonLoopbackTargets) {
  const auto s = scenario_from_urls({"http://192.0.2.1:80/"}).value();
  std::atomic<bool> stop{false};
  auto r = run_load(s, {.requests = 1}, stop);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("--allow-remote"), std::string::npos);
}

TEST(LoadEngine, ValidatesOptions) {
  EXPECT_FALSE(validate(load_options{.requests = 0}));
  EXPECT_FALSE(validate(load_options{.requests = 1, .duration = 1s}));
  EXPECT_FALSE(validate(load_options{.concurrency = 0, .requests = 1}));
  EXPECT_FALSE(validate(load_options{.threads = 0, .requests = 1}));
  EXPECT_FALSE(validate(load_options{.requests = 1, .rate = -1}));
  EXPECT_TRUE(validate(load_options{.requests = 1}));
}

TEST(LoadReport, TextAndJsonCarryTheSeedsFigures) {
  test_http_server srv;
  const auto s = seed_scenario(srv.url(""), 0.2).value();
  const auto r = run_ok(s, {.concurrency = 4, .requests = 200, .seed = 1});
  const std::string text = render_text(r);
  for (const char* k : {"Total Requests: 200", "Successful: ", "Failed: ", "Success Rate: ",
                        "Total Duration: ", "Requests/Second: ", "p99.9", "/simulate/error"}) {
    EXPECT_NE(text.find(k), std::string::npos) << k;
  }
  const auto j = nlohmann::json::parse(render_json(r));
  EXPECT_EQ(j["total"], 200);
  EXPECT_EQ(j["successful"].get<std::uint64_t>() + j["failed"].get<std::uint64_t>(), 200u);
  EXPECT_EQ(j["endpoints"].size(), 5u);
  EXPECT_TRUE(j["latency"].contains("p99_9_ms"));
}

}  // namespace
}  // namespace keel::cli::load
