// keel/reporting/resilience_metrics.hpp
//
// resilience_metrics counts what resilience policies do on keel::metrics: it
// is the event_listener (keel/resilience/events.hpp) a service gives its
// policies so that retries, rejections, timeouts, fallbacks and injected
// faults become Prometheus counters labelled by policy name and error code.
// breaker_collector exposes a breaker_registry's breakers at scrape time:
// their state as a gauge, failure and slow-call rates, buffered calls and
// rejected calls.
//
//   keel::metrics::registry& metrics = keel::metrics::registry::global();
//   auto counts = keel::reporting::resilience_metrics::create(metrics).value();
//   keel::resilience::retry retries({.name = "payments", .listener = counts});
//   keel::resilience::breaker_registry breakers({.listener = counts});
//   metrics.add_collector(std::make_shared<keel::reporting::breaker_collector>(breakers)).value();
//
// What is exposed (every counter ends in _total):
//
//   keel_retry_attempts_total{policy,code}             a failed attempt that is retried
//   keel_retry_calls_total{policy,outcome}             calls that retried or gave up:
//       outcome = success_after_retry | exhausted | not_retryable | budget_exhausted | cancelled
//   keel_breaker_transitions_total{breaker,from,to}    state changes
//   keel_breaker_failures_total{breaker,code}          failures the breaker recorded
//   keel_breaker_slow_calls_total{breaker}             slow calls the breaker recorded
//   keel_breaker_rejected_total{breaker}               calls refused while open
//   keel_timeouts_total{policy,mode}                   mode = cooperative | preemptive
//   keel_bulkhead_rejected_total{bulkhead,reason}      reason = full | queue_full | wait_expired
//   keel_rate_limited_total{limiter}
//   keel_fallback_used_total{policy,code}
//   keel_faults_injected_total{policy,kind}            kind = error | latency | outcome
//   keel_hedges_started_total{policy}
//   keel_breaker_state{breaker,state}                  1 for the current state, 0 for the others
//   keel_breaker_failure_rate{breaker}, keel_breaker_slow_call_rate{breaker}   0..1 (0 below
//                                                                               minimum calls)
//   keel_breaker_buffered_calls{breaker}               calls in the sliding window
//
// Policies publish events only off the success path (a first-try success
// publishes nothing), so a success costs these counters nothing. An event
// costs a label lookup (the family's mutex and a hash; no allocation once the
// series exists). Label values are the policy's configured name and the
// error's code name; each family holds at most `max_series` series, and an
// event past that is counted in keel_resilience_events_dropped_total rather
// than growing memory.
//
// Thread safety: on_event() and collect() may run on any thread. The metrics
// registry must outlive the listener; the breaker registry must outlive the
// collector.
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "keel/core/result.hpp"
#include "keel/metrics/collector.hpp"
#include "keel/metrics/registry.hpp"
#include "keel/resilience/breaker_registry.hpp"
#include "keel/resilience/events.hpp"

namespace keel::reporting {

// resilience_metrics_options
struct resilience_metrics_options {
  std::size_t max_series = 1000;  // per family
};

// resilience_metrics
class resilience_metrics final : public keel::resilience::event_listener {
 public:
  // Registers the counter families on `registry` (CONFLICT when one of the
  // names is taken by another definition).
  static result<std::shared_ptr<resilience_metrics>> create(
      keel::metrics::registry& registry, resilience_metrics_options options = {});

  void on_event(const keel::resilience::event& e) noexcept override;

  // Events that found their family full (also exposed as a counter).
  std::uint64_t dropped() const noexcept;

 private:
  resilience_metrics() = default;

  keel::metrics::counter_family* retry_attempts_ = nullptr;
  keel::metrics::counter_family* retry_calls_ = nullptr;
  keel::metrics::counter_family* breaker_transitions_ = nullptr;
  keel::metrics::counter_family* breaker_failures_ = nullptr;
  keel::metrics::counter_family* breaker_slow_calls_ = nullptr;
  keel::metrics::counter_family* breaker_rejected_ = nullptr;
  keel::metrics::counter_family* timeouts_ = nullptr;
  keel::metrics::counter_family* bulkhead_rejected_ = nullptr;
  keel::metrics::counter_family* rate_limited_ = nullptr;
  keel::metrics::counter_family* fallback_used_ = nullptr;
  keel::metrics::counter_family* faults_injected_ = nullptr;
  keel::metrics::counter_family* hedges_started_ = nullptr;
  keel::metrics::counter* dropped_ = nullptr;
};

// breaker_collector
//
// The breakers of a registry as gauges, read from breaker_registry::snapshots()
// when scraped (so the state is exact at scrape time, not replayed from
// events).
class breaker_collector final : public keel::metrics::collector {
 public:
  explicit breaker_collector(const keel::resilience::breaker_registry& breakers)
      : breakers_(breakers) {}

  std::vector<std::string> describe() const override;
  void collect(keel::metrics::metric_sink& out) const override;

 private:
  const keel::resilience::breaker_registry& breakers_;
};

}  // namespace keel::reporting
