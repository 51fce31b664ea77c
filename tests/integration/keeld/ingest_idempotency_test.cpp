// Exactly-once ingest (issue 19 #14): a client whose 202 was lost to a
// crash retries with the same Idempotency-Key (a batch) or event_id (an
// event, as Sentry's SDKs send), and nothing is stored twice.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <signal.h>

#include <future>
#include <random>
#include <string>

#include "keeld_fixture.hpp"

namespace keeld::testing {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

std::string batch_of(int batch, int size) {
  std::string body = "[";
  for (int i = 0; i < size; ++i) {
    body += std::string(i ? "," : "") +
            R"({"service":"checkout","code":"TIMEOUT","message":"call )" +
            std::to_string(batch * 1000 + i) + R"( timed out"})";
  }
  return body + "]";
}

http_result post_batch(const std::string& url, const std::string& body, const std::string& key) {
  return http_request("POST", url, body,
                      {"Content-Type: application/json", "Idempotency-Key: " + key}, 5'000);
}

std::uint64_t issue_count(const keeld_instance& k) {
  const auto issues = json_of(k.admin("GET", "/api/v1/issues"));
  return issues["issues"].empty() ? 0 : issues["issues"][0]["count"].get<std::uint64_t>();
}

TEST(KeeldIngest, RetriedBatchIsAnsweredAgainButStoredOnceAcrossSigkill) {
  keeld_instance k;
  const std::string body = batch_of(1, 100);
  auto first = post_batch(k.url("/api/v1/events"), body, "\"batch-0001\"");  // an sf-string
  ASSERT_EQ(first.status, 202) << first.body;
  EXPECT_EQ(json_of(first)["duplicates"], 0);

  EXPECT_EQ(k.process().kill(), 128 + SIGKILL);  // the answer "lost"
  k.start();
  auto retry = post_batch(k.url("/api/v1/events"), body, "batch-0001");  // bare: the same key
  ASSERT_EQ(retry.status, 202) << retry.body;
  const auto j = json_of(retry);
  EXPECT_EQ(j["accepted"], 100);
  EXPECT_EQ(j["duplicates"], 100);
  EXPECT_EQ(j["events"][0]["duplicate"], true);
  EXPECT_EQ(j["events"][0]["count"], 100);  // the group as stored
  EXPECT_EQ(issue_count(k), 100u);

  // The same key for another body is the client's bug, said so.
  auto reused = post_batch(k.url("/api/v1/events"), batch_of(2, 3), "batch-0001");
  EXPECT_EQ(reused.status, 422) << reused.body;
  EXPECT_THAT(reused.body, HasSubstr("Idempotency-Key"));
  for (const std::string& bad :
       {std::string(300, 'k'), std::string("two words"), std::string("\"\"")}) {
    auto r = post_batch(k.url("/api/v1/events"), body, bad);
    EXPECT_EQ(r.status, 400) << bad << ": " << r.body;
    EXPECT_THAT(json_of(r)["details"].value("problem", ""), HasSubstr("Idempotency-Key"));
  }
  EXPECT_EQ(issue_count(k), 100u);
  EXPECT_THAT(k.get("/metrics").body,
              HasSubstr("keel_alert_events_rejected_total{reason=\"duplicate\"} 100"));
}

TEST(KeeldIngest, EventIdsAreStoredOnceLikeSentrysEventId) {
  keeld_instance k;
  const std::string event =
      R"({"event_id":"fc6d8c0c43fc4630ad850ee518f1b9d0","service":"web","code":"TIMEOUT",)"
      R"("message":"upstream timed out"})";
  auto a = k.post_json("/api/v1/events", event);
  ASSERT_EQ(a.status, 202) << a.body;
  EXPECT_FALSE(json_of(a)["events"][0].contains("duplicate"));
  auto b = k.post_json("/api/v1/events", "[" + std::string(event) + "," + event + "]");
  ASSERT_EQ(b.status, 202) << b.body;
  EXPECT_EQ(json_of(b)["duplicates"], 2);
  EXPECT_EQ(issue_count(k), 1u);
  const auto recent = json_of(k.admin("GET", "/admin/api/monitoring/logs/recent-errors?limit=5"));
  ASSERT_EQ(recent["errors"].size(), 1u);
  auto bad =
      k.post_json("/api/v1/events",
                  R"({"event_id":"no spaces","service":"web","code":"TIMEOUT","message":"m"})");
  EXPECT_EQ(bad.status, 422) << bad.body;
  EXPECT_THAT(bad.body, HasSubstr("event_id"));
}

// The issue's measurement, made exact: batches sent while keeld is
// SIGKILLed at random moments mid-request; every batch whose answer did not
// arrive is retried with its key until it does. Without keys, 2-3 events
// per kill (up to a batch) were stored twice; with them, none.
TEST(KeeldIngest, BatchesRetriedAfterRandomSigkillsAreStoredExactlyOnce) {
  keeld_instance k;
  constexpr int kBatches = 40;
  constexpr int kSize = 25;
  std::mt19937 rng(19);
  int kills = 0;
  for (int b = 0; b < kBatches; ++b) {
    const std::string body = batch_of(b, kSize);
    const std::string key = "run-" + std::to_string(b);
    bool answered = false;
    for (int attempt = 0; attempt < 50 && !answered; ++attempt) {
      const std::string url = k.url("/api/v1/events");
      auto reply = std::async(std::launch::async, [&] { return post_batch(url, body, key); });
      if (b % 8 == 4 && attempt == 0) {  // crash while this batch is in flight
        std::this_thread::sleep_for(std::chrono::microseconds(rng() % 3000));
        EXPECT_EQ(k.process().kill(), 128 + SIGKILL);
        ++kills;
        (void)reply.get();  // whatever it got, the client does not know
        k.start();
        continue;
      }
      const auto r = reply.get();
      answered = r.status == 202;
    }
    ASSERT_TRUE(answered) << "batch " << b;
  }
  EXPECT_EQ(kills, 5);
  EXPECT_EQ(issue_count(k), std::uint64_t{kBatches * kSize});
  EXPECT_EQ(k.process().kill(), 128 + SIGKILL);
  k.start();  // the count as stored, not as counted in memory
  EXPECT_EQ(issue_count(k), std::uint64_t{kBatches * kSize});
}

}  // namespace
}  // namespace keeld::testing
