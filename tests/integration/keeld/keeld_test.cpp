// keeld end to end: the real binary on a free loopback port, driven over
// HTTP. One behaviour per test; each test starts its own keeld.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sys/mount.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <future>
#include <map>
#include <sstream>

#include "keeld_fixture.hpp"
#include "unit/alert/test_http_server.hpp"

namespace keeld::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr const char* kEvent =
    R"({"service":"checkout","code":"DATABASE_ERROR","message":"insert into orders failed after 3 attempts"})";

void expect_problem(http_result r, long status, const std::string& code) {
  EXPECT_EQ(r.status, status) << r.body;
  EXPECT_THAT(r.headers["content-type"], StartsWith("application/problem+json")) << r.body;
  const auto j = json_of(r);
  ASSERT_TRUE(j.is_object()) << r.body;
  EXPECT_EQ(j.value("status", 0), status);
  EXPECT_EQ(j.value("code", ""), code) << r.body;
  EXPECT_FALSE(j.value("request_id", "").empty());
}

TEST(Keeld, ServesTheSeedExerciseEndpoints) {
  keeld_instance k;
  auto root = k.get("/");
  EXPECT_EQ(root.status, 200);
  EXPECT_EQ(json_of(root)["status"], "running");
  EXPECT_EQ(root.headers["x-content-type-options"], "nosniff");
  EXPECT_FALSE(root.headers["x-request-id"].empty());
  EXPECT_FALSE(root.headers["x-response-time"].empty());

  for (const char* path : {"/health", "/health/live", "/health/ready"}) {
    auto h = k.get(path);
    EXPECT_EQ(h.status, 200) << path << h.body;
    EXPECT_EQ(h.headers["content-type"], "application/health+json") << path;
    EXPECT_EQ(json_of(h)["status"], "pass") << path << h.body;
  }

  auto text = k.get("/metrics");
  EXPECT_EQ(text.status, 200);
  EXPECT_THAT(text.headers["content-type"], StartsWith("text/plain; version=0.0.4"));
  EXPECT_THAT(text.body, HasSubstr("# TYPE process_cpu_seconds_total counter"));
  EXPECT_THAT(text.body, HasSubstr("keeld_build_info{"));
  auto om = k.get("/metrics", {"Accept: application/openmetrics-text; version=1.0.0"});
  EXPECT_THAT(om.headers["content-type"], StartsWith("application/openmetrics-text"));
  EXPECT_TRUE(om.body.ends_with("# EOF\n"));

  // error_rate 1.0 in the test config: always the seed's simulated failure,
  // as problem+json that says nothing of the internals.
  auto err = k.get("/simulate/error");
  expect_problem(err, 500, "INTERNAL_ERROR");
  EXPECT_THAT(err.body, ::testing::Not(HasSubstr("simulated error")));

  auto slow = k.get("/simulate/slow");
  EXPECT_EQ(slow.status, 200);
  EXPECT_DOUBLE_EQ(json_of(slow)["delay_seconds"].get<double>(), 0.1);

  auto test_alert = k.post_json("/alerts/test", R"({"message":"hello"})");
  EXPECT_EQ(test_alert.status, 200) << test_alert.body;
  // The test configuration has no receiver: nothing was sent, and it says so.
  EXPECT_EQ(json_of(test_alert)["status"], "no receivers");
  EXPECT_TRUE(json_of(test_alert)["queued"].empty());
}

TEST(Keeld, OpenApiListsEveryRoute) {
  keeld_instance k;
  auto doc = json_of(k.get("/openapi.json"));
  ASSERT_TRUE(doc.is_object());
  EXPECT_EQ(doc["openapi"], "3.0.3");
  for (const char* p : {"/health", "/metrics", "/api/v1/events", "/api/v1/issues/{id}",
                        "/api/v1/rules/{name}", "/api/v1/silences", "/api/v1/incidents/{id}",
                        "/admin/api/monitoring/health/services", "/admin/api/loggers/{name}",
                        "/api/v1/notifications", "/api/v1/dead-letters/{id}/requeue"}) {
    EXPECT_TRUE(doc["paths"].contains(p)) << p;
  }
}

TEST(Keeld, IngestedEventsAreDurableBeforeTheAcceptAndSurviveSigkill) {
  keeld_instance k;
  auto r = k.post_json("/api/v1/events", kEvent);
  ASSERT_EQ(r.status, 202) << r.body;
  const auto issue = json_of(r)["events"][0]["issue"].get<std::string>();

  EXPECT_EQ(k.process().kill(), 128 + SIGKILL);  // no graceful flush
  k.start();
  auto g = k.admin("GET", "/api/v1/issues/" + issue);
  ASSERT_EQ(g.status, 200) << g.body;
  EXPECT_EQ(json_of(g)["count"], 1);
  EXPECT_EQ(json_of(g)["code"], "DATABASE_ERROR");
}

TEST(Keeld, SilencesSurviveSigkillAndSoDoesTheirExpiry) {
  keeld_instance k;
  auto created = k.admin("POST", "/api/v1/silences",
                         R"({"matchers":["alertname=\"DiskFull\"","instance=~\"db-.*\""],)"
                         R"("duration":"2h","created_by":"ops","comment":"disk swap"})");
  ASSERT_EQ(created.status, 201) << created.body;
  const auto id = json_of(created)["id"].get<std::string>();

  EXPECT_EQ(k.process().kill(), 128 + SIGKILL);
  k.start();
  auto silences = json_of(k.admin("GET", "/api/v1/silences"))["silences"];
  ASSERT_EQ(silences.size(), 1u) << silences;
  EXPECT_EQ(silences[0]["id"], id);
  EXPECT_EQ(silences[0]["state"], "active");
  EXPECT_EQ(silences[0]["created_by"], "ops");
  EXPECT_EQ(silences[0]["comment"], "disk swap");
  EXPECT_EQ(silences[0]["matchers"].size(), 2u);

  // Expired, it is listed as such for an hour (as Alertmanager keeps
  // expired silences for a while), and stays expired after a crash.
  ASSERT_EQ(k.admin("DELETE", "/api/v1/silences/" + id).status, 204);
  EXPECT_EQ(k.process().kill(), 128 + SIGKILL);
  k.start();
  silences = json_of(k.admin("GET", "/api/v1/silences"))["silences"];
  ASSERT_EQ(silences.size(), 1u) << silences;
  EXPECT_EQ(silences[0]["state"], "expired");
}

// An error event fires a rule from the configuration file; the alert goes
// to its route's webhook, the incident it opens notifies the first
// escalation level, and with nobody acknowledging it escalates to the next.
TEST(Keeld, AlertsAndIncidentNoticesReachTheirWebhooksAndEscalate) {
  keel::alert::testing::test_http_server hooks;
  hooks.listen();
  keeld_instance k(test_config(R"yaml(
alerting:
  rules:
    - alert: CheckoutErrors
      events: {matchers: ['service="checkout"'], window: 1m, at_least: 1}
      labels: {severity: high}
      annotations: {summary: "checkout is failing"}
  receivers:
    - {name: team, webhook: {url: ")yaml" +
                               hooks.url("/team") + R"yaml("}}
    - {name: oncall, webhook: {url: ")yaml" +
                               hooks.url("/oncall") + R"yaml("}}
  route: {receiver: team, group_wait: 0s}
  incidents:
    ack_timeout: 1h                # the default would never escalate here
    escalation: [team]
    policies:
      - name: high_checkout
        matchers: ['severity="high"', 'service="checkout"']
        ack_timeout: 600ms
        escalation: [team, oncall]
)yaml"));
  wait_for_evaluations(k);  // the rule binds at its first evaluation
  ASSERT_EQ(k.post_json("/api/v1/events", kEvent).status, 202);

  // What each webhook received, as "<path> <alertname> <reason>".
  const auto received = [&] {
    std::vector<std::string> out;
    for (const auto& r : hooks.accepted()) {
      const auto body = nlohmann::json::parse(r.body, nullptr, false);
      if (!body.is_object()) continue;
      for (const auto& a : body["alerts"]) {
        const auto& l = a["labels"];
        out.push_back(r.target + " " + l.value("alertname", "") + " " + l.value("reason", ""));
      }
    }
    return out;
  };
  std::vector<std::string> got;
  for (int i = 0; i < 200; ++i) {
    got = received();
    if (std::find(got.begin(), got.end(), "/oncall Incident escalated") != got.end()) break;
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_THAT(got, ::testing::IsSupersetOf({"/team CheckoutErrors ", "/team Incident opened",
                                            "/oncall Incident escalated"}));

  auto incidents = json_of(k.admin("GET", "/api/v1/incidents"))["incidents"];
  ASSERT_EQ(incidents.size(), 1u) << incidents;
  EXPECT_EQ(incidents[0]["escalation_level"], 1);
  EXPECT_EQ(incidents[0]["policy"], "high_checkout");
  EXPECT_EQ(incidents[0]["severity"], "high");
  const auto id = incidents[0]["id"].get<std::string>();
  EXPECT_EQ(json_of(k.admin("POST", "/api/v1/incidents/" + id + "/acknowledge"))["state"],
            "acknowledged");
}

TEST(Keeld, IngestTakesBatchesAndGroupsThem) {
  keeld_instance k;
  std::string batch = "[";
  for (int i = 0; i < 5; ++i) {
    batch += std::string(i ? "," : "") + R"({"service":"s","code":"TIMEOUT","message":"call )" +
             std::to_string(i) + R"( timed out"})";
  }
  batch += "]";
  auto r = k.post_json("/api/v1/events", batch);
  ASSERT_EQ(r.status, 202) << r.body;
  EXPECT_EQ(json_of(r)["accepted"], 5);
  auto issues = json_of(k.admin("GET", "/api/v1/issues"));
  ASSERT_EQ(issues["issues"].size(), 1u);  // numbers are masked: one group
  EXPECT_EQ(issues["issues"][0]["count"], 5);

  auto stats = json_of(k.admin("GET", "/admin/api/monitoring/errors/stats"));
  EXPECT_EQ(stats["by_code"]["TIMEOUT"], 5);
  auto recent = json_of(k.admin("GET", "/admin/api/monitoring/logs/recent-errors?limit=2"));
  EXPECT_EQ(recent["errors"].size(), 2u);
}

