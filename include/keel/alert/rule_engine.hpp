// keel/alert/rule_engine.hpp
//
// rule_engine evaluates alert rules (rule.hpp) over series sources with
// Prometheus' semantics: a rule whose condition holds makes an alert
// pending; after `for` it fires; when the condition stops holding it stays
// firing for `keep_firing_for` (against flapping) and then resolves. Fired
// and resolved alerts come out of evaluate() for the dispatcher
// (dispatcher.hpp), which groups, silences, inhibits, repeats and routes
// them to receivers.
//
//   keel::alert::rule_engine engine({&metrics_source, &tracker.series()}, clock,
//                                   {.interval = std::chrono::seconds(15)});
//   engine.upsert(high_error_rate).value();
//   keel::alert::evaluation ev;
//   engine.evaluate(ev);                 // every `interval`, from one thread
//   for (auto& a : ev.fired) dispatcher.put(a);
//   for (auto& a : ev.resolved) dispatcher.put(a);
//
// Windows: each alert keeps a ring of totals sampled once per `interval`,
// sized window / interval + 2 when the rule binds, so a window is exact to
// one interval; until a window has elapsed it covers the time since the rule
// started watching. A rule present before the first cycle counts every
// series from zero: a source's series start at zero with the process, so
// an event recorded before that cycle (a crash loop's first seconds) counts.
// A rule added later counts from the values its series had then (a series
// that appears after it counts from zero: it is new). Counter resets (a
// drop) count the new value as the increase.
//
// Thread safety: all member functions may be called concurrently; evaluate()
// holds the engine's lock for a cycle. Cost: a cycle is one virtual read per
// bound series plus a constant amount of work per alert; binding (at the
// first cycle and whenever a source's set of series changes) selects and
// matches series and allocates. bench/bench_alert.cpp, BM_Rules_Evaluate.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "keel/alert/rule.hpp"
#include "keel/alert/series.hpp"
#include "keel/core/clock.hpp"

namespace keel::alert {

// alert_state
enum class alert_state : std::uint8_t { inactive, pending, firing };
std::string_view to_string(alert_state s) noexcept;

// alert
//
// One alert instance of a rule. `ends_at` is set once it resolved.
struct alert {
  std::string rule{};
  label_set labels{};  // alertname, group labels, rule labels
  label_set annotations{};
  alert_state state = alert_state::inactive;
  double value = 0;
  std::chrono::system_clock::time_point active_since{};
  std::chrono::system_clock::time_point fired_at{};
  std::optional<std::chrono::system_clock::time_point> ends_at{};

  // 16 hex characters identifying the alert by its labels.
  std::string fingerprint() const;
  bool resolved() const noexcept { return ends_at.has_value(); }
};

// The API's view of an alert (RFC 3339 times; fired_at once firing).
nlohmann::ordered_json to_json(const alert& a);

// rule_failure — a rule this cycle could not evaluate in full: some of the
// series it selects were left out, so its alerts may be wrong.
//   series_limit  more series than engine_options::max_series_per_rule
//   wrong_kind    series of another kind than the rule reads (a counter
//                 for a histogram rule, or the other way round)
struct rule_failure {
  std::string rule{};
  std::string_view reason{};  // static
  std::size_t series = 0;     // left out
};
inline constexpr std::string_view kSeriesLimit = "series_limit";
inline constexpr std::string_view kWrongKind = "wrong_kind";

// evaluation — what one cycle changed.
struct evaluation {
  std::vector<alert> fired{};            // became firing this cycle
  std::vector<alert> resolved{};         // stopped firing this cycle (ends_at set)
  std::vector<rule_failure> failures{};  // every rule incomplete this cycle
  std::size_t rules = 0;
  std::size_t series = 0;  // bound series read
  std::size_t alerts = 0;  // alert instances evaluated
};

// alerts_sample — one line of the ALERTS-style series:
// ALERTS{alertname, alertstate="pending|firing", ...labels} 1.
struct alerts_sample {
  label_set labels{};
  double value = 1;
};

// saved_alert — what an alert's timers need to survive a restart: its
// state and the times its `for` and `keep_firing_for` count from.
struct saved_alert {
  std::string rule{};
  label_set key{};  // the alert's series labels (as grouped by `by`), before rule labels
  alert_state state = alert_state::inactive;
  std::chrono::system_clock::time_point active_since{};
  std::chrono::system_clock::time_point fired_at{};
  std::chrono::system_clock::time_point last_true{};
};

// engine_options
struct engine_options {
  std::chrono::milliseconds interval{15'000};
  std::size_t max_series_per_rule = 100'000;  // beyond, the rest are not bound (counted)
  std::size_t max_rules = 100'000;
};

class rule_engine {
 public:
  rule_engine(std::vector<const series_source*> sources, const keel::clock& clock,
              engine_options opts = {});
  ~rule_engine();
  rule_engine(const rule_engine&) = delete;
  rule_engine& operator=(const rule_engine&) = delete;

