#include "keel/alert/delivery.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <nlohmann/json.hpp>
#include <set>

#include "unit/alert/temp_dir.hpp"
#include "unit/alert/test_http_server.hpp"
#include "unit/alert/test_smtp_server.hpp"

namespace keel::alert {
namespace {

using namespace std::chrono_literals;

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

TEST(Classify, HttpStatusesMapToDeliveredRetryOrReject) {
  EXPECT_EQ(classify_http({.status = 200}), verdict::delivered);
  EXPECT_EQ(classify_http({.status = 204}), verdict::delivered);
  EXPECT_EQ(classify_http({.status = 0}), verdict::retry);
  EXPECT_EQ(classify_http({.status = 429}), verdict::retry);
  EXPECT_EQ(classify_http({.status = 408}), verdict::retry);
  EXPECT_EQ(classify_http({.status = 500}), verdict::retry);
  EXPECT_EQ(classify_http({.status = 503}), verdict::retry);
  EXPECT_EQ(classify_http({.status = 400}), verdict::reject);
  EXPECT_EQ(classify_http({.status = 404}), verdict::reject);
  EXPECT_EQ(classify_http({.status = 301}), verdict::reject);
}

TEST(Classify, SmtpRepliesMapToDeliveredRetryOrReject) {
  EXPECT_EQ(classify_smtp({.status = 250}), verdict::delivered);
  EXPECT_EQ(classify_smtp({.status = 451}), verdict::retry);
  EXPECT_EQ(classify_smtp({.status = 0}), verdict::retry);
  EXPECT_EQ(classify_smtp({.status = 550}), verdict::reject);
}

TEST(FixedDelayPolicy, StopsAfterMaxAttemptsAndHonoursRetryAfter) {
  fixed_delay_policy p({.delay = 10s, .max_attempts = 3});
  EXPECT_EQ(p.next_delay("r", 1, std::nullopt), 10s);
  EXPECT_EQ(p.next_delay("r", 2, 60s), 60s);
  EXPECT_EQ(p.next_delay("r", 3, std::nullopt), std::nullopt);
}

class Delivery : public ::testing::Test {
 protected:
  void SetUp() override {
    st = store::open({.data_dir = dir.path()}, clock).value();
    box = std::make_unique<outbox>(*st);
    hook = {.name = "hook",
            .kind = receiver_kind::webhook,
            .url = server.url(),
            .secret = "s3cret",
            .timeout = 300ms};
  }
  std::unique_ptr<delivery_worker> worker(std::uint32_t max_attempts = 0) {
    policy = std::make_unique<fixed_delay_policy>(
        fixed_delay_policy::options{.delay = 30s, .max_attempts = max_attempts});
    return std::make_unique<delivery_worker>(*box, http, *policy, clock,
                                             std::vector<receiver_config>{hook});
  }
  void enqueue(int n) {
    notifier nt(*box, {hook}, clock);
    for (int i = 0; i < n; ++i)
      ASSERT_GT(nt.enqueue(note(i, clock)).value(), 0);
  }