TEST(Keeld, IssueStateChangesAreAudited) {
  keeld_instance k;
  const auto issue =
      json_of(k.post_json("/api/v1/events", kEvent))["events"][0]["issue"].get<std::string>();
  auto resolved = k.admin("POST", "/api/v1/issues/" + issue + "/resolve");
  ASSERT_EQ(resolved.status, 200) << resolved.body;
  EXPECT_EQ(json_of(resolved)["status"], "resolved");
  auto again = k.post_json("/api/v1/events", kEvent);
  EXPECT_TRUE(json_of(again)["events"][0]["regression"].get<bool>());

  auto audit = json_of(k.admin("GET", "/admin/api/audit"));
  ASSERT_EQ(audit["entries"].size(), 1u) << audit;
  EXPECT_EQ(audit["entries"][0]["action"], "issue.resolve");
  EXPECT_EQ(audit["entries"][0]["resource"], "issue:" + issue);
  EXPECT_FALSE(audit["entries"][0]["request_id"].get<std::string>().empty());
  auto verify = k.admin("GET", "/admin/api/audit/verify");
  EXPECT_EQ(verify.status, 200);
  EXPECT_TRUE(json_of(verify)["ok"].get<bool>());
}

TEST(Keeld, BadInputIsAnsweredWithProblemJson) {
  keeld_instance k;
  expect_problem(k.post_json("/api/v1/events", "{not json"), 400, "VALIDATION_ERROR");
  expect_problem(
      http_request("POST", k.url("/api/v1/events"), kEvent, {"Content-Type: text/plain"}), 415,
      "UNSUPPORTED_MEDIA_TYPE");
  expect_problem(k.post_json("/api/v1/events", R"({"service":"x"})"), 422,
                 "FIELD_VALIDATION_ERROR");
  expect_problem(k.post_json("/api/v1/events", "[]"), 400, "VALIDATION_ERROR");
  expect_problem(k.post_json("/api/v1/events", std::string(70'000, ' ')), 413, "PAYLOAD_TOO_LARGE");
  expect_problem(k.admin("GET", "/api/v1/issues/bad$id"), 400, "VALIDATION_ERROR");
  expect_problem(k.admin("GET", "/api/v1/issues/0123abcd"), 404, "RESOURCE_NOT_FOUND");
  expect_problem(k.admin("GET", "/api/v1/issues?limit=0"), 400, "VALIDATION_ERROR");
  expect_problem(k.get("/no/such/route"), 404, "RESOURCE_NOT_FOUND");
  auto wrong_method = http_request("DELETE", k.url("/health"));
  expect_problem(wrong_method, 405, "METHOD_NOT_ALLOWED");
  EXPECT_THAT(wrong_method.headers["allow"], HasSubstr("GET"));

  // A bare CR inside a header value never reaches a handler.
  const auto raw = keel::testing::raw_http(
      k.port(), "GET / HTTP/1.1\r\nHost: x\r\nX-Evil: a\rInjected: yes\r\n\r\n");
  EXPECT_THAT(raw, StartsWith("HTTP/1.1 400"));
  EXPECT_THAT(raw, HasSubstr("application/problem+json"));
  // keeld is still serving.
  EXPECT_EQ(k.get("/health/live").status, 200);
}

TEST(Keeld, AdminRoutesNeedTheBearerToken) {
  keeld_instance k;
  auto missing = k.get("/admin/api/monitoring/health/services");
  expect_problem(missing, 401, "AUTHENTICATION_REQUIRED");
  EXPECT_THAT(missing.headers["www-authenticate"], StartsWith("Bearer"));
  expect_problem(k.get("/admin/api/monitoring/health/services",
                       {"Authorization: Bearer integration-test-token-0123456788"}),
                 403, "AUTHORIZATION_DENIED");
  expect_problem(k.get("/api/v1/rules", {"Authorization: Basic abc"}), 401,
                 "AUTHENTICATION_REQUIRED");
  EXPECT_EQ(k.admin("GET", "/admin/api/monitoring/health/services").status, 200);
}

TEST(Keeld, AdminApiOfTheFlaskSeed) {
  keeld_instance k;
  auto services = json_of(k.admin("GET", "/admin/api/monitoring/health/services"));
  EXPECT_TRUE(services["services"].is_array());
  EXPECT_TRUE(services["circuit_breakers"].is_array());
  auto check = k.admin("GET", "/admin/api/monitoring/health/check");
  EXPECT_EQ(check.status, 200);
  EXPECT_TRUE(json_of(check)["checks"].contains("store"));
  expect_problem(k.admin("POST", "/admin/api/monitoring/circuit-breakers/reset/nope"), 404,
                 "RESOURCE_NOT_FOUND");
  EXPECT_EQ(k.admin("POST", "/admin/api/monitoring/circuit-breakers/reset-all").status, 200);

  auto lv = k.admin("PUT", "/admin/api/loggers/keeld.http", R"({"level":"debug"})");
  EXPECT_EQ(lv.status, 200) << lv.body;
  expect_problem(k.admin("PUT", "/admin/api/loggers/keeld", R"({"level":"loud"})"), 422,
                 "FIELD_VALIDATION_ERROR");
  auto loggers = json_of(k.admin("GET", "/admin/api/loggers"));
  EXPECT_TRUE(loggers["loggers"].is_array());

  auto configure = k.admin("POST", "/admin/api/monitoring/alerts/configure",
                           "rules:\n  - alert: Errors\n    events: {window: 1m, at_least: 1}\n",
                           "application/yaml");
  EXPECT_EQ(configure.status, 200) << configure.body;
  auto rules = json_of(k.admin("GET", "/api/v1/rules"));
  ASSERT_EQ(rules["rules"].size(), 1u);
  EXPECT_EQ(rules["rules"][0]["name"], "Errors");
  auto bad =
      k.admin("POST", "/admin/api/monitoring/alerts/configure",
              "rules:\n  - alert: E\n    events: {window: 1x, at_least: 1}\n", "application/yaml");
  expect_problem(bad, 400, "VALIDATION_ERROR");
  EXPECT_EQ(json_of(bad)["details"]["line"], 3);

  auto audit = json_of(k.admin("GET", "/admin/api/audit"));
  std::vector<std::string> actions;
  for (const auto& e : audit["entries"])
    actions.push_back(e["action"]);
  EXPECT_THAT(actions, ::testing::ElementsAre("circuit_breaker.reset_all", "logger.set_level",
                                              "alerts.configure"));
}

TEST(Keeld, RulesAlertsSilencesAndIncidents) {
  keeld_instance k;
  auto created =
      k.admin("POST", "/api/v1/rules",
              R"({"alert":"CheckoutErrors","events":{"matchers":["service=\"checkout\""],)"
              R"("window":"1m","at_least":1},"labels":{"severity":"high"}})");
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(k.admin("GET", "/api/v1/rules/CheckoutErrors").status, 200);
  EXPECT_EQ(k.admin("GET", "/api/v1/rules").status, 200);

  // A rule counts what happens after it starts watching (Prometheus'
  // semantics): let one evaluation (every 200 ms here) bind it first. Then
  // an event makes it fire at the next evaluation.
  wait_for_evaluations(k);
  ASSERT_EQ(k.post_json("/api/v1/events", kEvent).status, 202);
  nlohmann::json alerts;
  for (int i = 0; i < 100; ++i) {
    alerts = json_of(k.admin("GET", "/api/v1/alerts"))["alerts"];
    if (!alerts.empty() && alerts[0]["state"] == "firing") break;
    std::this_thread::sleep_for(50ms);
  }
  ASSERT_EQ(alerts.size(), 1u) << alerts;
  EXPECT_EQ(alerts[0]["state"], "firing");
  EXPECT_EQ(alerts[0]["labels"]["alertname"], "CheckoutErrors");

  auto silence = k.admin("POST", "/api/v1/silences",
                         R"({"matchers":["alertname=\"CheckoutErrors\""],"duration":"1h"})");
  ASSERT_EQ(silence.status, 201) << silence.body;
  const auto sid = json_of(silence)["id"].get<std::string>();
  EXPECT_TRUE(json_of(k.admin("GET", "/api/v1/alerts"))["alerts"][0]["silenced"].get<bool>());
  EXPECT_EQ(json_of(k.admin("GET", "/api/v1/silences"))["silences"].size(), 1u);
  EXPECT_EQ(k.admin("DELETE", "/api/v1/silences/" + sid).status, 204);

  auto incidents = json_of(k.admin("GET", "/api/v1/incidents"))["incidents"];
  ASSERT_EQ(incidents.size(), 1u) << incidents;
  const auto iid = incidents[0]["id"].get<std::string>();
  auto ack = k.admin("POST", "/api/v1/incidents/" + iid + "/acknowledge");
  EXPECT_EQ(ack.status, 200) << ack.body;
  EXPECT_EQ(json_of(ack)["state"], "acknowledged");
  EXPECT_EQ(json_of(k.admin("POST", "/api/v1/incidents/" + iid + "/resolve"))["state"], "resolved");
  EXPECT_EQ(k.admin("GET", "/api/v1/incidents/" + iid).status, 200);
  expect_problem(k.admin("GET", "/api/v1/incidents/none"), 404, "RESOURCE_NOT_FOUND");

  EXPECT_EQ(k.admin("DELETE", "/api/v1/rules/CheckoutErrors").status, 204);
  expect_problem(k.admin("GET", "/api/v1/rules/CheckoutErrors"), 404, "RESOURCE_NOT_FOUND");
}

