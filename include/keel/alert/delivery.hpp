// keel/alert/delivery.hpp
//
// Getting notifications from the outbox to receivers. notifier renders a
// notification for its receiver and commits it to the outbox (outbox.hpp)
// before anything is sent. delivery_worker then sends what is due, one
// thread per receiver so a hung receiver delays only itself, and moves each
// message along the outbox state machine by what the attempt returned:
//
//   2xx                                  -> delivered
//   429, 408, 5xx, connect/timeout/reset -> retry later (policy's delay; Retry-After honoured)
//   other 4xx (and 3xx)                  -> dead letter, no retry
//   retries exhausted (policy says stop) -> dead letter
//
//   keel::alert::curl_transport http;                               // libcurl, timeouts
//   keel::alert::resilient_delivery_policy policy(keel::resilience::breakers(), rng);
//   keel::alert::delivery_worker worker(box, http, policy, clock, receivers);
//   keel::alert::notifier notify(box, receivers, clock);
//   notify.enqueue(notification).value();   // durable before this returns
//   worker.start();                          // or worker.run_once("ops") from a test
//
// The retry delay and the per-receiver circuit breaker are a delivery_policy,
// injected: resilient_delivery_policy (resilient_delivery_policy.hpp) is
// keel::resilience's backoff with jitter and a circuit breaker per receiver;
// fixed_delay_policy (a constant delay, a maximum attempt count, no breaker)
// is the simple one. delivery_collector.hpp exposes the counters below.
//
// Thread safety: notifier and delivery_worker may be used from any thread;
// run_once() for one receiver must not run concurrently with itself (start()
// runs it on that receiver's thread). Cost: one outbox query per round, one
// transport call and one committed update per message.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "keel/alert/outbox.hpp"
#include "keel/alert/receiver.hpp"
#include "keel/core/clock.hpp"

namespace keel::alert {

// send_result — what one attempt returned.
struct send_result {
  int status = 0;  // HTTP status or SMTP reply code; 0 when no answer (network, timeout)
  bool timed_out = false;
  std::string detail{};  // error text for the outbox's last_error
  std::optional<std::chrono::milliseconds> retry_after{};
};

// verdict
enum class verdict : std::uint8_t { delivered, retry, reject };

// What to do after an HTTP attempt (see the table above).
verdict classify_http(const send_result& r) noexcept;
// SMTP: 2xx/3xx delivered, 4xx and no answer retry, 5xx reject.
verdict classify_smtp(const send_result& r) noexcept;

// transport — sends one rendered message to one receiver.
class transport {
 public:
  virtual ~transport() = default;
  virtual send_result send(const receiver_config& r, const outbox_message& m,
                           std::chrono::system_clock::time_point now) = 0;
};

// curl_transport
//
// keel::client (libcurl): HTTP POST for webhook/Slack/PagerDuty/Alertmanager (with the
// webhook signature header when a secret is set, and X-Keel-Dedup-Key), SMTP
// for email. Connect timeout = min(timeout, 5 s); total timeout = the
// receiver's timeout. Redirects are not followed (a 3xx is an answer).
class curl_transport final : public transport {
 public:
  curl_transport();
  ~curl_transport() override;
  send_result send(const receiver_config& r, const outbox_message& m,
                   std::chrono::system_clock::time_point now) override;
};

// delivery_policy — the seam for keel::resilience (retry + circuit breaker).
//
// For one receiver, allow() and on_result() alternate strictly (one attempt
// at a time, on that receiver's worker), so an adapter can hold a circuit
// breaker's permit per receiver between the two; send_result gives it what
// it needs to build the keel::error a breaker records.
class delivery_policy {
 public:
  virtual ~delivery_policy() = default;
  // May an attempt to `receiver` go now? (an open circuit breaker says no)
  virtual bool allow(std::string_view receiver) = 0;
  // The outcome of the attempt allow() admitted.
  virtual void on_result(std::string_view receiver, verdict v, const send_result& r) = 0;
  // Delay before the next attempt after `attempts` attempts failed; nullopt
  // to stop (the message becomes a dead letter).
  virtual std::optional<std::chrono::milliseconds> next_delay(
      std::string_view receiver, std::uint32_t attempts,
      std::optional<std::chrono::milliseconds> retry_after) = 0;
};

// fixed_delay_policy — a constant delay and no breaker (tests, simple setups).
class fixed_delay_policy final : public delivery_policy {
 public:
  struct options {
    std::chrono::milliseconds delay{30'000};
    std::uint32_t max_attempts = 0;  // 0: retry for ever
    std::chrono::milliseconds max_retry_after{3'600'000};
  };
  explicit fixed_delay_policy(options o) : o_(o) {}
  bool allow(std::string_view) override { return true; }
  void on_result(std::string_view, verdict, const send_result&) override {}
  std::optional<std::chrono::milliseconds> next_delay(
      std::string_view, std::uint32_t attempts,
      std::optional<std::chrono::milliseconds> retry_after) override;

