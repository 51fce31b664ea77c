#include "keel/reporting/resilience_log.hpp"

#include <string_view>

namespace keel::reporting {
namespace {

using keel::log::kv;
using keel::log::level;
using keel::resilience::breaker_state;
using keel::resilience::event;
using keel::resilience::event_kind;

level level_of(const event& e) noexcept {
  switch (e.kind) {
    case event_kind::retry_scheduled:
    case event_kind::timeout:
    case event_kind::fallback_used:
      return level::warn;
    case event_kind::retry_exhausted:
    case event_kind::retry_budget_exhausted:
      return level::error;
    case event_kind::breaker_state_changed:
      return e.to == breaker_state::open || e.to == breaker_state::forced_open ? level::warn
                                                                               : level::info;
    case event_kind::retry_succeeded:
    case event_kind::retry_cancelled:
    case event_kind::fault_injected:
      return level::info;
    case event_kind::retry_not_retryable:
    case event_kind::breaker_rejected:
    case event_kind::breaker_failure_recorded:
    case event_kind::breaker_slow_call_recorded:
    case event_kind::bulkhead_rejected:
    case event_kind::rate_limited:
    case event_kind::hedge_started:
      return level::debug;
  }
  return level::debug;
}

std::string_view message_of(const event& e) noexcept {
  switch (e.kind) {
    case event_kind::retry_scheduled:
      return "retrying after a failed attempt";
    case event_kind::retry_succeeded:
      return "call succeeded after retries";
    case event_kind::retry_exhausted:
      return "retries exhausted";
    case event_kind::retry_not_retryable:
      return "error is not retryable";
    case event_kind::retry_budget_exhausted:
      return "retry budget exhausted";
    case event_kind::retry_cancelled:
      return "retry cancelled";
    case event_kind::breaker_state_changed:
      return "circuit breaker state changed";
    case event_kind::breaker_rejected:
      return "circuit breaker rejected a call";
    case event_kind::breaker_failure_recorded:
      return "circuit breaker recorded a failure";
    case event_kind::breaker_slow_call_recorded:
      return "circuit breaker recorded a slow call";
    case event_kind::timeout:
      return "call timed out";
    case event_kind::bulkhead_rejected:
      return "bulkhead rejected a call";
    case event_kind::rate_limited:
      return "rate limiter rejected a call";
    case event_kind::fallback_used:
      return "fallback answered a failed call";
    case event_kind::fault_injected:
      return "fault injected";
    case event_kind::hedge_started:
      return "hedged attempt started";
  }
  return "resilience event";
}

}  // namespace

void resilience_log::on_event(const event& e) noexcept {
  const level l = level_of(e);
  if (!log_.enabled(l)) return;
  const std::string_view text = message_of(e);
  // Each event carries its own fields, named for what they mean there; the
  // error, when there is one, comes last as an object.
  const auto emit = [&](const auto&... fields) {
    if (e.error != nullptr) {
      log_.log(l, text, kv("policy", e.name), kv("event", to_string(e.kind)), fields...,
               kv("error", *e.error));
    } else {
      log_.log(l, text, kv("policy", e.name), kv("event", to_string(e.kind)), fields...);
    }
  };
  switch (e.kind) {
    case event_kind::retry_scheduled:
      emit(kv("attempt", e.attempt), kv("delay_ms", e.delay));
      break;
    case event_kind::retry_exhausted:
      emit(kv("attempt", e.attempt), kv("reason", e.reason));
      break;
    case event_kind::retry_succeeded:
    case event_kind::retry_not_retryable:
    case event_kind::retry_budget_exhausted:
    case event_kind::retry_cancelled:
      emit(kv("attempt", e.attempt));
      break;
    case event_kind::breaker_state_changed:
      emit(kv("from", to_string(e.from)), kv("to", to_string(e.to)), kv("reason", e.reason));
      break;
    case event_kind::breaker_rejected:
      emit(kv("state", to_string(e.to)), kv("retry_after_ms", e.delay));
      break;
    case event_kind::breaker_failure_recorded:
    case event_kind::breaker_slow_call_recorded:
      emit(kv("elapsed_ms", e.elapsed));
      break;
    case event_kind::timeout:
      emit(kv("mode", e.reason), kv("timeout_ms", e.delay), kv("elapsed_ms", e.elapsed));
      break;
    case event_kind::bulkhead_rejected:
      emit(kv("reason", e.reason), kv("waited_ms", e.delay));
      break;
    case event_kind::rate_limited:
      emit(kv("retry_after_ms", e.delay));
      break;
    case event_kind::fallback_used:
      emit();
      break;
    case event_kind::fault_injected:
      emit(kv("kind", e.reason), kv("delay_ms", e.delay));
      break;
    case event_kind::hedge_started:
      emit(kv("attempt", e.attempt), kv("delay_ms", e.delay));
      break;
  }
}

}  // namespace keel::reporting
