// keel/alert/rule.hpp
//
// An alert rule: a condition over series (series.hpp) — or over error
// events, which the error tracker exposes as the series
// keel_error_events_total — plus Prometheus' timing (`for`,
// `keep_firing_for`) and the labels and annotations its alerts carry,
// templated with the alert's labels and value.
//
//   // The seeds' first rule: error rate > 5 % once there are more than 100 requests.
//   keel::alert::rule high_error_rate{
//       .name = "HighErrorRate",
//       .cond = {.kind = keel::alert::condition_kind::ratio,
//                .series = {.metric = "http_errors_total"},
//                .denominator = {.metric = "http_requests_total"},
//                .by = std::vector<std::string>{},         // one alert over all series
//                .op = keel::alert::compare::above, .threshold = 0.05,
//                .min_denominator = 100},
//       .labels = {{"severity", "high"}, {"service", "monitoring-api"}},
//       .annotations = {{"summary", "Error rate {{ humanizePercentage $value }}"}}};
//   auto checked = keel::alert::compile(high_error_rate);    // validates, parses templates
//
// Conditions (`value` is what the comparison and $value see):
//   threshold           sum of the current values (gauges, counters)
//   rate                per-second increase over `window` (counter resets handled)
//   increase            increase over `window` — "count in window ≥ N"
//   ratio               increase(series) / increase(denominator) over `window` (0: since the
//                       rule started), no verdict until increase(denominator) > min_denominator
//   histogram_average   Δsum / Δcount over `window`
//   histogram_quantile  `quantile` of the observations over `window` (linear interpolation
//                       inside the bucket, as Prometheus' histogram_quantile)
//   events              increase of keel_error_events_total{matchers} over `window`; grouped
//                       by service and code unless `by` says otherwise
// By default every series is its own alert (labels = the series' labels);
// `by` sums series into one alert per distinct value of the listed labels.
//
// Thread safety: plain values. Cost: compile() parses templates and regexes once.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "keel/alert/labels.hpp"
#include "keel/core/result.hpp"

namespace keel::alert {

// compare
enum class compare : std::uint8_t { above, at_least, below, at_most };  // > >= < <=
std::string_view to_string(compare c) noexcept;
bool holds(compare c, double value, double threshold) noexcept;

// condition_kind
enum class condition_kind : std::uint8_t {
  threshold,
  rate,
  increase,
  ratio,
  histogram_average,
  histogram_quantile,
  events
};
std::string_view to_string(condition_kind k) noexcept;

// selector — a metric name and label matchers.
struct selector {
  std::string metric{};
  std::vector<matcher> matchers{};
};

// condition
struct condition {
  condition_kind kind = condition_kind::threshold;
  selector series{};
  selector denominator{};  // ratio only
  std::chrono::milliseconds window{0};
  std::optional<std::vector<std::string>> by{};  // unset: one alert per series
  compare op = compare::above;
  double threshold = 0;
  double min_denominator = 0;  // ratio only
  double quantile = 0.99;      // histogram_quantile only
  // events only: matchers on the event itself, any of its fields (service,
  // environment, release, code, category, severity, message), e.g.
  // message=~".*connection (refused|reset).*". Such a rule counts into its
  // own series (rule_events_series{rule="<name>"}), which the tracker feeds.
  std::vector<matcher> fields{};
};

// label_template — text with {{ $value }}, {{ $labels.NAME }},
// {{ printf "%.2f" $value }} and {{ humanizePercentage $value }}.
class label_template {
 public:
  // VALIDATION_ERROR naming the bad expression.
  [[nodiscard]] static result<label_template> parse(std::string_view text);
  std::string render(const label_set& labels, double value) const;
  const std::string& source() const noexcept { return source_; }
  bool is_constant() const noexcept;

 private:
  struct part {
    enum class kind : std::uint8_t { text, value, label, printf, percent } k = kind::text;
    std::string arg{};
  };
  std::string source_;
  std::vector<part> parts_;
};

// rule
struct rule {
  std::string name{};  // the alertname label; [a-zA-Z_][a-zA-Z0-9_]*
  condition cond{};
  std::chrono::milliseconds for_duration{0};
  std::chrono::milliseconds keep_firing_for{0};
  std::vector<std::pair<std::string, std::string>> labels{};       // templated values
  std::vector<std::pair<std::string, std::string>> annotations{};  // templated values
};

// The API's view of a rule: every field of its condition, so what GET
// returns describes the rule whole.
nlohmann::ordered_json to_json(const rule& r);

// compiled_rule — a rule with its templates parsed, as the engine keeps it.
struct compiled_rule {
  rule def{};
  std::vector<std::pair<std::string, label_template>> labels{};
  std::vector<std::pair<std::string, label_template>> annotations{};
};

// Validates a rule (name, selectors, window for the kinds that need one,
// quantile in [0,1], templates) and parses its templates.
[[nodiscard]] result<compiled_rule> compile(rule r);

// The name of the series error events are counted in.
inline constexpr std::string_view error_events_series = "keel_error_events_total";
// The series of the events that matched an events rule's `fields`, by rule.
inline constexpr std::string_view rule_events_series = "keel_rule_events_total";
// The event fields `fields` matchers may name.
inline constexpr std::string_view event_fields[] = {"service",  "environment", "release", "code",
                                                    "category", "severity",    "message"};

}  // namespace keel::alert
