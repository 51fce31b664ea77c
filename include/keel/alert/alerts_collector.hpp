// keel/alert/alerts_collector.hpp
//
// alerts_collector exposes a rule_engine's alerts on keel::metrics the way
// Prometheus records its own: one `ALERTS` sample per pending or firing
// alert and one `ALERTS_FOR_STATE` sample carrying when it became active.
//
//   ALERTS{alertname="HighErrorRate",alertstate="firing",severity="high"} 1
//   ALERTS_FOR_STATE{alertname="HighErrorRate",severity="high"} 1.7e9   (Unix seconds)
//
//   keel::alert::rule_engine engine({&metrics}, clock);
//   registry.add_collector(std::make_shared<keel::alert::alerts_collector>(engine)).value();
//
// The samples are the engine's alerts as of its last evaluate()
// (rule_engine::last_active()), as Prometheus writes ALERTS at evaluation
// time. Two alerts whose labels came out equal after templating expose one
// series (the first), as a scrape must not repeat a series.
//
// Thread safety: collect() may run concurrently with evaluate(); it takes
// only the engine's publish lock, never the lock held while the engine
// selects from a metrics registry (no lock-order cycle with a scrape). The
// engine must outlive the collector.
// Cost: a scrape renders every active alert's labels (allocates); evaluate()
// pays nothing for it except in cycles where an alert changed state.
#pragma once

#include <string>
#include <vector>

#include "keel/alert/rule_engine.hpp"
#include "keel/metrics/collector.hpp"

namespace keel::alert {

// alerts_collector
class alerts_collector final : public keel::metrics::collector {
 public:
  explicit alerts_collector(const rule_engine& engine) : engine_(engine) {}

  std::vector<std::string> describe() const override { return {"ALERTS", "ALERTS_FOR_STATE"}; }
  void collect(keel::metrics::metric_sink& out) const override;

 private:
  const rule_engine& engine_;
};

}  // namespace keel::alert
