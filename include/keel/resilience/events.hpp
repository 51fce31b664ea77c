// keel/resilience/events.hpp
//
// Every resilience policy reports what it does as typed events: a retry
// scheduled, retries exhausted, a breaker changing state, a rejected call, a
// timeout, a fallback used, a fault injected. A policy publishes to one
// event_listener given in its config; reporting adapters (keel::metrics
// counters and gauges, keel::log lines) are small event_listener classes that
// switch on event::kind.
//
//   struct log_retries final : keel::resilience::event_listener {
//     void on_event(const keel::resilience::event& e) noexcept override {
//       if (e.kind == keel::resilience::event_kind::retry_scheduled)
//         std::fprintf(stderr, "%.*s retry %u\n", int(e.name.size()), e.name.data(), e.attempt);
//     }
//   };
//   auto listener = std::make_shared<log_retries>();
//   keel::resilience::retry r({.name = "payments", .listener = listener});
//
// Events are published synchronously on the thread that caused them, never
// under a policy's internal lock, and only on the paths they describe: a call
// that succeeds at the first attempt publishes nothing, so the success path
// stays free of virtual calls. Everything an event points to (name, error) is
// valid only during on_event(); copy what you keep.
//
// Thread safety: a listener shared by policies used from several threads must
// be thread-safe. recording_listener is.
// Cost: one null check per publication point when no listener is set.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "keel/core/clock.hpp"
#include "keel/core/error.hpp"

namespace keel::resilience {

// breaker_state
//
// closed: calls pass and are counted. open: calls are rejected until the wait
// in open has passed. half_open: a limited number of concurrent trial calls
// pass; their outcome closes or reopens the breaker. disabled: every call
// passes, nothing is counted. forced_open: every call is rejected until reset.
enum class breaker_state : std::uint8_t { closed, open, half_open, disabled, forced_open };

std::string_view to_string(breaker_state s) noexcept;

// policy_kind — which kind of policy published an event.
enum class policy_kind : std::uint8_t {
  retry,
  circuit_breaker,
  timeout,
  bulkhead,
  rate_limiter,
  fallback,
  fault_injection,
  hedging
};

std::string_view to_string(policy_kind k) noexcept;

// event_kind
//
// The fields of `event` each kind sets are listed after it.
enum class event_kind : std::uint8_t {
  retry_scheduled,             // attempt (the one that failed), delay, error
  retry_succeeded,             // attempt (the one that succeeded, >= 2)
  retry_exhausted,             // attempt, error, reason: max_attempts | deadline | retry_after
  retry_not_retryable,         // attempt, error (the predicate said no)
  retry_budget_exhausted,      // attempt, error
  retry_cancelled,             // attempt, error (the last one), during a backoff wait
  breaker_state_changed,       // from, to, reason
  breaker_rejected,            // to (the current state), delay (time left open, if known)
  breaker_failure_recorded,    // error, elapsed
  breaker_slow_call_recorded,  // elapsed
  timeout,                     // delay (the timeout), elapsed, reason: cooperative | preemptive
  bulkhead_rejected,           // delay (time waited), reason: full | queue_full | wait_expired
  rate_limited,                // delay (time until a token)
  fallback_used,               // error (the one replaced)
  fault_injected,              // reason: error | latency | outcome; delay (latency)
  hedge_started,               // attempt (the hedge's number), delay (after which it started)
};

std::string_view to_string(event_kind k) noexcept;
policy_kind policy_of(event_kind k) noexcept;

// event
//
// One occurrence. Plain data; the pointers and views borrow from the
// publisher for the duration of on_event().
struct event {
  event_kind kind = event_kind::retry_scheduled;
  std::string_view name{};  // the policy's configured name
  clock::steady_time at{};  // when (the policy's clock)
  std::uint32_t attempt = 0;
  clock::duration delay{};
  clock::duration elapsed{};
  const keel::error* error = nullptr;
  breaker_state from = breaker_state::closed;
  breaker_state to = breaker_state::closed;
  std::string_view reason{};
};

// event_listener
//
// The one interface a reporting adapter implements. on_event is noexcept: a
// listener that can fail must swallow its own failures, since a policy cannot
// do anything sensible about them.
class event_listener {
 public:
  virtual ~event_listener() = default;
  virtual void on_event(const event& e) noexcept = 0;
};

// fanout_listener
//
// Forwards every event to several listeners, in order (e.g. metrics and log).
class fanout_listener final : public event_listener {
 public:
  explicit fanout_listener(std::vector<std::shared_ptr<event_listener>> targets)
      : targets_(std::move(targets)) {}
  void on_event(const event& e) noexcept override {
    for (const auto& t : targets_)
      if (t) t->on_event(e);
  }

 private:
  std::vector<std::shared_ptr<event_listener>> targets_;
};

// recorded_event
//
// An owning copy of an event, as recording_listener keeps it.
struct recorded_event {
  event_kind kind = event_kind::retry_scheduled;
  std::string name{};
  clock::steady_time at{};
  std::uint32_t attempt = 0;
  clock::duration delay{};
  clock::duration elapsed{};
  std::string code{};  // the error's code name, empty when none
  breaker_state from = breaker_state::closed;
  breaker_state to = breaker_state::closed;
  std::string reason{};
};

// recording_listener
//
// Keeps a copy of every event (at most `capacity`, the oldest dropped), for
// tests, chaos rehearsals and a debugging endpoint.
class recording_listener final : public event_listener {
 public:
  explicit recording_listener(std::size_t capacity = 10'000) : capacity_(capacity) {}
  void on_event(const event& e) noexcept override;

  std::vector<recorded_event> events() const;
  // Events of one kind, in order.
  std::vector<recorded_event> of(event_kind k) const;
  std::size_t count(event_kind k) const;
  void clear();

 private:
  std::size_t capacity_;
  mutable std::mutex mu_;
  std::deque<recorded_event> events_;
};

namespace detail {
// Publishes when a listener is set; the common helper of every policy.
inline void publish(event_listener* l, const event& e) noexcept {
  if (l != nullptr) l->on_event(e);
}
}  // namespace detail

}  // namespace keel::resilience
