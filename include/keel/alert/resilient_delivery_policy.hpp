// keel/alert/resilient_delivery_policy.hpp
//
// resilient_delivery_policy is the delivery_policy (delivery.hpp) built on
// keel::resilience: one circuit breaker per receiver, taken from a
// breaker_registry so keeld's admin API lists and resets them with every
// other breaker, and retry delays from a backoff with jitter that never
// undercut a receiver's Retry-After.
//
//   keel::resilience::breaker_registry breakers({}, clock);     // or resilience::breakers()
//   keel::alert::resilient_delivery_policy policy(breakers, keel::random_source::thread_safe());
//   keel::alert::delivery_worker worker(box, http, policy, clock, receivers);
//
// Breaker. A failed attempt (no answer, timeout, 408, 429, 5xx) is recorded
// as a failure; a delivery and a refusal (other 4xx: the receiver answered)
// as a success. When the receiver's failure rate reaches the threshold the
// breaker opens: allow() says no, the worker stops sending to that receiver
// (its messages stay queued in the outbox, nothing is lost) until
// `wait_in_open` has passed; then `permitted_calls_in_half_open` trial
// attempts go out and their outcome closes or reopens it. Breakers are named
// `breaker_prefix` + receiver name, characters outside [A-Za-z0-9._:-]
// replaced by '_'; an existing breaker of that name is shared as it is (its
// config is not changed). A name still invalid (over 128 characters) or a
// full registry leaves that receiver without a breaker (always allowed),
// counted in unguarded().
//
// Delay. next_delay(attempts) is backoff.delay(attempts) with its jitter;
// a Retry-After from the receiver raises it to min(Retry-After,
// max_retry_after). After max_attempts failed attempts (0: never) the
// message becomes a dead letter.
//
// Thread safety: all member functions may be called concurrently (one
// worker thread per receiver); per receiver, allow() and on_result()
// alternate as delivery_policy requires. The random source is used under
// the policy's lock. Cost: one mutex and one map lookup per attempt — an
// attempt is a network call.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "keel/alert/delivery.hpp"
#include "keel/core/random.hpp"
#include "keel/resilience/backoff.hpp"
#include "keel/resilience/breaker_registry.hpp"
#include "keel/resilience/circuit_breaker.hpp"

namespace keel::alert {

// resilient_delivery_options
//
// Defaults: exponential backoff from 5 s doubling to 10 min with equal
// jitter (at least half the curve); a breaker over the last 10 attempts that
// opens at 50 % failures after 5 attempts, for 1 min, with one trial.
struct resilient_delivery_options {
  keel::resilience::backoff backoff{.kind = keel::resilience::backoff_kind::exponential,
                                    .initial = std::chrono::seconds(5),
                                    .multiplier = 2.0,
                                    .max = std::chrono::minutes(10),
                                    .jitter = keel::resilience::jitter_kind::equal};
  std::uint32_t max_attempts = 0;  // 0: retry for ever
  std::chrono::milliseconds max_retry_after{3'600'000};
  keel::resilience::circuit_breaker_config breaker{.failure_rate_threshold = 0.5,
                                                   .window_size = 10,
                                                   .minimum_calls = 5,
                                                   .wait_in_open = std::chrono::minutes(1),
                                                   .permitted_calls_in_half_open = 1};
  std::string breaker_prefix = "alert.receiver:";

  // The backoff's or breaker's own error for a bad config (VALIDATION_ERROR,
  // CONFIGURATION_ERROR).
  [[nodiscard]] result<void> validate() const;
};

// The keel::error a failed attempt is recorded as: TIMEOUT, REQUEST_TIMEOUT
// (408), RATE_LIMITED (429, with its Retry-After), SERVICE_UNAVAILABLE
// (5xx, or no answer); nullopt for an answer that is not a failure.
std::optional<keel::error> delivery_error(const send_result& r, verdict v);

// resilient_delivery_policy
class resilient_delivery_policy final : public delivery_policy {
 public:
  // Throws keel::exception (validate()'s error) for invalid options. The
  // registry and random source must outlive the policy.
  resilient_delivery_policy(keel::resilience::breaker_registry& breakers, random_source& rng,
                            resilient_delivery_options opts = {});

  bool allow(std::string_view receiver) override;
  void on_result(std::string_view receiver, verdict v, const send_result& r) override;
  std::optional<std::chrono::milliseconds> next_delay(
      std::string_view receiver, std::uint32_t attempts,
      std::optional<std::chrono::milliseconds> retry_after) override;

  // The breaker guarding `receiver` (created at its first attempt), or null.
  std::shared_ptr<keel::resilience::circuit_breaker> breaker(std::string_view receiver) const;
  // The breaker name used for `receiver`.
  std::string breaker_name(std::string_view receiver) const;
  // Receivers left without a breaker (invalid name or full registry).
  std::uint64_t unguarded() const;

 private:
  struct receiver_state {
    std::shared_ptr<keel::resilience::circuit_breaker> breaker{};
    keel::resilience::circuit_breaker::permit permit{};
    bool holding = false;              // a permit allow() granted awaits on_result()
    keel::clock::duration previous{};  // last delay, for decorrelated jitter
  };
  receiver_state& state_of(std::string_view receiver);

  keel::resilience::breaker_registry& breakers_;
  random_source& rng_;
  resilient_delivery_options opts_;
  mutable std::mutex mu_;
  std::map<std::string, receiver_state, std::less<>> states_;
  std::uint64_t unguarded_ = 0;
};

}  // namespace keel::alert
