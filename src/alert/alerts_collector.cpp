#include "keel/alert/alerts_collector.hpp"

#include <algorithm>
#include <chrono>
#include <string_view>
#include <utility>

#include "keel/metrics/names.hpp"

namespace keel::alert {
namespace {

struct row {
  label_set labels{};  // without alertstate
  alert_state state = alert_state::inactive;
  double since = 0;  // Unix seconds
};

// alertname first, then alertstate (ALERTS only), then the other labels in
// name order, as Prometheus shows them.
void render(const label_set& l, std::string_view state, std::string& out) {
  std::vector<std::string> names;
  std::vector<std::string_view> values;
  names.reserve(l.size() + 1);
  values.reserve(l.size() + 1);
  names.emplace_back("alertname");
  values.push_back(l.get("alertname"));
  if (!state.empty()) {
    names.emplace_back("alertstate");
    values.push_back(state);
  }
  for (const auto& [k, v] : l) {
    if (k == "alertname" || k == "alertstate") continue;
    names.push_back(k);
    values.push_back(v);
  }
  out.clear();
  keel::metrics::render_labels(names, values, out);
}

}  // namespace

void alerts_collector::collect(keel::metrics::metric_sink& out) const {
  const auto alerts = engine_.last_active();
  std::vector<row> rows;
  rows.reserve(alerts->size());
  for (const auto& a : *alerts) {
    if (a.state == alert_state::inactive) continue;
    label_set l = a.labels;
    l.set("alertstate", "");  // ours wins over a rule label of that name
    rows.push_back({std::move(l), a.state,
                    std::chrono::duration<double>(a.active_since.time_since_epoch()).count()});
  }
  // One series per label set: equal sets after templating would repeat one.
  std::stable_sort(rows.begin(), rows.end(),
                   [](const row& x, const row& y) { return x.labels < y.labels; });
  rows.erase(std::unique(rows.begin(), rows.end(),
                         [](const row& x, const row& y) { return x.labels == y.labels; }),
             rows.end());

  std::string labels;
  out.begin_family({.name = "ALERTS",
                    .help = "Alerts pending or firing (1 per alert), as Prometheus' ALERTS.",
                    .type = keel::metrics::metric_type::gauge});
  for (const auto& r : rows) {
    render(r.labels, to_string(r.state), labels);
    out.sample(labels, 1);
  }
  out.end_family();
  out.begin_family({.name = "ALERTS_FOR_STATE",
                    .help = "When each pending or firing alert became active, in Unix seconds.",
                    .type = keel::metrics::metric_type::gauge});
  for (const auto& r : rows) {
    render(r.labels, {}, labels);
    out.sample(labels, r.since);
  }
  out.end_family();
}

}  // namespace keel::alert