// Until the slow request is in its handler: keeld's own in-flight gauge
// counts it and the scrape asking.
void wait_until_in_flight(const keeld_instance& k, int requests) {
  const std::string sample = "http_requests_in_flight " + std::to_string(requests + 1);
  for (int i = 0; i < 200; ++i) {
    if (k.get("/metrics").body.find(sample) != std::string::npos) return;
    std::this_thread::sleep_for(10ms);
  }
  ADD_FAILURE() << "never saw " << sample;
}

std::string with_slow_requests(const std::string& seconds) {
  std::string cfg = test_config();
  cfg.replace(cfg.find("slow_max: 100ms"), 15, "slow_max: " + seconds);
  cfg.replace(cfg.find("slow_min: 100ms"), 15, "slow_min: " + seconds);
  return cfg;
}

TEST(Keeld, SigtermFinishesRequestsInFlightAndExitsZero) {
  keeld_instance k(with_slow_requests("1500ms"));
  auto slow = std::async(std::launch::async, [&] { return k.get("/simulate/slow"); });
  wait_until_in_flight(k, 1);
  k.process().signal(SIGTERM);
  EXPECT_EQ(slow.get().status, 200);
  EXPECT_EQ(k.process().wait(), 0) << k.output();
  EXPECT_EQ(k.get("/health").status, 0);  // nothing listens any more
}

// A request that outlasts shutdown_grace gets a 503, and keeld exits soon
// after the grace instead of waiting for it (it once took 4.3 s with a 1 s
// grace and a 5 s request, and reset the connection).
TEST(Keeld, SigtermPastTheGraceAnswers503AndExitsPromptly) {
  std::string cfg = with_slow_requests("20s");
  cfg.replace(cfg.find("shutdown_grace: 5s"), 18, "shutdown_grace: 1s");
  keeld_instance k(cfg);
  auto slow = std::async(std::launch::async, [&] { return k.get("/simulate/slow"); });
  wait_until_in_flight(k, 1);
  const auto t0 = std::chrono::steady_clock::now();
  k.process().signal(SIGTERM);
  auto r = slow.get();
  EXPECT_EQ(r.status, 503) << r.body;
  EXPECT_FALSE(r.headers["retry-after"].empty());
  EXPECT_EQ(k.process().wait(), 0) << k.output();
  const auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_LT(took, 5s) << "keeld waited for the handler";
}