  testing::temp_dir dir;
  manual_clock clock;
  std::unique_ptr<store> st;
  std::unique_ptr<outbox> box;
  testing::test_http_server server;
  receiver_config hook;
  curl_transport http;
  std::unique_ptr<fixed_delay_policy> policy;
};

// The receiver is down (connection refused), then answers 500, then hangs
// past the timeout, then recovers: every notification arrives, in order,
// once each, signed.
TEST_F(Delivery, EveryNotificationArrivesThroughDownErrorsAndHangs) {
  enqueue(3);
  auto w = worker();

  EXPECT_EQ(w->run_once("hook"), 1u);  // refused: one attempt, the batch waits
  auto pending = box->pending(10).value();
  ASSERT_EQ(pending.size(), 3u);
  EXPECT_EQ(pending[0].attempts, 1u);
  EXPECT_EQ(pending[1].attempts, 0u);
  EXPECT_FALSE(pending[0].last_error.empty());
  EXPECT_EQ(w->run_once("hook"), 0u);  // nothing due before the delay

  server.listen();
  server.respond_with(500);
  clock.advance(30s);
  EXPECT_EQ(w->run_once("hook"), 1u);
  EXPECT_EQ(box->pending(10)->at(0).last_error, "status 500");

  server.hang();
  clock.advance(30s);
  EXPECT_EQ(w->run_once("hook"), 1u);
  EXPECT_NE(box->pending(10)->at(0).last_error.find("imeout"), std::string::npos)
      << box->pending(10)->at(0).last_error;

  server.respond_with(200);
  clock.advance(30s);
  EXPECT_EQ(w->run_once("hook"), 3u);
  EXPECT_TRUE(box->pending(10)->empty());
  EXPECT_EQ(box->stats()->delivered, 3u);

  auto got = server.accepted();
  ASSERT_EQ(got.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(got[static_cast<std::size_t>(i)].headers.at("x-keel-dedup-key"),
              "n-" + std::to_string(i));
  }
  const auto& r = got[0];
  const auto sig = r.headers.at("x-keel-signature");
  const auto t = std::stoll(sig.substr(2, sig.find(',') - 2));
  EXPECT_EQ(sig, webhook_signature("s3cret", r.body, t));
  EXPECT_EQ(nlohmann::json::parse(r.body)["alerts"][0]["labels"]["instance"], "0");
  auto c = w->counters("hook");
  EXPECT_EQ(c.attempts, 6u);
  EXPECT_EQ(c.delivered, 3u);
  EXPECT_EQ(c.failures, 3u);
}

// A notification queued while an older one backs off waits behind it: a
// `resolved` never reaches a receiver before its `firing`.
TEST_F(Delivery, NewerNotificationNeverOvertakesOneThatIsBackingOff) {
  enqueue(1);
  auto w = worker();
  EXPECT_EQ(w->run_once("hook"), 1u);  // refused: n-0 backs off 30 s
  clock.advance(1s);
  notifier nt(*box, {hook}, clock);
  ASSERT_GT(nt.enqueue(note(1, clock)).value(), 0);
  server.listen();
  server.respond_with(200);
  EXPECT_EQ(w->run_once("hook"), 0u);  // n-1 is due, but n-0 is ahead of it
  EXPECT_TRUE(server.requests().empty());
  EXPECT_EQ(box->next_due("hook").value(), box->pending(10)->at(0).next_attempt_at);
  clock.advance(30s);
  EXPECT_EQ(w->run_once("hook"), 2u);
  auto got = server.accepted();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].headers.at("x-keel-dedup-key"), "n-0");
  EXPECT_EQ(got[1].headers.at("x-keel-dedup-key"), "n-1");
}

TEST_F(Delivery, ClientErrorGoesToDeadLettersWithoutRetry) {
  server.listen();
  server.respond_with(400);
  enqueue(1);
  auto w = worker();
  EXPECT_EQ(w->run_once("hook"), 1u);
  EXPECT_TRUE(box->pending(10)->empty());
  auto dead = box->dead_letters(10).value();
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0].reason, "status 400");
  clock.advance(1h);
  EXPECT_EQ(w->run_once("hook"), 0u);
  EXPECT_EQ(server.requests().size(), 1u);
}

TEST_F(Delivery, TooManyRequestsWaitsForRetryAfter) {
  server.listen();
  server.respond_with(429, "Retry-After: 120\r\n");
  enqueue(1);
  auto w = worker();
  EXPECT_EQ(w->run_once("hook"), 1u);
  server.respond_with(200);
  clock.advance(119s);
  EXPECT_EQ(w->run_once("hook"), 0u);
  clock.advance(1s);
  EXPECT_EQ(w->run_once("hook"), 1u);
  EXPECT_EQ(server.accepted().size(), 1u);
}

TEST_F(Delivery, RetriesExhaustedBecomeADeadLetter) {
  server.listen();
  server.respond_with(503);
  enqueue(1);
  auto w = worker(2);
  EXPECT_EQ(w->run_once("hook"), 1u);
  clock.advance(30s);
  EXPECT_EQ(w->run_once("hook"), 1u);
  auto dead = box->dead_letters(10).value();
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0].attempts, 2u);
  EXPECT_NE(dead[0].reason.find("retries exhausted"), std::string::npos);
}