  // Adds a rule or replaces the one of the same name. A replaced rule keeps
  // the state of alerts whose labels it still produces; its windows restart.
  // VALIDATION_ERROR from compile(); RESOURCE_EXHAUSTED beyond max_rules.
  [[nodiscard]] result<void> upsert(rule r);
  // Removes a rule; its firing alerts resolve at the next evaluate().
  [[nodiscard]] result<void> remove(std::string_view name);
  std::vector<rule> rules() const;
  std::size_t rule_count() const;

  // One evaluation cycle at the clock's now. `out` is cleared first.
  void evaluate(evaluation& out);

  // Pending and firing alerts.
  std::vector<alert> active() const;

  // Alert state across a restart. saved() lists every pending and firing
  // alert; restore() gives each to its rule, to take when the rule binds
  // (before its first cycle): a pending alert keeps its `for` timer, a
  // firing one goes on firing without a second "fired" (no re-page). An
  // entry for a rule that does not exist, or that has bound already, is
  // ignored. state_changes() moves whenever an alert changes state.
  std::vector<saved_alert> saved() const;
  void restore(const std::vector<saved_alert>& alerts);
  std::uint64_t state_changes() const;
  std::vector<alerts_sample> alerts_series() const;
  // last_active
  //
  // Pending and firing alerts as of the last evaluate() (what the ALERTS
  // series show, as Prometheus writes them at evaluation). Takes only a
  // small lock never held while the engine reads or selects from its
  // sources, so a metrics collector may call it during a scrape without a
  // lock-order cycle with the registry. Rebuilt only by cycles in which an
  // alert changed state (or rules changed).
  std::shared_ptr<const std::vector<alert>> last_active() const;
  // Series not bound because a rule hit max_series_per_rule.
  std::uint64_t dropped_series() const;

 private:
  struct slot;
  std::uint64_t source_generation() const noexcept;
  void bind(slot& s, std::chrono::system_clock::time_point now, std::uint64_t gen);
  void eval_slot(slot& s, std::chrono::system_clock::time_point now, evaluation& out);
  std::vector<alert> active_locked() const;

  std::vector<const series_source*> sources_;
  const keel::clock& clock_;
  engine_options opts_;
  mutable std::mutex mu_;
  std::vector<std::unique_ptr<slot>> slots_;
  std::vector<alert> orphaned_;  // firing alerts of removed rules, resolved next cycle
  std::uint64_t dropped_ = 0;
  bool changed_ = true;  // an alert changed state since the last publish
  bool evaluated_once_ = false;
  std::uint64_t state_changes_ = 0;
  mutable std::mutex pub_mu_;
  std::shared_ptr<const std::vector<alert>> published_ =
      std::make_shared<const std::vector<alert>>();
};

}  // namespace keel::alert
