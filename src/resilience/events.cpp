#include "keel/resilience/events.hpp"

namespace keel::resilience {

std::string_view to_string(breaker_state s) noexcept {
  switch (s) {
    case breaker_state::closed:
      return "closed";
    case breaker_state::open:
      return "open";
    case breaker_state::half_open:
      return "half_open";
    case breaker_state::disabled:
      return "disabled";
    case breaker_state::forced_open:
      return "forced_open";
  }
  return "unknown";
}

std::string_view to_string(policy_kind k) noexcept {
  switch (k) {
    case policy_kind::retry:
      return "retry";
    case policy_kind::circuit_breaker:
      return "circuit_breaker";
    case policy_kind::timeout:
      return "timeout";
    case policy_kind::bulkhead:
      return "bulkhead";
    case policy_kind::rate_limiter:
      return "rate_limiter";
    case policy_kind::fallback:
      return "fallback";
    case policy_kind::fault_injection:
      return "fault_injection";
    case policy_kind::hedging:
      return "hedging";
  }
  return "unknown";
}

std::string_view to_string(event_kind k) noexcept {
  switch (k) {
    case event_kind::retry_scheduled:
      return "retry_scheduled";
    case event_kind::retry_succeeded:
      return "retry_succeeded";
    case event_kind::retry_exhausted:
      return "retry_exhausted";
    case event_kind::retry_not_retryable:
      return "retry_not_retryable";
    case event_kind::retry_budget_exhausted:
      return "retry_budget_exhausted";
    case event_kind::retry_cancelled:
      return "retry_cancelled";
    case event_kind::breaker_state_changed:
      return "breaker_state_changed";
    case event_kind::breaker_rejected:
      return "breaker_rejected";
    case event_kind::breaker_failure_recorded:
      return "breaker_failure_recorded";
    case event_kind::breaker_slow_call_recorded:
      return "breaker_slow_call_recorded";
    case event_kind::timeout:
      return "timeout";
    case event_kind::bulkhead_rejected:
      return "bulkhead_rejected";
    case event_kind::rate_limited:
      return "rate_limited";
    case event_kind::fallback_used:
      return "fallback_used";
    case event_kind::fault_injected:
      return "fault_injected";
    case event_kind::hedge_started:
      return "hedge_started";
  }
  return "unknown";
}

policy_kind policy_of(event_kind k) noexcept {
  switch (k) {
    case event_kind::retry_scheduled:
    case event_kind::retry_succeeded:
    case event_kind::retry_exhausted:
    case event_kind::retry_not_retryable:
    case event_kind::retry_budget_exhausted:
    case event_kind::retry_cancelled:
      return policy_kind::retry;
    case event_kind::breaker_state_changed:
    case event_kind::breaker_rejected:
    case event_kind::breaker_failure_recorded:
    case event_kind::breaker_slow_call_recorded:
      return policy_kind::circuit_breaker;
    case event_kind::timeout:
      return policy_kind::timeout;
    case event_kind::bulkhead_rejected:
      return policy_kind::bulkhead;
    case event_kind::rate_limited:
      return policy_kind::rate_limiter;
    case event_kind::fallback_used:
      return policy_kind::fallback;
    case event_kind::fault_injected:
      return policy_kind::fault_injection;
    case event_kind::hedge_started:
      return policy_kind::hedging;
  }
  return policy_kind::retry;
}

void recording_listener::on_event(const event& e) noexcept {
  try {
    recorded_event r{.kind = e.kind,
                     .name = std::string(e.name),
                     .at = e.at,
                     .attempt = e.attempt,
                     .delay = e.delay,
                     .elapsed = e.elapsed,
                     .code = e.error != nullptr ? std::string(e.error->name()) : std::string(),
                     .from = e.from,
                     .to = e.to,
                     .reason = std::string(e.reason)};
    std::lock_guard lock(mu_);
    if (events_.size() >= capacity_ && !events_.empty()) events_.pop_front();
    if (capacity_ > 0) events_.push_back(std::move(r));
  } catch (...) {
    // Out of memory while recording: drop the event, as on_event promises.
  }
}

std::vector<recorded_event> recording_listener::events() const {
  std::lock_guard lock(mu_);
  return {events_.begin(), events_.end()};
}

std::vector<recorded_event> recording_listener::of(event_kind k) const {
  std::lock_guard lock(mu_);
  std::vector<recorded_event> out;
  for (const auto& e : events_)
    if (e.kind == k) out.push_back(e);
  return out;
}

std::size_t recording_listener::count(event_kind k) const {
  std::lock_guard lock(mu_);
  std::size_t n = 0;
  for (const auto& e : events_)
    n += e.kind == k ? 1 : 0;
  return n;
}

void recording_listener::clear() {
  std::lock_guard lock(mu_);
  events_.clear();
}

}  // namespace keel::resilience
