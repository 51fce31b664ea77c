// resilient_delivery_policy: keel::resilience's breaker and backoff driving
// the delivery_worker against a real local HTTP receiver, on a manual clock.
#include "keel/alert/resilient_delivery_policy.hpp"

#include <gtest/gtest.h>

#include <set>

#include "unit/alert/temp_dir.hpp"
#include "unit/alert/test_http_server.hpp"

namespace keel::alert {
namespace {

using namespace std::chrono_literals;
using keel::resilience::backoff_kind;
using keel::resilience::breaker_state;
using keel::resilience::jitter_kind;

notification note(int i, const keel::clock& clock) {
  alert a;
  a.rule = "HighErrorRate";
  a.labels = {{"alertname", "HighErrorRate"}, {"instance", std::to_string(i)}};
  a.state = alert_state::firing;
  a.active_since = a.fired_at = clock.system_now();
  notification n;
  n.receiver = "hook";
  n.group_key = "{}:{instance=\"" + std::to_string(i) + "\"}";
  n.id = "n-" + std::to_string(i);
  n.group_labels = a.labels;
  n.common_labels = a.labels;
  n.alerts = {a};
  return n;
}

// Retries every 1 s (no jitter, so the test knows when a message is due); the
// breaker opens after 3 failures in a window of 3, for 60 s, one trial.
resilient_delivery_options test_options() {
  return {.backoff = {.kind = backoff_kind::constant,
                      .initial = 1s,
                      .max = 1s,
                      .jitter = jitter_kind::none},
          .breaker = {.failure_rate_threshold = 0.5,
                      .window_size = 3,
                      .minimum_calls = 3,
                      .wait_in_open = 60s,
                      .permitted_calls_in_half_open = 1}};
}

class ResilientDelivery : public ::testing::Test {
 protected:
  void SetUp() override {
    st = store::open({.data_dir = dir.path()}, clock).value();
    box = std::make_unique<outbox>(*st);
    hook = {.name = "hook", .kind = receiver_kind::webhook, .url = server.url(), .timeout = 300ms};
    worker = std::make_unique<delivery_worker>(*box, http, policy, clock,
                                               std::vector<receiver_config>{hook});
  }
  void enqueue(int first, int n) {
    notifier nt(*box, {hook}, clock);
    for (int i = first; i < first + n; ++i)
      ASSERT_GT(nt.enqueue(note(i, clock)).value(), 0);
  }
  // Fails three attempts one second apart: the breaker opens.
  void open_the_breaker() {
    server.respond_with(503);
    for (int i = 0; i < 3; ++i) {
      ASSERT_EQ(worker->run_once("hook"), 1u);
      clock.advance(1s);
    }
    ASSERT_EQ(policy.breaker("hook")->state(), breaker_state::open);
  }
  std::multiset<std::string> accepted_dedup_keys() const {
    std::multiset<std::string> out;
    for (const auto& r : server.accepted())
      out.insert(r.headers.at("x-keel-dedup-key"));
    return out;
  }