 private:
  options o_;
};

// notifier — renders and enqueues.
class notifier {
 public:
  notifier(outbox& box, std::vector<receiver_config> receivers, const keel::clock& clock);
  // Commits `n` to the outbox for its receiver; returns the outbox id, or 0
  // when nothing is to be sent (a resolved-only notification for a receiver
  // without send_resolved). RESOURCE_NOT_FOUND for an unknown receiver.
  [[nodiscard]] result<std::int64_t> enqueue(const notification& n);

 private:
  outbox& box_;
  std::map<std::string, receiver_config, std::less<>> receivers_;
  const keel::clock& clock_;
};

// delivery_counters — per receiver, since start (for the delivery metrics).
struct delivery_counters {
  std::uint64_t attempts = 0;
  std::uint64_t delivered = 0;
  std::uint64_t failures = 0;  // attempts that did not deliver
  std::uint64_t dead = 0;
  std::uint64_t blocked = 0;  // rounds the policy refused (breaker open)
};

// receiver_health — the run of outcomes at one receiver.
//
// failing from the first attempt that did not deliver (or a round the
// policy refused) until the next delivery.
struct receiver_health {
  bool failing = false;
  std::uint32_t consecutive_failures = 0;
  std::string last_error{};
  std::optional<std::chrono::system_clock::time_point> failing_since{};
};

// delivery_listener — what delivery tells its owner (logs, health, its
// own error events), on the receiver's thread, outside the worker's lock.
class delivery_listener {
 public:
  virtual ~delivery_listener() = default;
  // An attempt that did not deliver; `dead` when the message is now a
  // dead letter (refused for good, or retries exhausted).
  virtual void on_failure(const receiver_config& r, const outbox_message& m, const send_result& res,
                          const receiver_health& h, bool dead) = 0;
  // A delivery; `recovered` when the receiver was failing until now.
  virtual void on_delivered(const receiver_config& r, const outbox_message& m, bool recovered) = 0;
};

// delivery_options
struct delivery_options {
  std::size_t batch = 64;                          // messages per round
  std::chrono::milliseconds poll_interval{1'000};  // real time between idle rounds
  delivery_listener* listener = nullptr;           // must outlive the worker
};

class delivery_worker {
 public:
  delivery_worker(outbox& box, transport& t, delivery_policy& policy, const keel::clock& clock,
                  std::vector<receiver_config> receivers, delivery_options opts = {});
  ~delivery_worker();  // stop()s
  delivery_worker(const delivery_worker&) = delete;
  delivery_worker& operator=(const delivery_worker&) = delete;

  // Sends every message of `receiver` due at the clock's now (up to batch).
  // Returns how many were attempted.
  std::size_t run_once(std::string_view receiver);

  // One thread per receiver, each looping run_once and waiting poll_interval
  // (or until wake()) when idle.
  void start();
  void stop();
  void wake();

  delivery_counters counters(std::string_view receiver) const;
  receiver_health health(std::string_view receiver) const;
  // The receivers this worker delivers to, by name.
  std::vector<std::string> receivers() const;

 private:
  void loop(const receiver_config* r);

  outbox& box_;
  transport& transport_;
  delivery_policy& policy_;
  const keel::clock& clock_;
  std::map<std::string, receiver_config, std::less<>> receivers_;
  delivery_options opts_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::uint64_t wakeups_ = 0;
  std::map<std::string, delivery_counters, std::less<>> counters_;
  std::map<std::string, receiver_health, std::less<>> health_;
  std::vector<std::thread> threads_;
};

}  // namespace keel::alert
