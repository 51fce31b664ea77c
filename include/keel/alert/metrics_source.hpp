// keel/alert/metrics_source.hpp
//
// metrics_source lets alert rules watch keel::metrics: a series_source
// (series.hpp) over a keel::metrics::registry's counters, gauges and
// histograms, selected by the name Prometheus would show and filtered by the
// rule's label matchers.
//
//   keel::metrics::registry& reg = keel::metrics::registry::global();
//   keel::alert::metrics_source metrics(reg);
//   keel::alert::rule_engine engine({&metrics, &tracker.series()}, clock);
//   // rules: http_requests_total{status=~"5.."} / http_requests_total,
//   //        histogram_average of http_request_duration_seconds
//
// Names: a counter family `http_requests` (registered with or without
// `_total`) is the series `http_requests_total`; gauges and histograms keep
// their family name (a histogram rule names the histogram, not its `_sum` or
// `_count`). Families produced by other collectors (process, build info,
// ALERTS) are not watchable: they have no cells to bind to.
//
// Binding: select() looks the family up, walks its children and hands out
// one series object per child, the same object every time (rules keep their
// totals by series identity). New families and new label children change
// registry::generation(), so rule_engine rebinds at its next cycle and finds
// them.
//
// Reading: a bound series reads its metric directly — a gauge's atomic, a
// counter's or histogram's per-thread cells — with no lookup, no lock and no
// allocation. Summing cells needs keel::metrics' arena reader (it keeps
// threads from exiting and freeing their cells mid-sum); rule_engine takes
// it once per cycle through begin_reads()/end_reads(), as a scrape takes it
// once per family. A read outside such a bracket takes the reader itself.
// While the bracket is open on a thread, that thread must not create
// metrics (the arena lock is held).
//
// Thread safety: all member functions may be called concurrently; series
// may be read from any thread. The registry must outlive the source; series
// keep their family alive. Cost: select() is a registry lookup plus one pass
// over the family's children (allocating the series objects once); a read is
// O(threads that touched the metric) per cell (bench/bench_alert.cpp).
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "keel/alert/series.hpp"
#include "keel/metrics/registry.hpp"

namespace keel::alert {

// metrics_source
class metrics_source final : public series_source {
 public:
  explicit metrics_source(const keel::metrics::registry& reg) : reg_(reg) {}
  metrics_source(const metrics_source&) = delete;
  metrics_source& operator=(const metrics_source&) = delete;

  std::uint64_t generation() const noexcept override { return reg_.generation(); }
  void select(std::string_view name,
              std::vector<std::shared_ptr<const series>>& out) const override;
  void begin_reads() const override;
  void end_reads() const noexcept override;

  // Series objects handed out so far (one per child ever selected).
  std::size_t bound() const;

 private:
  template <class Family>
  void select_family(const std::shared_ptr<Family>& f, std::string_view exposed,
                     std::vector<std::shared_ptr<const series>>& out) const;

  const keel::metrics::registry& reg_;
  mutable std::mutex mu_;
  // child metric -> its series; children are never removed, so this grows
  // only with the families' own (bounded) children.
  mutable std::unordered_map<const void*, std::shared_ptr<const series>> cache_;
};

}  // namespace keel::alert