  testing::temp_dir dir;
  manual_clock clock;
  std::unique_ptr<store> st;
  std::unique_ptr<outbox> box;
  testing::test_http_server server;
  receiver_config hook;
  curl_transport http;
  keel::resilience::breaker_registry breakers{{}, clock};
  seeded_random rng{42};
  resilient_delivery_policy policy{breakers, rng, test_options()};
  std::unique_ptr<delivery_worker> worker;
};

TEST_F(ResilientDelivery, FailingReceiverOpensItsBreaker) {
  server.listen();
  enqueue(0, 1);
  open_the_breaker();
  EXPECT_EQ(server.requests().size(), 3u);
  EXPECT_EQ(worker->counters("hook").failures, 3u);
}

TEST_F(ResilientDelivery, OpenBreakerStopsDeliveryHammeringTheReceiver) {
  server.listen();
  enqueue(0, 2);
  open_the_breaker();
  for (int i = 0; i < 58; ++i) {  // due every second, for the 60 s the breaker is open
    EXPECT_EQ(worker->run_once("hook"), 0u);
    clock.advance(1s);
  }
  EXPECT_EQ(server.requests().size(), 3u);
  EXPECT_EQ(worker->counters("hook").blocked, 58u);
  EXPECT_EQ(box->pending(10)->size(), 2u);  // queued, not lost
  EXPECT_TRUE(box->dead_letters(10)->empty());
}

TEST_F(ResilientDelivery, HalfOpenLetsOneTrialThroughAndReopensWhenItFails) {
  server.listen();
  enqueue(0, 2);
  open_the_breaker();
  clock.advance(60s);
  EXPECT_EQ(worker->run_once("hook"), 1u);  // the trial (503 again)
  EXPECT_EQ(server.requests().size(), 4u);
  EXPECT_EQ(policy.breaker("hook")->state(), breaker_state::open);
  clock.advance(1s);
  EXPECT_EQ(worker->run_once("hook"), 0u);  // open for another wait_in_open
  EXPECT_EQ(server.requests().size(), 4u);
}

TEST_F(ResilientDelivery, RecoveryDeliversEachQueuedMessageExactlyOnce) {
  server.listen();
  enqueue(0, 1);
  open_the_breaker();
  enqueue(1, 2);  // queued while the breaker is open
  clock.advance(30s);
  EXPECT_EQ(worker->run_once("hook"), 0u);
  server.respond_with(200);  // the receiver recovers
  clock.advance(30s);
  EXPECT_EQ(worker->run_once("hook"), 3u);  // the trial succeeds, the breaker closes, all go
  EXPECT_EQ(policy.breaker("hook")->state(), breaker_state::closed);
  clock.advance(1h);
  EXPECT_EQ(worker->run_once("hook"), 0u);
  const auto keys = accepted_dedup_keys();
  ASSERT_EQ(keys.size(), 3u);
  EXPECT_EQ(std::set<std::string>(keys.begin(), keys.end()).size(), 3u);  // once each
  EXPECT_TRUE(box->pending(10)->empty());
  EXPECT_EQ(worker->counters("hook").delivered, 3u);
}

TEST_F(ResilientDelivery, ReceiverThatIsDownOpensTheBreakerToo) {
  enqueue(0, 1);  // not listening: connection refused
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(worker->run_once("hook"), 1u);
    clock.advance(1s);
  }
  EXPECT_EQ(policy.breaker("hook")->state(), breaker_state::open);
  EXPECT_EQ(worker->run_once("hook"), 0u);
  server.listen();
  clock.advance(60s);
  EXPECT_EQ(worker->run_once("hook"), 1u);
  EXPECT_EQ(accepted_dedup_keys().size(), 1u);
}

TEST_F(ResilientDelivery, ClientErrorsAreAnswersAndDoNotOpenTheBreaker) {
  server.listen();
  server.respond_with(400);
  enqueue(0, 5);
  EXPECT_EQ(worker->run_once("hook"), 5u);  // each one dead-lettered, none retried
  EXPECT_EQ(policy.breaker("hook")->state(), breaker_state::closed);
  EXPECT_EQ(box->dead_letters(10)->size(), 5u);
}

TEST_F(ResilientDelivery, BreakerIsInTheRegistryWhereTheAdminApiCanResetIt) {
  server.listen();
  enqueue(0, 1);
  open_the_breaker();
  ASSERT_EQ(breakers.find("alert.receiver:hook"), policy.breaker("hook"));
  bool listed = false;
  for (const auto& s : breakers.snapshots())
    listed = listed || (s.name == "alert.receiver:hook" && s.state == breaker_state::open);
  EXPECT_TRUE(listed);
  ASSERT_TRUE(breakers.reset("alert.receiver:hook"));
  server.respond_with(200);
  EXPECT_EQ(worker->run_once("hook"), 1u);  // no wait: an operator closed it
  EXPECT_EQ(accepted_dedup_keys().size(), 1u);
}

TEST(ResilientDeliveryPolicy, NextDelayFollowsTheBackoffCurve) {
  manual_clock clock;
  keel::resilience::breaker_registry breakers({}, clock);
  seeded_random rng(1);
  resilient_delivery_policy p(breakers, rng,
                              {.backoff = {.kind = backoff_kind::exponential,
                                           .initial = 1s,
                                           .multiplier = 2,
                                           .max = 5s,
                                           .jitter = jitter_kind::none}});
  EXPECT_EQ(p.next_delay("r", 1, std::nullopt), 1s);
  EXPECT_EQ(p.next_delay("r", 2, std::nullopt), 2s);
  EXPECT_EQ(p.next_delay("r", 3, std::nullopt), 4s);
  EXPECT_EQ(p.next_delay("r", 4, std::nullopt), 5s);  // capped
}

TEST(ResilientDeliveryPolicy, RetryAfterRaisesTheDelayUpToItsCap) {
  manual_clock clock;
  keel::resilience::breaker_registry breakers({}, clock);
  seeded_random rng(1);
  resilient_delivery_policy p(breakers, rng,
                              {.backoff = {.kind = backoff_kind::constant,
                                           .initial = 10s,
                                           .max = 10s,
                                           .jitter = jitter_kind::none},
                               .max_retry_after = 5min});
  EXPECT_EQ(p.next_delay("r", 1, 120s), 120s);  // the receiver asked for longer
  EXPECT_EQ(p.next_delay("r", 1, 2s), 10s);     // never shorter than the backoff
  EXPECT_EQ(p.next_delay("r", 1, 24h), 5min);   // a hostile Retry-After is capped
}

TEST(ResilientDeliveryPolicy, StopsAfterMaxAttempts) {
  manual_clock clock;
  keel::resilience::breaker_registry breakers({}, clock);
  seeded_random rng(1);
  resilient_delivery_policy p(breakers, rng, {.max_attempts = 3});
  EXPECT_TRUE(p.next_delay("r", 2, std::nullopt).has_value());
  EXPECT_EQ(p.next_delay("r", 3, std::nullopt), std::nullopt);
}

TEST(ResilientDeliveryPolicy, FullJitterSpreadsDelaysBelowTheCurve) {
  manual_clock clock;
  keel::resilience::breaker_registry breakers({}, clock);
  seeded_random rng(7);
  resilient_delivery_policy p(breakers, rng,
                              {.backoff = {.kind = backoff_kind::constant,
                                           .initial = 10s,
                                           .max = 10s,
                                           .jitter = jitter_kind::full}});
  std::set<std::chrono::milliseconds> seen;
  for (int i = 0; i < 50; ++i) {
    const auto d = p.next_delay("r", 1, std::nullopt).value();
    EXPECT_GE(d, 0ms);
    EXPECT_LE(d, 10s);
    seen.insert(d);
  }
  EXPECT_GT(seen.size(), 40u);  // spread, not lock-step
}

TEST(ResilientDeliveryPolicy, ReceiverNamesBecomeValidBreakerNames) {
  manual_clock clock;
  keel::resilience::breaker_registry breakers({}, clock);
  seeded_random rng(1);
  resilient_delivery_policy p(breakers, rng);
  EXPECT_EQ(p.breaker_name("ops team/pager"), "alert.receiver:ops_team_pager");
  EXPECT_TRUE(p.allow("ops team/pager"));
  EXPECT_NE(breakers.find("alert.receiver:ops_team_pager"), nullptr);
  EXPECT_TRUE(p.allow(std::string(200, 'x')));  // too long for a breaker: unguarded, allowed
  EXPECT_EQ(p.unguarded(), 1u);
}

TEST(ResilientDeliveryPolicy, InvalidOptionsAreRefused) {
  manual_clock clock;
  keel::resilience::breaker_registry breakers({}, clock);
  seeded_random rng(1);
  EXPECT_THROW(resilient_delivery_policy(breakers, rng, {.breaker = {.minimum_calls = 0}}),
               keel::exception);
}

TEST(DeliveryError, MapsFailedAttemptsToTransientOrSystemicErrors) {
  EXPECT_EQ(delivery_error({.status = 503}, verdict::retry)->code(), codes::service_unavailable);
  EXPECT_EQ(delivery_error({.status = 0}, verdict::retry)->code(), codes::service_unavailable);
  EXPECT_EQ(delivery_error({.status = 0, .timed_out = true}, verdict::retry)->code(),
            codes::timeout);
  auto limited = delivery_error({.status = 429, .retry_after = 30s}, verdict::retry);
  EXPECT_EQ(limited->code(), codes::rate_limited);
  EXPECT_EQ(limited->retry_after(), 30s);
  EXPECT_FALSE(delivery_error({.status = 400}, verdict::reject).has_value());
  EXPECT_FALSE(delivery_error({.status = 200}, verdict::delivered).has_value());
}

}  // namespace
}  // namespace keel::alert
