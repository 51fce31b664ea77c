// keel/resilience/retry.hpp
//
// retry runs a call again when it fails in a way that may pass: up to
// `max_attempts` attempts, waiting a backoff between them, honouring a
// server's Retry-After, never past the call's deadline, and within a shared
// retry budget when one is configured.
//
//   keel::resilience::retry payments_retry({
//       .name = "payments", .max_attempts = 4,
//       .wait = {.initial = 200ms, .max = 5s, .jitter = keel::resilience::jitter_kind::full},
//       .max_duration = 10s});
//   keel::result<receipt> r = payments_retry.call([&] { return gateway.charge(order); });
//   // or retry on a value too: a 503 response that is not an error yet
//   auto resp = payments_retry.call([&] { return http.get(url); },
//                                   [](const response& x) { return x.status == 503; });
//
// What is retried: by default errors whose category is transient or systemic
// (TIMEOUT, NETWORK_ERROR, SERVICE_UNAVAILABLE, CIRCUIT_OPEN, DATABASE_ERROR,
// ...); never permanent (validation, not found, CANCELLED) or business
// errors. `retry_on` replaces that rule. A callable may return T, result<T>
// or throw; exceptions become errors (keel::try_call) and are classified the
// same way (an unknown exception is INTERNAL_ERROR, systemic).
//
// When it gives up, the caller gets the last attempt's error unchanged (or
// the last value, for a value predicate), so the code still says what went
// wrong; the retry_exhausted event says why it stopped. A backoff wait is
// made with this_call::wait_for: on the real clock it ends early when the
// call is cancelled (the result is then CANCELLED, caused by the last error);
// on a manual clock it advances the clock.
//
// Thread safety: a retry may be used by any number of threads at once if its
// random_source is thread-safe (the default, random_source::thread_safe()).
// Cost: a call that succeeds at the first attempt does no clock read (unless
// max_duration or a budget is configured), no allocation and no virtual call.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

#include "keel/core/clock.hpp"
#include "keel/core/random.hpp"
#include "keel/core/result.hpp"
#include "keel/resilience/backoff.hpp"
#include "keel/resilience/cancellation.hpp"
#include "keel/resilience/events.hpp"
#include "keel/resilience/retry_budget.hpp"

namespace keel::resilience {

// default_retry_predicate
//
// True for errors of category transient or systemic.
bool default_retry_predicate(const keel::error& e) noexcept;

// retry_on_retryable_codes
//
// A stricter predicate: the code's own `retryable` flag (TIMEOUT, NETWORK_ERROR,
// SERVICE_UNAVAILABLE, ...; not INTERNAL_ERROR or CONFIGURATION_ERROR).
bool retry_on_retryable_codes(const keel::error& e) noexcept;

// retry_config
//
// Defaults: 3 attempts, exponential backoff from 100 ms with full jitter,
// Retry-After honoured up to 60 s, no overall limit, no budget.
struct retry_config {
  std::string name{};
  // Attempts including the first; 1 disables retrying.
  std::uint32_t max_attempts = 3;
  backoff wait{};
  // Which errors to retry; empty means default_retry_predicate.
  std::function<bool(const keel::error&)> retry_on{};
  // Wait at least an error's retry_after() before the next attempt.
  bool honour_retry_after = true;
  // A Retry-After longer than this ends the retries instead of waiting.
  clock::duration max_retry_after = std::chrono::seconds(60);
  // Overall limit from the first attempt; zero for none. The enclosing
  // deadline (this_call::deadline) applies in any case: no wait is started
  // that would end at or after it.
  clock::duration max_duration{0};
  std::shared_ptr<retry_budget> budget{};
  std::shared_ptr<event_listener> listener{};

  result<void> validate() const;
};

// retry
class retry {
 public:
  // Throws keel::exception (CONFIGURATION_ERROR) when config is not valid.
  explicit retry(retry_config config = {}, const clock& c = clock::real(),
                 random_source& rng = random_source::thread_safe());
  // The same, reporting a bad config as an error instead.
  static result<std::unique_ptr<retry>> create(retry_config config, const clock& c = clock::real(),
                                               random_source& rng = random_source::thread_safe());

  // Runs f (returning T or result<T>, or throwing) with retries.
  template <class F>
  auto call(F&& f) -> decltype(keel::try_call(f)) {
    return call(std::forward<F>(f), no_value_predicate{});
  }

  // As call(f), also retrying a successful value for which retry_if(value)
  // is true; when attempts run out the last value is returned.
  template <class F, class P>
  auto call(F&& f, P&& retry_if) -> decltype(keel::try_call(f));

  const std::string& name() const noexcept { return config_.name; }
  const retry_config& config() const noexcept { return config_; }
  const keel::clock& time_source() const noexcept { return clock_; }

  // The per-call state a sync or async runner keeps between attempts.
  struct run_state {
    clock::steady_time deadline = clock::steady_time::max();
    clock::duration previous_delay{};
  };
  run_state begin() const noexcept;
  // After attempt `attempt` failed with `e` (nullptr: a value the predicate
  // rejected): the wait before the next attempt, or nullopt to give up.
  // Publishes the events for that decision.
  std::optional<clock::duration> next_delay(run_state& s, std::uint32_t attempt,
                                            const keel::error* e) const;
  void succeeded_after(std::uint32_t attempt) const noexcept;
  void cancelled_during_wait(std::uint32_t attempt, const keel::error& last) const noexcept;

 private:
  struct no_value_predicate {};
  retry_config config_;
  const clock& clock_;
  random_source& rng_;
  event_listener* listener_;
};

template <class F, class P>
auto retry::call(F&& f, P&& retry_if) -> decltype(keel::try_call(f)) {
  using R = decltype(keel::try_call(f));
  run_state s = begin();
  for (std::uint32_t attempt = 1;; ++attempt) {
    R r = keel::try_call(f);
    if (r.has_value()) {
      if constexpr (!std::is_same_v<std::remove_cvref_t<P>, no_value_predicate> &&
                    !std::is_void_v<typename R::value_type>) {
        if (retry_if(*r)) {
          const auto d = next_delay(s, attempt, nullptr);
          if (!d) return r;
          if (auto w = this_call::wait_for(clock_, *d); !w) return fail(w.error());
          continue;
        }
      }
      if (attempt > 1) succeeded_after(attempt);
      return r;
    }
    const auto d = next_delay(s, attempt, &r.error());
    if (!d) return r;
    if (auto w = this_call::wait_for(clock_, *d); !w) {
      cancelled_during_wait(attempt, r.error());
      return fail(std::move(w.error()).with_cause(std::move(r.error())));
    }
  }
}

}  // namespace keel::resilience
