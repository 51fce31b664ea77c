#include "keel/reporting/resilience_metrics.hpp"

#include <array>
#include <initializer_list>
#include <string_view>
#include <utility>

#include "keel/metrics/names.hpp"

namespace keel::reporting {
namespace {

using keel::resilience::breaker_state;
using keel::resilience::event;
using keel::resilience::event_kind;

// The code name of the event's error, or "UNKNOWN" when it carries none.
std::string_view code_of(const event& e) noexcept {
  return e.error != nullptr ? e.error->name() : std::string_view("UNKNOWN");
}

// Never throws: an event past the family's series limit is dropped and
// counted, since a policy cannot do anything about a reporting failure.
void bump(keel::metrics::counter_family* f, std::initializer_list<std::string_view> labels,
          keel::metrics::counter* dropped) noexcept {
  try {
    if (auto c = f->try_labels(labels)) {
      (*c)->inc();
      return;
    }
  } catch (...) {  // creating a series allocates
  }
  dropped->inc();
}

}  // namespace

result<std::shared_ptr<resilience_metrics>> resilience_metrics::create(
    keel::metrics::registry& registry, resilience_metrics_options options) {
  std::shared_ptr<resilience_metrics> m(new resilience_metrics());
  struct def {
    keel::metrics::counter_family** slot;
    const char* name;
    const char* help;
    std::vector<std::string> labels;
  };
  const std::array<def, 12> defs{{
      {&m->retry_attempts_,
       "keel_retry_attempts",
       "Failed attempts that a retry policy retried.",
       {"policy", "code"}},
      {&m->retry_calls_,
       "keel_retry_calls",
       "Calls through a retry policy that retried or gave up, by outcome.",
       {"policy", "outcome"}},
      {&m->breaker_transitions_,
       "keel_breaker_transitions",
       "Circuit breaker state changes.",
       {"breaker", "from", "to"}},
      {&m->breaker_failures_,
       "keel_breaker_failures",
       "Failed calls a circuit breaker recorded, by error code.",
       {"breaker", "code"}},
      {&m->breaker_slow_calls_,
       "keel_breaker_slow_calls",
       "Slow calls a circuit breaker recorded.",
       {"breaker"}},
      {&m->breaker_rejected_,
       "keel_breaker_rejected",
       "Calls a circuit breaker refused while open or half-open and full.",
       {"breaker"}},
      {&m->timeouts_,
       "keel_timeouts",
       "Calls that overran a timeout policy, by mode.",
       {"policy", "mode"}},
      {&m->bulkhead_rejected_,
       "keel_bulkhead_rejected",
       "Calls a bulkhead refused, by reason.",
       {"bulkhead", "reason"}},
      {&m->rate_limited_, "keel_rate_limited", "Calls a rate limiter refused.", {"limiter"}},
      {&m->fallback_used_,
       "keel_fallback_used",
       "Failed calls a fallback answered, by the error replaced.",
       {"policy", "code"}},
      {&m->faults_injected_,
       "keel_faults_injected",
       "Faults a fault-injection policy injected.",
       {"policy", "kind"}},
      {&m->hedges_started_, "keel_hedges_started", "Hedged attempts started.", {"policy"}},
  }};
  for (const def& d : defs) {
    auto f = registry.add_counter(
        {.name = d.name, .help = d.help, .labels = d.labels, .max_series = options.max_series});
    if (!f) return fail(std::move(f.error()));
    *d.slot = *f;
  }
  auto dropped = registry.add_counter(
      {.name = "keel_resilience_events_dropped",
       .help = "Resilience events not counted because their metric family was full."});
  if (!dropped) return fail(std::move(dropped.error()));
  m->dropped_ = &(*dropped)->labels();
  return m;
}

std::uint64_t resilience_metrics::dropped() const noexcept {
  return static_cast<std::uint64_t>(dropped_->value());
}

void resilience_metrics::on_event(const event& e) noexcept {
  switch (e.kind) {
    case event_kind::retry_scheduled:
      bump(retry_attempts_, {e.name, code_of(e)}, dropped_);
      break;
    case event_kind::retry_succeeded:
      bump(retry_calls_, {e.name, "success_after_retry"}, dropped_);
      break;
    case event_kind::retry_exhausted:
      bump(retry_calls_, {e.name, "exhausted"}, dropped_);
      break;
    case event_kind::retry_not_retryable:
      bump(retry_calls_, {e.name, "not_retryable"}, dropped_);
      break;
    case event_kind::retry_budget_exhausted:
      bump(retry_calls_, {e.name, "budget_exhausted"}, dropped_);
      break;
    case event_kind::retry_cancelled:
      bump(retry_calls_, {e.name, "cancelled"}, dropped_);
      break;
    case event_kind::breaker_state_changed:
      bump(breaker_transitions_, {e.name, to_string(e.from), to_string(e.to)}, dropped_);
      break;
    case event_kind::breaker_rejected:
      bump(breaker_rejected_, {e.name}, dropped_);
      break;
    case event_kind::breaker_failure_recorded:
      bump(breaker_failures_, {e.name, code_of(e)}, dropped_);
      break;
    case event_kind::breaker_slow_call_recorded:
      bump(breaker_slow_calls_, {e.name}, dropped_);
      break;
    case event_kind::timeout:
      bump(timeouts_, {e.name, e.reason}, dropped_);
      break;
    case event_kind::bulkhead_rejected:
      bump(bulkhead_rejected_, {e.name, e.reason}, dropped_);
      break;
    case event_kind::rate_limited:
      bump(rate_limited_, {e.name}, dropped_);
      break;
    case event_kind::fallback_used:
      bump(fallback_used_, {e.name, code_of(e)}, dropped_);
      break;
    case event_kind::fault_injected:
      bump(faults_injected_, {e.name, e.reason}, dropped_);
      break;
    case event_kind::hedge_started:
      bump(hedges_started_, {e.name}, dropped_);
      break;
  }
}

std::vector<std::string> breaker_collector::describe() const {
  return {"keel_breaker_state", "keel_breaker_failure_rate", "keel_breaker_slow_call_rate",
          "keel_breaker_buffered_calls"};
}

void breaker_collector::collect(keel::metrics::metric_sink& out) const {
  using keel::metrics::metric_type;
  const auto snapshots = breakers_.snapshots();
  std::string labels;
  const auto breaker_label = [&](const keel::resilience::breaker_snapshot& s) -> std::string& {
    labels.clear();
    keel::metrics::render_labels({"breaker"}, {s.name}, labels);
    return labels;
  };

  static constexpr std::array<breaker_state, 5> kStates{
      breaker_state::closed, breaker_state::open, breaker_state::half_open, breaker_state::disabled,
      breaker_state::forced_open};
  out.begin_family({.name = "keel_breaker_state",
                    .help = "Circuit breaker state: 1 for the current state, 0 for the others.",
                    .type = metric_type::gauge});
  for (const auto& s : snapshots) {
    for (const breaker_state st : kStates) {
      labels.clear();
      keel::metrics::render_labels({"breaker", "state"}, {s.name, to_string(st)}, labels);
      out.sample(labels, s.state == st ? 1 : 0);
    }
  }
  out.end_family();

  out.begin_family({.name = "keel_breaker_failure_rate",
                    .help = "Failure rate over the breaker's window (0 before its minimum calls).",
                    .type = metric_type::gauge});
  for (const auto& s : snapshots)
    out.sample(breaker_label(s), s.failure_rate);
  out.end_family();

  out.begin_family(
      {.name = "keel_breaker_slow_call_rate",
       .help = "Slow-call rate over the breaker's window (0 before its minimum calls).",
       .type = metric_type::gauge});
  for (const auto& s : snapshots)
    out.sample(breaker_label(s), s.slow_call_rate);
  out.end_family();

  out.begin_family({.name = "keel_breaker_buffered_calls",
                    .help = "Calls in the breaker's sliding window.",
                    .type = metric_type::gauge});
  for (const auto& s : snapshots)
    out.sample(breaker_label(s), static_cast<double>(s.buffered_calls));
  out.end_family();
}

}  // namespace keel::reporting