TEST_F(Delivery, ResolvedOnlyNotificationIsSkippedWithoutSendResolved) {
  hook.send_resolved = false;
  notifier nt(*box, {hook}, clock);
  auto n = note(1, clock);
  n.alerts[0].ends_at = clock.system_now();
  EXPECT_EQ(nt.enqueue(n).value(), 0);
  EXPECT_TRUE(box->pending(10)->empty());
  n.receiver = "nobody";
  EXPECT_EQ(nt.enqueue(n).error(), codes::resource_not_found);
}

// A policy that checks the contract adapters rely on: allow() and
// on_result() alternate strictly per receiver, and a refusal sends nothing.
class gate_policy final : public delivery_policy {
 public:
  bool open = true;
  int admitted = 0, completed = 0;
  bool alternated = true;
  bool allow(std::string_view) override {
    if (admitted != completed) alternated = false;
    if (!open) return false;
    ++admitted;
    return true;
  }
  void on_result(std::string_view, verdict, const send_result&) override {
    ++completed;
    if (completed != admitted) alternated = false;
  }
  std::optional<std::chrono::milliseconds> next_delay(
      std::string_view, std::uint32_t, std::optional<std::chrono::milliseconds>) override {
    return 30s;
  }
};

TEST_F(Delivery, PolicyRefusalSendsNothingAndAdmissionsAlternateWithResults) {
  server.listen();
  enqueue(3);
  gate_policy gate;
  delivery_worker w(*box, http, gate, clock, {hook});
  gate.open = false;
  EXPECT_EQ(w.run_once("hook"), 0u);
  EXPECT_TRUE(server.requests().empty());
  EXPECT_EQ(w.counters("hook").blocked, 1u);
  gate.open = true;
  EXPECT_EQ(w.run_once("hook"), 3u);
  EXPECT_EQ(gate.admitted, 3);
  EXPECT_EQ(gate.completed, 3);
  EXPECT_TRUE(gate.alternated);
  EXPECT_EQ(server.accepted().size(), 3u);
}

// Notifications committed by a process that is then killed with SIGKILL are
// delivered by the next process that opens the same data directory.
TEST_F(Delivery, NotificationsQueuedBeforeSigkillAreDeliveredAfterRestart) {
  st.reset();
  box.reset();
  int pipefd[2];
  ASSERT_EQ(::pipe(pipefd), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(pipefd[0]);
    manual_clock c;
    auto s = store::open({.data_dir = dir.path()}, c);
    if (!s) ::_exit(2);
    outbox b(**s);
    notifier nt(b, {hook}, c);
    for (int i = 0; i < 5; ++i) {
      if (!nt.enqueue(note(i, c))) ::_exit(3);
    }
    curl_transport t;
    fixed_delay_policy p({.delay = 30s});
    delivery_worker w(b, t, p, c, {hook});
    (void)w.run_once("hook");  // refused: the receiver is down
    (void)!::write(pipefd[1], "k", 1);
    for (;;)
      ::pause();
  }
  ::close(pipefd[1]);
  char byte = 0;
  ASSERT_EQ(::read(pipefd[0], &byte, 1), 1);
  ::close(pipefd[0]);
  ASSERT_EQ(::kill(child, SIGKILL), 0);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status));

  server.listen();
  st = store::open({.data_dir = dir.path()}, clock).value();
  box = std::make_unique<outbox>(*st);
  ASSERT_EQ(box->pending(10)->size(), 5u);
  auto w = worker();
  clock.advance(30s);
  EXPECT_EQ(w->run_once("hook"), 5u);
  std::set<std::string> keys;
  for (const auto& r : server.accepted())
    keys.insert(r.headers.at("x-keel-dedup-key"));
  EXPECT_EQ(keys, (std::set<std::string>{"n-0", "n-1", "n-2", "n-3", "n-4"}));
}

// Email through a real SMTP conversation (libcurl against test_smtp_server):
// the relay is down, defers with 451, hangs past the timeout, then accepts;
// a refused recipient (550) is a dead letter at once.
class EmailDelivery : public ::testing::Test {
 protected:
  void SetUp() override {
    st = store::open({.data_dir = dir.path()}, clock).value();
    box = std::make_unique<outbox>(*st);
    mail = {.name = "mail",
            .kind = receiver_kind::email,
            .url = relay.url(),
            .from = "keel@example.org",
            .to = {"oncall@example.org", "sre@example.org"},
            .timeout = 500ms};
    policy = std::make_unique<fixed_delay_policy>(fixed_delay_policy::options{.delay = 30s});
    worker = std::make_unique<delivery_worker>(*box, transport, *policy, clock,
                                               std::vector<receiver_config>{mail});
  }
  void enqueue(int i) {
    notifier nt(*box, {mail}, clock);
    notification n = note(i, clock);
    n.receiver = "mail";
    n.alerts[0].annotations = {{"summary", "error rate 7.5 % on checkout"}};
    ASSERT_GT(nt.enqueue(n).value(), 0);
  }

