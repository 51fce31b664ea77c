// keel/reporting/resilience_log.hpp
//
// resilience_log writes what resilience policies do as keel::log lines: the
// event_listener (keel/resilience/events.hpp) that turns a retry into a warn
// line, exhausted retries into an error line and a breaker opening into a
// warn line, each with the policy name and attempt number, as the seeds'
// retry decorators and circuit breakers log.
//
//   auto lines = std::make_shared<keel::reporting::resilience_log>();   // logger "resilience"
//   auto counts = keel::reporting::resilience_metrics::create(metrics).value();
//   auto listener = std::make_shared<keel::resilience::fanout_listener>(
//       std::vector<std::shared_ptr<keel::resilience::event_listener>>{counts, lines});
//   keel::resilience::retry retries({.name = "payments", .listener = listener});
//
// Levels, chosen so that a line per call never floods the log under
// overload (the counters of resilience_metrics count those calls instead):
//
//   warn   retrying, breaker opened (or forced open), timeout, fallback used
//   error  retries exhausted, retry budget exhausted
//   info   succeeded after retries, retry cancelled, breaker closed /
//          half-open / disabled, fault injected
//   debug  not retryable, breaker rejected a call, failure or slow call
//          recorded, bulkhead rejected, rate limited, hedge started
//
// Fields: policy (the configured name) and event (retry_scheduled,
// breaker_state_changed, ...), then what that event carries: attempt and
// delay_ms for a retry, reason when retries end, from / to / reason for a
// state change, mode / timeout_ms / elapsed_ms for a timeout, retry_after_ms
// for a rejection, and last the error as an object (code, category,
// message, details, cause chain).
// The request context of the thread that caused the event is added by
// keel::log, so a retry line carries the request_id of the call it retried.
//
// Thread safety: on_event() may run on any thread; it costs what a keel::log
// call costs (no lock, no allocation).
#pragma once

#include "keel/log/logger.hpp"
#include "keel/resilience/events.hpp"

namespace keel::reporting {

// resilience_log
class resilience_log final : public keel::resilience::event_listener {
 public:
  explicit resilience_log(keel::log::logger log = keel::log::logger("resilience"))
      : log_(std::move(log)) {}

  void on_event(const keel::resilience::event& e) noexcept override;

 private:
  keel::log::logger log_;
};

}  // namespace keel::reporting
