#include "keel/resilience/retry.hpp"

#include "keel/resilience/fallback.hpp"

#include <algorithm>

namespace keel::resilience {

bool default_retry_predicate(const keel::error& e) noexcept {
  return e.category() == category::transient || e.category() == category::systemic;
}

bool retry_on_retryable_codes(const keel::error& e) noexcept { return e.retryable(); }

bool default_fallback_predicate(const keel::error& e) noexcept {
  return default_retry_predicate(e);
}

result<void> retry_config::validate() const {
  if (name.size() > 128) return fail(codes::configuration_error, "retry.name is longer than 128");
  if (max_attempts < 1 || max_attempts > 1000) {
    return fail(codes::configuration_error, "retry.max_attempts must be in [1, 1000]");
  }
  if (auto v = wait.validate(); !v) return v;
  const auto day = std::chrono::hours(24);
  if (max_retry_after < clock::duration::zero() || max_duration < clock::duration::zero() ||
      max_retry_after > day || max_duration > day) {
    return fail(codes::configuration_error, "retry durations must be in [0, 24h]");
  }
  return ok();
}

namespace {
retry_config checked(retry_config c) {
  if (auto v = c.validate(); !v) throw keel::exception(v.error());
  return c;
}
}  // namespace

retry::retry(retry_config config, const clock& c, random_source& rng)
    : config_(checked(std::move(config))),
      clock_(c),
      rng_(rng),
      listener_(config_.listener.get()) {}

result<std::unique_ptr<retry>> retry::create(retry_config config, const clock& c,
                                             random_source& rng) {
  if (auto v = config.validate(); !v) return fail(v.error());
  return std::make_unique<retry>(std::move(config), c, rng);
}

retry::run_state retry::begin() const noexcept {
  run_state s;
  if (config_.budget) config_.budget->record_call();
  s.deadline = this_call::deadline();
  if (config_.max_duration > clock::duration::zero()) {
    s.deadline = std::min(s.deadline, clock_.steady_now() + config_.max_duration);
  }
  return s;
}

std::optional<clock::duration> retry::next_delay(run_state& s, std::uint32_t attempt,
                                                 const keel::error* e) const {
  event ev{.name = config_.name, .attempt = attempt, .error = e};
  const auto give_up = [&](event_kind k, std::string_view reason) {
    if (listener_ != nullptr) {
      ev.kind = k;
      ev.reason = reason;
      ev.at = clock_.steady_now();
      listener_->on_event(ev);
    }
    return std::optional<clock::duration>{};
  };
  if (e != nullptr) {
    const bool retryable = config_.retry_on ? config_.retry_on(*e) : default_retry_predicate(*e);
    if (!retryable) return give_up(event_kind::retry_not_retryable, "not_retryable");
  }
  if (attempt >= config_.max_attempts) return give_up(event_kind::retry_exhausted, "max_attempts");

  clock::duration d = config_.wait.delay(attempt, s.previous_delay, rng_);
  if (e != nullptr && config_.honour_retry_after) {
    if (const auto ra = e->retry_after()) {
      const auto asked = std::chrono::duration_cast<clock::duration>(*ra);
      if (asked > config_.max_retry_after)
        return give_up(event_kind::retry_exhausted, "retry_after");
      d = std::max(d, asked);
    }
  }
  if (s.deadline != clock::steady_time::max()) {
    // A wait that ends at or after the deadline leaves no time for the
    // attempt it waits for: stop now and return the real error.
    if (clock_.steady_now() + d >= s.deadline)
      return give_up(event_kind::retry_exhausted, "deadline");
  }
  if (config_.budget && !config_.budget->try_acquire_retry()) {
    return give_up(event_kind::retry_budget_exhausted, "budget");
  }
  s.previous_delay = d;
  if (listener_ != nullptr) {
    ev.kind = event_kind::retry_scheduled;
    ev.delay = d;
    ev.at = clock_.steady_now();
    listener_->on_event(ev);
  }
  return d;
}

void retry::succeeded_after(std::uint32_t attempt) const noexcept {
  detail::publish(listener_, {.kind = event_kind::retry_succeeded,
                              .name = config_.name,
                              .at = clock_.steady_now(),
                              .attempt = attempt});
}

void retry::cancelled_during_wait(std::uint32_t attempt, const keel::error& last) const noexcept {
  detail::publish(listener_, {.kind = event_kind::retry_cancelled,
                              .name = config_.name,
                              .at = clock_.steady_now(),
                              .attempt = attempt,
                              .error = &last});
}

}  // namespace keel::resilience