  testing::temp_dir dir;
  manual_clock clock;
  std::unique_ptr<store> st;
  std::unique_ptr<outbox> box;
  testing::test_smtp_server relay;
  receiver_config mail;
  curl_transport transport;
  std::unique_ptr<fixed_delay_policy> policy;
  std::unique_ptr<delivery_worker> worker;
};

TEST_F(EmailDelivery, MailArrivesThroughAnOutageADeferralAndAHang) {
  enqueue(0);
  EXPECT_EQ(worker->run_once("mail"), 1u);  // connection refused
  ASSERT_EQ(box->pending(10)->size(), 1u);
  EXPECT_EQ(box->pending(10)->at(0).attempts, 1u);

  relay.listen();
  relay.reply_to_data(451);  // "try again later": transient
  clock.advance(30s);
  EXPECT_EQ(worker->run_once("mail"), 1u);
  ASSERT_EQ(box->pending(10)->size(), 1u);
  EXPECT_NE(box->pending(10)->at(0).last_error.find("451"), std::string::npos)
      << box->pending(10)->at(0).last_error;

  // A hung relay holds the worker for about the receiver's timeout, not for
  // libcurl's default 120 s wait on each SMTP reply (the QUIT included).
  relay.hang();
  clock.advance(30s);
  const auto started = std::chrono::steady_clock::now();
  EXPECT_EQ(worker->run_once("mail"), 1u);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 10s);
  ASSERT_EQ(box->pending(10)->size(), 1u);
  EXPECT_NE(box->pending(10)->at(0).last_error.find("imeout"), std::string::npos)
      << box->pending(10)->at(0).last_error;

  relay.reply_to_data(250);
  clock.advance(30s);
  EXPECT_EQ(worker->run_once("mail"), 1u);
  EXPECT_TRUE(box->pending(10)->empty());
  EXPECT_EQ(box->stats()->delivered, 1u);

  const auto got = relay.accepted();
  ASSERT_EQ(got.size(), 1u);
  const testing::received_mail& m = got[0];
  EXPECT_FALSE(m.helo.empty());
  EXPECT_EQ(m.from, "keel@example.org");
  EXPECT_EQ(m.recipients, (std::vector<std::string>{"oncall@example.org", "sre@example.org"}));
  EXPECT_NE(m.data.find("From: keel@example.org\r\n"), std::string::npos) << m.data;
  EXPECT_NE(m.data.find("To: oncall@example.org, sre@example.org\r\n"), std::string::npos);
  EXPECT_NE(m.data.find("\r\nSubject: "), std::string::npos);
  EXPECT_NE(m.data.find("HighErrorRate"), std::string::npos);
  EXPECT_NE(m.data.find("  summary: error rate 7.5 % on checkout\r\n"), std::string::npos);
  auto c = worker->counters("mail");
  EXPECT_EQ(c.attempts, 4u);
  EXPECT_EQ(c.delivered, 1u);
}

TEST_F(EmailDelivery, RefusedRecipientIsADeadLetterWithoutRetry) {
  relay.listen();
  relay.reply_to_rcpt(550);
  enqueue(0);
  EXPECT_EQ(worker->run_once("mail"), 1u);
  EXPECT_TRUE(box->pending(10)->empty());
  const auto dead = box->dead_letters(10).value();
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_NE(dead[0].reason.find("550"), std::string::npos) << dead[0].reason;
  clock.advance(1h);
  EXPECT_EQ(worker->run_once("mail"), 0u);
  EXPECT_TRUE(relay.mails().empty());  // no DATA was ever sent
  EXPECT_EQ(relay.sessions(), 1);
}

}  // namespace
}  // namespace keel::alert