TEST(Keeld, StartsDegradedWhenTheStoreCannotOpenAndRecovers) {
  keel::testing::temp_dir blocker("keeld-blocked");
  const auto data = blocker.path() / "var";
  std::ofstream(data) << "a file where the data directory should be";
  keeld_instance k(test_config(), data);
  auto h = k.get("/health");
  EXPECT_EQ(h.status, 200) << h.body;  // degraded still serves
  auto j = json_of(h);
  EXPECT_EQ(j["status"], "warn") << h.body;
  EXPECT_EQ(j["checks"]["store"][0]["status"], "fail");
  auto ingest = k.post_json("/api/v1/events", kEvent);
  expect_problem(ingest, 503, "SERVICE_UNAVAILABLE");
  EXPECT_FALSE(ingest.headers["retry-after"].empty());

  // The operator fixes the directory; the background retry opens the store.
  std::filesystem::remove(data);
  std::filesystem::create_directories(data);
  http_result ok;
  for (int i = 0; i < 100; ++i) {
    ok = k.post_json("/api/v1/events", kEvent);
    if (ok.status == 202) break;
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_EQ(ok.status, 202) << ok.body;
}

// The data directory on a filesystem that really fills up (a 3 MB tmpfs,
// as the issue measured): ingest answers 503 with Retry-After and never a
// 500, /health fails the store, nothing is counted that was not stored;
// once the operator frees space ingest recovers by itself, and after a
// SIGKILL exactly the acknowledged events are there. Mounting needs
// CAP_SYS_ADMIN: without it the test is skipped, saying so.
TEST(Keeld, FullDiskAnswers503CountsOnlyWhatWasStoredAndRecovers) {
  keel::testing::temp_dir dir("keeld-full-disk");
  const auto small = dir.path() / "small";
  std::filesystem::create_directories(small);
  if (::mount("tmpfs", small.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, "size=3m,mode=0700") != 0) {
    GTEST_SKIP() << "cannot mount a tmpfs here: " << std::strerror(errno);
  }
  struct unmount_at_exit {
    std::filesystem::path at;
    ~unmount_at_exit() { ::umount2(at.c_str(), MNT_DETACH); }
  } unmount{small};
  std::ofstream(small / "ballast") << std::string(1 << 20, 'b');  // what the operator frees

  keeld_instance k(test_config(), small / "var");
  std::string batch = "[";
  for (int i = 0; i < 20; ++i) {
    if (i > 0) batch += ',';
    batch += R"({"service":"checkout","code":"DATABASE_ERROR","message":"insert failed )" +
             std::to_string(i) + " " + std::string(2000, 'x') + "\"}";
  }
  batch += "]";
  std::uint64_t acknowledged = 0;
  auto post_until = [&](long wanted, int attempts) {
    http_result r;
    for (int i = 0; i < attempts; ++i) {
      r = k.post_json("/api/v1/events", batch);
      if (r.status == 202) acknowledged += json_of(r)["events"].size();
      if (r.status == wanted) return r;
      if (r.status != 202 && r.status != 503) return r;  // neither stored nor refused: a defect
      std::this_thread::sleep_for(wanted == 202 ? 100ms : 0ms);
    }
    return r;
  };
  auto full = post_until(503, 400);
  expect_problem(full, 503, "SERVICE_UNAVAILABLE");
  EXPECT_FALSE(full.headers["retry-after"].empty());
  ASSERT_GT(acknowledged, 0u);
  nlohmann::json store_check;
  for (int i = 0; i < 100; ++i) {
    store_check = json_of(k.get("/health"))["checks"]["store"][0];
    if (store_check["status"] == "fail") break;
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_EQ(store_check["status"], "fail") << store_check;
  auto stats = json_of(k.admin("GET", "/admin/api/monitoring/errors/stats"));
  EXPECT_EQ(stats["total"].get<std::uint64_t>(), acknowledged) << stats;

  std::filesystem::remove(small / "ballast");
  auto again = post_until(202, 200);  // the store's probe sees the space back
  ASSERT_EQ(again.status, 202) << again.body;
  stats = json_of(k.admin("GET", "/admin/api/monitoring/errors/stats"));
  EXPECT_EQ(stats["total"].get<std::uint64_t>(), acknowledged) << stats;

  EXPECT_EQ(k.process().kill(), 128 + SIGKILL);
  k.start();
  stats = json_of(k.admin("GET", "/admin/api/monitoring/errors/stats"));
  EXPECT_EQ(stats["total"].get<std::uint64_t>(), acknowledged) << stats;
  const auto issue = json_of(again)["events"][0]["issue"].get<std::string>();
  EXPECT_EQ(json_of(k.admin("GET", "/api/v1/issues/" + issue))["count"].get<std::uint64_t>(),
            acknowledged);
}

// Started with a permissive umask, keeld still keeps its data to itself.
TEST(Keeld, DataDirectoryAndEveryFileInItAreTheOwnersOnly) {
  const mode_t before = ::umask(022);
  keeld_instance k(test_config(), {}, {});
  ::umask(before);
  ASSERT_EQ(k.post_json("/api/v1/events", kEvent).status, 202);
  auto mode = [](const std::filesystem::path& p) {
    struct stat sb {};
    EXPECT_EQ(::stat(p.c_str(), &sb), 0) << p;
    return sb.st_mode & 0777;
  };
  const auto& data = k.data_dir();
  EXPECT_EQ(mode(data), 0700u);
  EXPECT_EQ(mode(data / "logs"), 0700u);
  for (const char* f : {"alert.db", "alert.db-wal", "alert.db-shm", "lock", "logs/keeld.log"})
    EXPECT_EQ(mode(data / f), 0600u) << f;
}

// One client flooding a rate-limited route: every request is counted, but
// the log gets a few lines for it, not one per 429 (a flood once rotated
// 50 MB of history away in 30 s).
TEST(Keeld, FloodOf429sIsCountedButBarelyLogged) {
  std::string cfg = test_config();
  const std::string generous = "requests_per_second: 10000, burst: 10000";
  cfg.replace(cfg.find(generous), generous.size(), "requests_per_second: 1, burst: 1");
  keeld_instance k(cfg);
  int refused = 0;
  for (int i = 0; i < 300; ++i)
    refused += k.post_json("/api/v1/events", kEvent).status == 429 ? 1 : 0;
  EXPECT_GE(refused, 295);
  EXPECT_THAT(k.get("/metrics").body, HasSubstr("status=\"429\""));
  std::string log;
  std::size_t lines_429 = 0;
  for (int i = 0; i < 40; ++i) {  // the backend writes asynchronously
    std::this_thread::sleep_for(25ms);
    std::ifstream in(k.data_dir() / "logs" / "keeld.log");
    log.assign(std::istreambuf_iterator<char>(in), {});
    lines_429 = 0;
    for (std::size_t at = log.find("\"status\":429"); at != std::string::npos;
         at = log.find("\"status\":429", at + 1))
      ++lines_429;
    if (lines_429 > 0) break;
  }
  EXPECT_GE(lines_429, 1u);
  EXPECT_LE(lines_429, 5u) << "429 lines in the log";
}

// A data directory whose logs/ cannot be made: the store and the admin
// token still work, /health and a line on stdout say file logging is off,
// and once the obstacle is gone the log file appears without a restart.
TEST(Keeld, UnusableLogsDirectoryIsReportedAndRecoveredWithoutLosingTheToken) {
  keel::testing::temp_dir dir("keeld-logs");
  const auto data = dir.path() / "var";
  std::filesystem::create_directories(data);
  std::ofstream(data / "logs") << "a file where logs/ should be";
  keeld_instance k(test_config(), data, {}, /*with_token=*/false);
  std::ifstream token_file(data / "admin_token");
  std::string token;
  std::getline(token_file, token);
  ASSERT_EQ(token.size(), 64u) << "the token was not saved";
  auto admin = [&](const std::string& path) {
    return http_request("GET", k.url(path), {}, {"Authorization: Bearer " + token});
  };
  EXPECT_EQ(admin("/api/v1/rules").status, 200);
  ASSERT_EQ(k.post_json("/api/v1/events", kEvent).status, 202);  // the store works
  auto log_check = [&] { return json_of(k.get("/health"))["checks"]["log_files"][0]; };
  nlohmann::json c;
  for (int i = 0; i < 100; ++i) {
    c = log_check();
    if (c["status"] == "warn") break;
    std::this_thread::sleep_for(25ms);
  }
  EXPECT_EQ(c["status"], "warn") << c;
  EXPECT_THAT(c.value("output", ""), HasSubstr("keeld.log"));

  std::filesystem::remove(data / "logs");
  for (int i = 0; i < 200 && !std::filesystem::exists(data / "logs" / "keeld.log"); ++i) {
    (void)k.get("/");  // a line to write
    std::this_thread::sleep_for(25ms);
  }
  EXPECT_TRUE(std::filesystem::exists(data / "logs" / "keeld.log"));
  for (int i = 0; i < 100 && log_check()["status"] != "pass"; ++i)
    std::this_thread::sleep_for(25ms);
  EXPECT_EQ(log_check()["status"], "pass");

  EXPECT_EQ(k.process().kill(), 128 + SIGKILL);
  k.start();
  EXPECT_EQ(admin("/api/v1/rules").status, 200);  // the same token after a restart
}

TEST(Keeld, SecondKeeldOnTheSameDataDirectoryIsRefusedNamingTheHolder) {
  keeld_instance k;
  keel::testing::temp_dir other("keeld-second");
  std::ofstream(other.path() / "keeld.yaml") << test_config();
  keel::testing::child_process second(
      KEELD_BINARY,
      {"--config", (other.path() / "keeld.yaml").string(), "--data-dir", k.data_dir().string()},
      std::map<std::string, std::string>{}, other.path() / "out");
  EXPECT_EQ(second.wait(), 1);
  std::ifstream in(other.path() / "out");
  const std::string out(std::istreambuf_iterator<char>(in), {});
  EXPECT_THAT(
      out, HasSubstr("in use by another process (pid " + std::to_string(k.process().pid()) + ")"));
  EXPECT_EQ(k.get("/health").status, 200);  // the first one is untouched
  // The refused one wrote nothing there: no token of its own, no log line.
  EXPECT_FALSE(std::filesystem::exists(k.data_dir() / "admin_token"));
  std::ifstream log(k.data_dir() / "logs" / "keeld.log");
  const std::string lines(std::istreambuf_iterator<char>(log), {});
  EXPECT_THAT(lines, ::testing::Not(HasSubstr("admin token generated")));
}

// A receiver that refuses: a warn line naming it, the delivery metrics
// move, /health warns naming it; once it answers, all of that clears.
TEST(Keeld, FailingReceiverIsLoggedMeasuredAndInHealthUntilItRecovers) {
  keel::alert::testing::test_http_server hook;  // not listening yet: refused
  keeld_instance k(test_config(R"yaml(
alerting:
  receivers:
    - {name: pager, webhook: {url: ")yaml" +
                               hook.url("/pager") + R"yaml("}}
  route: {receiver: pager, group_wait: 0s}
)yaml"));
  ASSERT_EQ(k.post_json("/alerts/test", R"({"message":"drill"})").status, 200);
  auto checks = [&] { return json_of(k.get("/health"))["checks"]; };
  nlohmann::json c;
  for (int i = 0; i < 200; ++i) {
    c = checks();
    if (c["receivers"][0]["status"] == "warn") break;
    std::this_thread::sleep_for(25ms);
  }
  ASSERT_EQ(c["receivers"][0]["status"], "warn") << c;
  EXPECT_THAT(c["receivers"][0]["output"].get<std::string>(), HasSubstr("pager"));
  const auto metrics = k.get("/metrics").body;
  EXPECT_THAT(metrics, HasSubstr("keel_alert_notifications_failed_total{receiver=\"pager\"} 1"));
  EXPECT_THAT(metrics, HasSubstr("keel_alert_outbox_pending{receiver=\"pager\"} 1"));
  std::string log;
  for (int i = 0; i < 200 && log.find("receiver failing") == std::string::npos; ++i) {
    std::this_thread::sleep_for(25ms);
    std::ifstream in(k.data_dir() / "logs" / "keeld.log");
    log.assign(std::istreambuf_iterator<char>(in), {});
  }
  EXPECT_THAT(log, HasSubstr("\"message\":\"receiver failing"));
  EXPECT_THAT(log, HasSubstr("\"receiver\":\"pager\""));

  hook.listen();
  hook.respond_with(200);
  // The retry waits out its backoff (5 s, jittered): a real process, so
  // this is a bounded poll, not a timing rule.
  for (int i = 0; i < 600 && hook.accepted().empty(); ++i)
    std::this_thread::sleep_for(50ms);
  ASSERT_EQ(hook.accepted().size(), 1u);
  for (int i = 0; i < 100 && checks()["receivers"][0]["status"] != "pass"; ++i)
    std::this_thread::sleep_for(25ms);
  EXPECT_EQ(checks()["receivers"][0]["status"], "pass");
  EXPECT_THAT(k.get("/metrics").body,
              HasSubstr("keel_alert_notifications_sent_total{receiver=\"pager\"} 1"));
}

// retries.delivery bounds the attempts and their backoff: a receiver that
// keeps answering 503 makes a dead letter after two quick attempts (the
// defaults, 20 attempts from 5 s, would take hours).
TEST(Keeld, DeliveryRetriesComeFromTheConfiguration) {
  keel::alert::testing::test_http_server hook;
  hook.listen();
  hook.respond_with(503);
  keeld_instance k(test_config(R"yaml(
retries:
  delivery: {max_attempts: 2, initial_delay: 10ms, max_delay: 20ms}
  targets: {max_attempts: 3, initial_delay: 1ms, max_delay: 2ms}
alerting:
  receivers:
    - {name: pager, webhook: {url: ")yaml" +
                               hook.url("/pager") + R"yaml("}}
  route: {receiver: pager, group_wait: 0s}
)yaml"));
  ASSERT_EQ(k.post_json("/alerts/test", R"({"message":"drill"})").status, 200);
  nlohmann::json dead;
  for (int i = 0; i < 400; ++i) {
    dead = json_of(k.admin("GET", "/api/v1/notifications?outcome=dead"))["notifications"];
    if (!dead.empty()) break;
    std::this_thread::sleep_for(25ms);
  }
  ASSERT_EQ(dead.size(), 1u) << dead;
  EXPECT_EQ(dead[0]["attempts"], 2);
  EXPECT_EQ(hook.requests().size(), 2u);  // every attempt reached it
}

TEST(Keeld, NotificationLogShowsDeadLettersTheirRequeueAndSurvivesSigkill) {
  keel::alert::testing::test_http_server hook;
  hook.listen();
  hook.respond_with(400);  // refused for good: a dead letter at once
  keeld_instance k(test_config(R"yaml(
alerting:
  receivers:
    - {name: pager, webhook: {url: ")yaml" +
                               hook.url("/pager") + R"yaml("}}
  route: {receiver: pager, group_wait: 0s}
)yaml"));
  ASSERT_EQ(k.post_json("/alerts/test", R"({"message":"drill"})").status, 200);
  nlohmann::json dead;
  for (int i = 0; i < 200; ++i) {
    dead = json_of(k.admin("GET", "/api/v1/notifications?outcome=dead"))["notifications"];
    if (!dead.empty()) break;
    std::this_thread::sleep_for(25ms);
  }
  ASSERT_EQ(dead.size(), 1u) << dead;
  EXPECT_EQ(dead[0]["receiver"], "pager");
  EXPECT_THAT(dead[0]["detail"].get<std::string>(), HasSubstr("400"));
  const auto dead_id = std::to_string(dead[0]["id"].get<std::int64_t>());

  hook.respond_with(200);
  ASSERT_EQ(k.admin("POST", "/api/v1/dead-letters/" + dead_id + "/requeue").status, 200);
  EXPECT_EQ(k.admin("POST", "/api/v1/dead-letters/" + dead_id + "/requeue").status, 404);
  EXPECT_EQ(k.admin("POST", "/api/v1/dead-letters/x%27/requeue").status, 400);
  for (int i = 0; i < 200 && hook.accepted().empty(); ++i)
    std::this_thread::sleep_for(25ms);
  ASSERT_EQ(hook.accepted().size(), 1u);
  nlohmann::json delivered;
  for (int i = 0; i < 200; ++i) {
    delivered = json_of(k.admin("GET", "/api/v1/notifications?outcome=delivered"))["notifications"];
    if (!delivered.empty()) break;
    std::this_thread::sleep_for(25ms);
  }
  ASSERT_EQ(delivered.size(), 1u);
  EXPECT_THAT(k.get("/metrics").body,
              HasSubstr("keel_alert_notification_delivery_seconds_count{receiver=\"pager\"} 1"));
  EXPECT_EQ(k.admin("GET", "/api/v1/notifications?outcome=lost").status, 400);
  EXPECT_EQ(k.admin("GET", "/api/v1/notifications?before=yesterday").status, 400);
  EXPECT_EQ(k.admin("GET", "/api/v1/notifications?receiver=a%20b").status, 400);

  // The log is in the store: a SIGKILL and a restart keep it.
  EXPECT_EQ(k.process().kill(), 128 + SIGKILL);
  k.start();
  const auto after = json_of(k.admin("GET", "/api/v1/notifications"))["notifications"];
  ASSERT_EQ(after.size(), 1u) << after;
  EXPECT_EQ(after[0]["outcome"], "delivered");
  const auto audit = json_of(k.admin("GET", "/admin/api/audit?limit=1000"))["entries"];
  bool requeue_audited = false;
  for (const auto& e : audit)
    requeue_audited |= e["action"] == "dead_letter.requeue";
  EXPECT_TRUE(requeue_audited);
}

TEST(Keeld, ItsOwnServerErrorsBecomeItsOwnErrorEvents) {
  keeld_instance k;
  for (int i = 0; i < 3; ++i)
    ASSERT_EQ(k.get("/simulate/error").status, 500);
  nlohmann::json stats;
  for (int i = 0; i < 200; ++i) {
    stats = json_of(k.admin("GET", "/admin/api/monitoring/errors/stats"));
    if (stats["by_service"].value("keeld-test", 0) >= 3) break;
    std::this_thread::sleep_for(25ms);
  }
  EXPECT_EQ(stats["by_service"].value("keeld-test", 0), 3) << stats;
  EXPECT_EQ(stats["by_code"].value("INTERNAL_ERROR", 0), 3) << stats;
}

TEST(Keeld, IssueStatesComeBackAfterSigkill) {
  keeld_instance k;
  auto first = json_of(k.post_json("/api/v1/events", kEvent));
  const auto resolved = first["events"][0]["issue"].get<std::string>();
  auto second = json_of(k.post_json(
      "/api/v1/events", R"({"service":"search","code":"TIMEOUT","message":"upstream slow"})"));
  const auto ignored = second["events"][0]["issue"].get<std::string>();
  ASSERT_EQ(k.admin("POST", "/api/v1/issues/" + resolved + "/resolve").status, 200);
  ASSERT_EQ(k.admin("POST", "/api/v1/issues/" + ignored + "/ignore?count=5").status, 200);
  EXPECT_EQ(k.process().kill(), 128 + SIGKILL);
  k.start();
  EXPECT_EQ(json_of(k.admin("GET", "/api/v1/issues/" + resolved))["status"], "resolved");
  EXPECT_EQ(json_of(k.admin("GET", "/api/v1/issues/" + ignored))["status"], "ignored");
  // A new event of the resolved issue is a regression, as before the kill.
  auto again = json_of(k.post_json("/api/v1/events", kEvent));
  EXPECT_EQ(again["events"][0]["regression"], true) << again;
}

TEST(Keeld, ErrorStatsAndRecentErrorsComeBackAfterSigkill) {
  keeld_instance k;
  for (int i = 0; i < 4; ++i)
    ASSERT_EQ(k.post_json("/api/v1/events", kEvent).status, 202);
  EXPECT_EQ(k.process().kill(), 128 + SIGKILL);
  k.start();
  auto stats = json_of(k.admin("GET", "/admin/api/monitoring/errors/stats"));
  EXPECT_EQ(stats["by_code"].value("DATABASE_ERROR", 0), 4) << stats;
  auto recent = json_of(k.admin("GET", "/admin/api/monitoring/logs/recent-errors?limit=10"));
  EXPECT_EQ(recent["errors"].size(), 4u) << recent;
}

TEST(Keeld, RulesChangedThroughTheApiSurviveSigkill) {
  keeld_instance k(test_config(R"yaml(
alerting:
  rules:
    - alert: FromFile
      events: {window: 5m, at_least: 1}
)yaml"));
  ASSERT_EQ(k.admin("POST", "/api/v1/rules",
                    "rules:\n  - alert: FromApi\n    events: {window: 5m, at_least: 1}\n",
                    "application/yaml")
                .status,
            201);
  const std::string doomed = "FromFile";
  ASSERT_EQ(k.admin("DELETE", "/api/v1/rules/" + doomed).status, 204);

  EXPECT_EQ(k.process().kill(), 128 + SIGKILL);
  k.start();
  const auto rule_names = [&] {
    std::vector<std::string> out;
    const auto listed = json_of(k.admin("GET", "/api/v1/rules"));  // outlives the loop
    for (const auto& r : listed["rules"])
      out.push_back(r["name"].get<std::string>());
    return out;
  };
  auto names = rule_names();
  EXPECT_THAT(names, ::testing::Contains("FromApi"));
  EXPECT_THAT(names, ::testing::Not(::testing::Contains(doomed)));

  // SIGHUP: the file's configuration again, whole.
  ::kill(k.process().pid(), SIGHUP);
  for (int i = 0; i < 100; ++i) {
    names = rule_names();
    if (std::find(names.begin(), names.end(), doomed) != names.end()) break;
    std::this_thread::sleep_for(25ms);
  }
  EXPECT_THAT(names, ::testing::Contains(doomed));
  EXPECT_THAT(names, ::testing::Not(::testing::Contains("FromApi")));
}

// Alertmanager #2370: a firing alert is neither re-paged nor forgotten
// after a crash.
TEST(Keeld, FiringAlertAndItsIncidentSurviveSigkillWithoutASecondPage) {
  keel::alert::testing::test_http_server hook;
  hook.listen();
  keeld_instance k(test_config(R"yaml(
alerting:
  rules:
    - alert: CheckoutErrors
      events: {matchers: ['service="checkout"'], window: 10m, at_least: 1}
  receivers:
    - {name: team, webhook: {url: ")yaml" +
                               hook.url("/team") + R"yaml("}}
  route: {receiver: team, group_wait: 0s}
)yaml"));
  ASSERT_EQ(k.post_json("/api/v1/events", kEvent).status, 202);
  for (int i = 0; i < 200 && hook.accepted().empty(); ++i)
    std::this_thread::sleep_for(25ms);
  ASSERT_EQ(hook.accepted().size(), 1u);
  const auto firing_at = json_of(k.admin("GET", "/api/v1/alerts"))["alerts"][0];
  const auto incidents_before = json_of(k.admin("GET", "/api/v1/incidents"))["incidents"];
  ASSERT_EQ(incidents_before.size(), 1u);

  EXPECT_EQ(k.process().kill(), 128 + SIGKILL);
  k.start();
  // Several evaluation cycles (200 ms each) of the restarted keeld.
  nlohmann::json alerts;
  for (int i = 0; i < 40; ++i) {
    alerts = json_of(k.admin("GET", "/api/v1/alerts"))["alerts"];
    std::this_thread::sleep_for(25ms);
  }
  ASSERT_EQ(alerts.size(), 1u) << alerts;
  EXPECT_EQ(alerts[0]["state"], "firing");
  EXPECT_EQ(alerts[0].value("fired_at", ""), firing_at.value("fired_at", "")) << alerts;
  EXPECT_EQ(hook.accepted().size(), 1u);  // no second page
  // Its incident too, with its id and timeline.
  const auto incidents = json_of(k.admin("GET", "/api/v1/incidents"))["incidents"];
  ASSERT_EQ(incidents.size(), 1u) << incidents;
  EXPECT_EQ(incidents[0]["id"], incidents_before[0]["id"]);
  EXPECT_EQ(incidents[0]["state"], "open");
}

TEST(Keeld, SighupReloadsRules) {
  keeld_instance k;
  EXPECT_TRUE(json_of(k.admin("GET", "/api/v1/rules"))["rules"].empty());
  std::ofstream(k.config_file(), std::ios::app)
      << "alerting:\n  rules:\n    - alert: Reloaded\n      events: {window: 1m, at_least: 5}\n";
  k.process().signal(SIGHUP);
  nlohmann::json rules;
  for (int i = 0; i < 100; ++i) {
    rules = json_of(k.admin("GET", "/api/v1/rules"))["rules"];
    if (!rules.empty()) break;
    std::this_thread::sleep_for(25ms);
  }
  ASSERT_EQ(rules.size(), 1u);
  EXPECT_EQ(rules[0]["name"], "Reloaded");
}

// A SIGHUP applies the whole alerting document and the targets: the new
// route sends to the new receiver, the new inhibit rule mutes, and the new
// target is probed.
TEST(Keeld, SighupReloadsRoutesReceiversInhibitRulesAndTargets) {
  keel::alert::testing::test_http_server old_hook;
  old_hook.listen();
  keel::alert::testing::test_http_server new_hook;
  new_hook.listen();
  const std::string rules = R"yaml(
  rules:
    - alert: CheckoutErrors
      events: {matchers: ['service="checkout"'], window: 1m, at_least: 1}
      labels: {severity: high}
    - alert: CheckoutDown
      events: {matchers: ['service="checkout"'], window: 1m, at_least: 1}
      labels: {severity: critical}
)yaml";
  keeld_instance k(test_config("alerting:" + rules + R"yaml(
  receivers:
    - {name: old, webhook: {url: ")yaml" +
                               old_hook.url("/old") + R"yaml("}}
  route: {receiver: old, group_wait: 0s}
)yaml"));
  const loopback_socket db(/*listening=*/true);
  std::ofstream(k.config_file(), std::ios::trunc)
      << test_config("alerting:" + rules + R"yaml(
  receivers:
    - {name: new, webhook: {url: ")yaml" +
                     new_hook.url("/new") + R"yaml("}}
  route: {receiver: new, group_wait: 0s}
  inhibit_rules:
    - {source_matchers: ['severity="critical"'], target_matchers: ['severity="high"']}
targets:
  - {name: db, tcp: 127.0.0.1:)yaml" +
                     std::to_string(db.port()) +
                     R"yaml(, interval: 200ms, timeout: 100ms}
)yaml");
  k.process().signal(SIGHUP);
  nlohmann::json services;
  for (int i = 0; i < 200; ++i) {
    services = json_of(k.admin("GET", "/admin/api/monitoring/health/services"))["services"];
    if (!services.empty() && services[0]["status"] == "up") break;
    std::this_thread::sleep_for(25ms);
  }
  ASSERT_EQ(services.size(), 1u) << services;
  EXPECT_EQ(services[0]["name"], "db");
  EXPECT_EQ(services[0]["status"], "up") << services;

  wait_for_evaluations(k);
  ASSERT_EQ(k.post_json("/api/v1/events", kEvent).status, 202);
  for (int i = 0; i < 200 && new_hook.accepted().empty(); ++i)
    std::this_thread::sleep_for(25ms);
  ASSERT_EQ(new_hook.accepted().size(), 1u);
  const auto body = nlohmann::json::parse(new_hook.accepted()[0].body);
  ASSERT_EQ(body["alerts"].size(), 1u) << body;  // CheckoutErrors is inhibited
  EXPECT_EQ(body["alerts"][0]["labels"]["alertname"], "CheckoutDown");
  wait_for_evaluations(k);  // a few more cycles: nothing for the muted one, nothing old
  EXPECT_EQ(new_hook.accepted().size(), 1u);
  EXPECT_TRUE(old_hook.requests().empty());
}

// A SIGHUP whose file is bad changes nothing and says so where operators
// look: an error line, a metric, an error event of keeld's own. A good file
// that changes a setting only a restart applies is reloaded with a warn
// line naming that setting.
TEST(Keeld, FailedReloadIsLoggedCountedAndReportedAndRestartOnlySettingsAreNamed) {
  keeld_instance k;
  auto log_text = [&] {
    std::ifstream in(k.data_dir() / "logs" / "keeld.log");
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  auto wait_for_metric = [&](const std::string& sample) {
    std::string m;
    for (int i = 0; i < 200; ++i) {
      m = k.get("/metrics").body;
      if (m.find(sample) != std::string::npos) break;
      std::this_thread::sleep_for(25ms);
    }
    return m;
  };
  EXPECT_THAT(k.get("/metrics").body, HasSubstr("keeld_config_last_reload_successful 1"));
  std::ofstream(k.config_file(), std::ios::app) << "alerting: {rules: [unclosed\n";
  k.process().signal(SIGHUP);
  auto m = wait_for_metric("keeld_config_reloads_total{outcome=\"error\"} 1");
  EXPECT_THAT(m, HasSubstr("keeld_config_reloads_total{outcome=\"error\"} 1"));
  EXPECT_THAT(m, HasSubstr("keeld_config_last_reload_successful 0"));
  EXPECT_THAT(log_text(), HasSubstr("\"message\":\"configuration not reloaded"));
  nlohmann::json stats;
  for (int i = 0; i < 200; ++i) {
    stats = json_of(k.admin("GET", "/admin/api/monitoring/errors/stats"));
    if (stats["by_service"].value("keeld-test", 0) > 0) break;
    std::this_thread::sleep_for(25ms);
  }
  EXPECT_EQ(stats["by_service"].value("keeld-test", 0), 1) << stats;

  std::string changed = test_config();
  changed.replace(changed.find("shutdown_grace: 5s"), 18, "shutdown_grace: 7s");
  std::ofstream(k.config_file(), std::ios::trunc) << changed;
  k.process().signal(SIGHUP);
  m = wait_for_metric("keeld_config_reloads_total{outcome=\"ok\"} 1");
  EXPECT_THAT(m, HasSubstr("keeld_config_reloads_total{outcome=\"ok\"} 1"));
  EXPECT_THAT(m, HasSubstr("keeld_config_last_reload_successful 1"));
  std::string log;
  for (int i = 0; i < 200 && log.find("take effect only at restart") == std::string::npos; ++i) {
    std::this_thread::sleep_for(25ms);
    log = log_text();
  }
  EXPECT_THAT(log, HasSubstr("\"restart_needed\":\"server.shutdown_grace\""));
}

TEST(Keeld, ProbesMonitoredTargets) {
  const loopback_socket up(/*listening=*/true);
  const loopback_socket down(/*listening=*/false);
  const int up_port = up.port();
  const int down_port = down.port();
  keeld_instance k(
      test_config("targets:\n  - {name: db, tcp: 127.0.0.1:" + std::to_string(up_port) +
                  ", interval: 200ms, timeout: 100ms}\n"
                  "  - {name: billing, url: 'http://127.0.0.1:" +
                  std::to_string(down_port) + "/health', interval: 200ms, timeout: 100ms}\n"));
  nlohmann::json services;
  for (int i = 0; i < 100; ++i) {
    services = json_of(k.admin("GET", "/admin/api/monitoring/health/services"))["services"];
    if (services.size() == 2 && services[0]["status"] != "unknown" &&
        services[1]["status"] != "unknown") {
      break;
    }
    std::this_thread::sleep_for(50ms);
  }
  ASSERT_EQ(services.size(), 2u);
  EXPECT_EQ(services[0]["name"], "db");
  EXPECT_EQ(services[0]["status"], "up") << services;
  EXPECT_EQ(services[1]["status"], "down") << services;
  const std::string metrics = k.get("/metrics").body;
  EXPECT_THAT(metrics, HasSubstr("probe_success{target=\"db\"} 1"));
  // Probes run through a retry and a breaker that report (keel::reporting).
  EXPECT_THAT(metrics, HasSubstr("keel_breaker_state{breaker=\"target:db\",state=\"closed\"} 1"));
  EXPECT_THAT(metrics, HasSubstr("keel_retry_attempts_total{policy=\"target:billing\","
                                 "code=\"SERVICE_UNAVAILABLE\"}"));
  EXPECT_THAT(metrics, HasSubstr("keel_breaker_failures_total{breaker=\"target:billing\","
                                 "code=\"SERVICE_UNAVAILABLE\"}"));
  // billing is not critical: keeld reports itself degraded, still serving.
  EXPECT_EQ(json_of(k.get("/health"))["status"], "warn");
}

// Issue 19 #5 and #9: deep YAML costs nothing, duplicate keys and paths
// read right, and a directory is not a configuration file.
TEST(Keeld, HostileYamlIsRefusedCheaplyAndPlainly) {
  keeld_instance k;
  const std::string deep = std::string(20'000, '[') + std::string(20'000, ']');
  for (const char* path : {"/api/v1/rules", "/admin/api/monitoring/alerts/configure"}) {
    const auto r = k.admin("POST", path, deep, "application/yaml");
    EXPECT_EQ(r.status, 400) << path;
    EXPECT_THAT(r.body, HasSubstr("nests deeper than 64"));
  }
  const auto dup = k.admin("POST", "/api/v1/rules",
                           "rules:\n  - alert: A\n    alert: B\n    events: {at_least: 1}\n",
                           "application/yaml");
  EXPECT_EQ(dup.status, 400);
  EXPECT_THAT(dup.body, HasSubstr("duplicate key 'alert'")) << dup.body;
  EXPECT_EQ(k.get("/health").status, 200);

  keel::testing::temp_dir d("keeld-cfgdir");
  keel::testing::child_process dir(KEELD_BINARY, {"check-config", d.path().string()}, {},
                                   d.path() / "dir.out");
  EXPECT_EQ(dir.wait(), 1);
  std::ofstream(d.path() / "bad.yaml") << "alerting:\n  bogus_key: 1\n";
  keel::testing::child_process bad(KEELD_BINARY, {"check-config", (d.path() / "bad.yaml").string()},
                                   {}, d.path() / "bad.out");
  EXPECT_EQ(bad.wait(), 1);
  std::ifstream in(d.path() / "bad.out");
  const std::string out(std::istreambuf_iterator<char>(in), {});
  EXPECT_THAT(out, HasSubstr("alerting.bogus_key: unknown key"));
  EXPECT_THAT(out, ::testing::Not(HasSubstr("..")));
}

TEST(Keeld, CheckConfigNamesTheLineOfAnError) {
  keel::testing::temp_dir d("keeld-cc");
  std::ofstream(d.path() / "good.yaml") << test_config();
  std::ofstream(d.path() / "bad.yaml") << "server:\n  listen: 127.0.0.1:80\n  io_thread: 2\n";
  keel::testing::child_process good(
      KEELD_BINARY, {"check-config", (d.path() / "good.yaml").string()}, {}, d.path() / "good.out");
  EXPECT_EQ(good.wait(), 0);
  keel::testing::child_process bad(KEELD_BINARY, {"check-config", (d.path() / "bad.yaml").string()},
                                   {}, d.path() / "bad.out");
  EXPECT_EQ(bad.wait(), 1);
  std::ifstream in(d.path() / "bad.out");
  const std::string out(std::istreambuf_iterator<char>(in), {});
  EXPECT_THAT(out, HasSubstr("line 3, column 3: server.io_thread: unknown key 'io_thread'"));
}

TEST(Keeld, VersionComesFromTheBuildAndUsageErrorsExitTwo) {
  keel::testing::temp_dir d("keeld-version");
  keel::testing::child_process v(KEELD_BINARY, {"--version"}, {}, d.path() / "version.out");
  EXPECT_EQ(v.wait(), 0);
  std::ifstream in(d.path() / "version.out");
  const std::string out(std::istreambuf_iterator<char>(in), {});
  EXPECT_EQ(out, "keeld " KEEL_VERSION "\n");
  keel::testing::child_process bad(KEELD_BINARY, {"--no-such-flag"}, {}, d.path() / "bad.out");
  EXPECT_EQ(bad.wait(), 2);
  // A token that cannot travel in a header is a usage error, not a crash.
  keel::testing::child_process token(
      KEELD_BINARY, {"--listen", "127.0.0.1:0", "--data-dir", (d.path() / "var").string()},
      {{"KEEL_ADMIN_TOKEN", "abcdefghijklmnop\x7f"}}, d.path() / "token.out");
  EXPECT_EQ(token.wait(), 2);
  std::ifstream in2(d.path() / "token.out");
  const std::string said(std::istreambuf_iterator<char>(in2), {});
  EXPECT_THAT(said, HasSubstr("KEEL_ADMIN_TOKEN: must be 16..256 visible ASCII characters"));
}

namespace keeld::testing {
namespace {

// The seeds' first rule, as config/keeld.yaml has it.
constexpr const char* kSeedErrorRule = R"yaml(
alerting:
  rules:
    - alert: HighErrorRate
      ratio:
        numerator: {metric: http_requests_total, matchers: ['status=~"5.."']}
        denominator: http_requests_total
        by: []
        above: 0.05
        min_denominator: 100
      labels: {severity: high, service: monitoring-api}
)yaml";

TEST(Keeld, RequestsAreCountedTimedAndLoggedWithTheirRequestId) {
  keeld_instance k;
  auto r = k.get("/simulate/error", {"X-Request-ID: 7f3d9a2b4c1e4f5a8b6c7d8e9f0a1b2c"});
  EXPECT_EQ(r.headers["x-request-id"], "7f3d9a2b4c1e4f5a8b6c7d8e9f0a1b2c");
  EXPECT_EQ(k.get("/").status, 200);
  const auto metrics = k.get("/metrics").body;
  EXPECT_THAT(metrics, HasSubstr(R"(http_requests_total{method="GET",route="/",status="200"} 1)"));
  EXPECT_THAT(
      metrics,
      HasSubstr(R"(http_requests_total{method="GET",route="/simulate/error",status="500"} 1)"));
  EXPECT_THAT(metrics, HasSubstr(R"(http_request_duration_seconds_count{route="/"} 1)"));

  // The access log line of that request, and the error line the boundary
  // wrote, both carry its request id (the log is asynchronous: wait for it).
  std::string log;
  for (int i = 0; i < 100; ++i) {
    std::ifstream in(k.data_dir() / "logs" / "keeld.log");
    log.assign(std::istreambuf_iterator<char>(in), {});
    if (log.find(R"("route":"/simulate/error")") != std::string::npos) break;
    std::this_thread::sleep_for(50ms);
  }
  std::size_t access_lines = 0;
  std::istringstream lines(log);
  for (std::string line; std::getline(lines, line);) {
    const auto j = nlohmann::json::parse(line, nullptr, false);
    ASSERT_TRUE(j.is_object()) << line;  // every line is valid JSON
    if (j.value("logger", "") == "http.access" && j.value("route", "") == "/simulate/error") {
      ++access_lines;
      EXPECT_EQ(j["request_id"], "7f3d9a2b4c1e4f5a8b6c7d8e9f0a1b2c");
      EXPECT_EQ(j["status"], 500);
      EXPECT_EQ(j["level"], "error");
    }
  }
  EXPECT_EQ(access_lines, 1u) << log;
}

TEST(Keeld, SeedErrorRateRuleFiresFromKeeldsOwnHttpMetrics) {
  keeld_instance k(test_config(kSeedErrorRule));
  wait_for_evaluations(k, 150ms);  // the rule binds before the traffic (see above)
  for (int i = 0; i < 110; ++i)
    ASSERT_EQ(k.get("/simulate/error").status, 500);
  nlohmann::json alerts;
  for (int i = 0; i < 100; ++i) {
    alerts = json_of(k.admin("GET", "/api/v1/alerts"))["alerts"];
    if (!alerts.empty() && alerts[0]["state"] == "firing") break;
    std::this_thread::sleep_for(50ms);
  }
  ASSERT_EQ(alerts.size(), 1u) << alerts;
  EXPECT_EQ(alerts[0]["rule"], "HighErrorRate");
  // 5xx over all requests (the polling GETs count too): far above 5 %.
  EXPECT_GT(alerts[0]["value"].get<double>(), 0.9);
  EXPECT_THAT(k.get("/metrics").body,
              HasSubstr(R"(ALERTS{alertname="HighErrorRate",alertstate="firing")"));
}

}  // namespace
}  // namespace keeld::testing

namespace keeld::testing {
namespace {

// keel load (issue 8) against keeld: what the load generator counted is
// what keeld's own metrics counted, per endpoint and per status.
TEST(KeelLoad, CountsMatchKeeldsOwnMetrics) {
  keeld_instance k;
  keel::testing::temp_dir d("keel-load");
  keel::testing::child_process load(
      KEEL_CLI_BINARY,
      {"load", "--scenario", "seed", "--error-share", "0.3", "-c", "4", "-n", "200", "--json",
       "--seed", "7", "--no-progress", k.url("")},
      {}, d.path() / "load.json");
  ASSERT_EQ(load.wait(), 0);
  std::ifstream in(d.path() / "load.json");
  const auto report = nlohmann::json::parse(in, nullptr, false);
  ASSERT_TRUE(report.is_object());
  EXPECT_EQ(report["total"], 200);

  std::map<std::string, long> by_route, by_status;
  std::istringstream metrics(k.get("/metrics").body);
  for (std::string line; std::getline(metrics, line);) {
    if (!line.starts_with("http_requests_total{")) continue;
    const auto route = line.substr(line.find("route=\"") + 7);
    const auto status = line.substr(line.find("status=\"") + 8, 3);
    const long n = std::stol(line.substr(line.rfind(' ') + 1));
    by_route[route.substr(0, route.find('"'))] += n;
    by_status[status] += n;
  }
  for (const auto& e : report["endpoints"]) {
    const std::string name = e["name"];  // "GET /health"
    EXPECT_EQ(by_route[name.substr(4)], e["requests"].get<long>()) << name;
  }
  for (const auto& [status, n] : report["status_counts"].items()) {
    EXPECT_EQ(by_status[status], n.get<long>()) << status;
  }
}

}  // namespace
}  // namespace keeld::testing

// Issue 19 #12: a browser console on another origin can call the API once
// its origin is configured, and only then.
TEST(Keeld, BrowserPagesCallTheApiOnlyFromConfiguredOrigins) {
  const std::vector<std::string> preflight_post{
      "Origin: http://127.0.0.1:3000", "Access-Control-Request-Method: POST",
      "Access-Control-Request-Headers: content-type, idempotency-key, authorization"};
  {
    keeld_instance k;  // the default: no origin is allowed
    auto p = http_request("OPTIONS", k.url("/api/v1/events"), {}, preflight_post);
    EXPECT_EQ(p.status, 204);
    EXPECT_FALSE(p.headers.contains("access-control-allow-origin"));
    auto g = k.get("/health", {"Origin: http://127.0.0.1:3000"});
    EXPECT_EQ(g.status, 200);
    EXPECT_FALSE(g.headers.contains("access-control-allow-origin"));
    EXPECT_THAT(g.headers["vary"], HasSubstr("Origin"));
  }
  std::string config = test_config();
  const std::string limit = "  rate_limit: {requests_per_second: 10000, burst: 10000}\n";
  config.replace(config.find(limit), limit.size(),
                 limit + "  cors: {allowed_origins: [\"http://127.0.0.1:3000\"], max_age: 10m}\n");
  keeld_instance k(config);
  auto p = http_request("OPTIONS", k.url("/api/v1/events"), {}, preflight_post);
  EXPECT_EQ(p.status, 204);
  EXPECT_EQ(p.headers["access-control-allow-origin"], "http://127.0.0.1:3000");
  EXPECT_THAT(p.headers["access-control-allow-methods"], HasSubstr("POST"));
  EXPECT_THAT(p.headers["access-control-allow-headers"], HasSubstr("Idempotency-Key"));
  EXPECT_EQ(p.headers["access-control-max-age"], "600");
  // The admin API: the preflight needs no token, the call does, and its
  // 401 is readable by the page.
  auto admin_preflight =
      http_request("OPTIONS", k.url("/api/v1/rules"), {},
                   {"Origin: http://127.0.0.1:3000", "Access-Control-Request-Method: GET",
                    "Access-Control-Request-Headers: authorization"});
  EXPECT_EQ(admin_preflight.status, 204);
  EXPECT_EQ(admin_preflight.headers["access-control-allow-origin"], "http://127.0.0.1:3000");
  auto refused = k.get("/api/v1/rules", {"Origin: http://127.0.0.1:3000"});
  expect_problem(refused, 401, "AUTHENTICATION_REQUIRED");
  EXPECT_EQ(refused.headers["access-control-allow-origin"], "http://127.0.0.1:3000");
  EXPECT_THAT(refused.headers["access-control-expose-headers"], HasSubstr("Retry-After"));
  auto allowed = k.get("/api/v1/rules", {"Origin: http://127.0.0.1:3000",
                                         std::string("Authorization: Bearer ") + kToken});
  EXPECT_EQ(allowed.status, 200);
  EXPECT_EQ(allowed.headers["access-control-allow-origin"], "http://127.0.0.1:3000");
  // Any other page: served (CORS protects the browser's user, not the
  // server) but without a header that lets the page read it.
  auto other = k.get("/api/v1/rules", {"Origin: http://127.0.0.1:3001",
                                       std::string("Authorization: Bearer ") + kToken});
  EXPECT_EQ(other.status, 200);
  EXPECT_FALSE(other.headers.contains("access-control-allow-origin"));
  auto other_preflight = http_request("OPTIONS", k.url("/api/v1/events"), {},
                                      {"Origin: null", "Access-Control-Request-Method: POST"});
  EXPECT_FALSE(other_preflight.headers.contains("access-control-allow-origin"));
}

// The first run without KEEL_ADMIN_TOKEN: a 256-bit token, saved 0600,
// printed once on stderr and never written into the log; later runs read
// it back and print nothing. KEEL_ADMIN_TOKEN of fewer than 16 characters
// is refused naming the variable.
TEST(Keeld, FirstRunTokenIsSavedOwnerOnlyPrintedOnceAndNeverLogged) {
  keeld_instance k(test_config(), {}, {}, /*with_token=*/false);
  const auto file = k.data_dir() / "admin_token";
  struct stat st {};
  ASSERT_EQ(::stat(file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  std::string token;
  std::getline(std::ifstream(file) >> std::ws, token);
  EXPECT_EQ(token.size(), 64u);
  EXPECT_EQ(token.find_first_not_of("0123456789abcdef"), std::string::npos) << token;
  const auto occurrences = [&](const std::string& text) {
    std::size_t n = 0;
    for (auto at = text.find(token); at != std::string::npos; at = text.find(token, at + 1))
      ++n;
    return n;
  };
  EXPECT_EQ(occurrences(k.output()), 1u) << "printed once on stderr";
  const auto bearer = std::vector<std::string>{"Authorization: Bearer " + token};
  EXPECT_EQ(http_request("GET", k.url("/api/v1/rules"), {}, bearer).status, 200);
  EXPECT_EQ(k.get("/api/v1/rules").status, 401);

  EXPECT_EQ(k.process().kill(), 128 + SIGKILL);
  k.start();
  EXPECT_EQ(http_request("GET", k.url("/api/v1/rules"), {}, bearer).status, 200);
  EXPECT_EQ(occurrences(k.output()), 1u) << "a later run prints it again";
  k.process().signal(SIGTERM);
  EXPECT_EQ(k.process().wait(), 0);
  std::ifstream in(k.data_dir() / "logs" / "keeld.log");
  const std::string log(std::istreambuf_iterator<char>(in), {});
  EXPECT_THAT(log, HasSubstr("admin token generated"));
  EXPECT_EQ(occurrences(log), 0u) << "the token reached the log";

  keel::testing::temp_dir other("keeld-short-token");
  std::ofstream(other.path() / "keeld.yaml") << test_config();
  keel::testing::child_process short_token(KEELD_BINARY,
                                           {"--config", (other.path() / "keeld.yaml").string(),
                                            "--data-dir", (other.path() / "var").string()},
                                           {{"KEEL_ADMIN_TOKEN", "fifteen-chars!!"}},
                                           other.path() / "out");
  EXPECT_EQ(short_token.wait(), 2);
  std::ifstream out_file(other.path() / "out");
  const std::string out(std::istreambuf_iterator<char>(out_file), {});
  EXPECT_THAT(out, HasSubstr("KEEL_ADMIN_TOKEN"));
  EXPECT_THAT(out, HasSubstr("16..256"));
  EXPECT_THAT(out, ::testing::Not(HasSubstr("fifteen-chars!!")));  // a secret is not echoed
}

// A receiver that hangs holds only its own delivery worker: another
// receiver of the same alert gets it at once, long before the hung one's
// 10 s timeout.
TEST(Keeld, HungReceiverDoesNotDelayTheOthers) {
  keel::alert::testing::test_http_server hung;
  hung.listen();
  hung.hang();
  keel::alert::testing::test_http_server fast;
  fast.listen();
  keeld_instance k(test_config(R"yaml(
alerting:
  rules:
    - alert: CheckoutErrors
      events: {matchers: ['service="checkout"'], window: 1m, at_least: 1}
  receivers:
    - {name: hung, webhook: {url: ")yaml" +
                               hung.url("/hung") + R"yaml("}, timeout: 10s}
    - {name: fast, webhook: {url: ")yaml" +
                               fast.url("/fast") + R"yaml("}}
  route:
    receiver: hung
    group_wait: 0s
    routes:
      - {matchers: ['alertname="CheckoutErrors"'], receiver: hung, continue: true}
      - {matchers: ['alertname="CheckoutErrors"'], receiver: fast}
)yaml"));
  wait_for_evaluations(k);
  ASSERT_EQ(k.post_json("/api/v1/events", kEvent).status, 202);
  // Both are tried; the fast one answers while the hung one holds its request.
  for (int i = 0; i < 200 && (fast.accepted().empty() || hung.requests().empty()); ++i)
    std::this_thread::sleep_for(25ms);
  ASSERT_FALSE(hung.requests().empty()) << "the hung receiver was never tried";
  ASSERT_EQ(fast.accepted().size(), 1u);
  EXPECT_EQ(fast.accepted()[0].target, "/fast");
  EXPECT_EQ(hung.accepted().size(), 0u);  // still hanging, within its timeout
}

}  // namespace
}  // namespace keeld::testing
