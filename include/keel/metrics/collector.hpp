// keel/metrics/collector.hpp
//
// A collector produces metric families at scrape time. The registry is one;
// families are; so are the process and build-info collectors. Anything that
// already keeps its own numbers (a connection pool, a queue, a cache) can
// expose them by implementing collector instead of mirroring them into
// gauges, as client_golang's Collector does.
//
//   class queue_collector final : public keel::metrics::collector {
//    public:
//     std::vector<std::string> describe() const override { return {"jobs_queued"}; }
//     void collect(keel::metrics::metric_sink& out) const override {
//       out.begin_family({.name = "jobs_queued", .help = "Jobs waiting.",
//                         .type = keel::metrics::metric_type::gauge});
//       out.sample("", static_cast<double>(q_.size()));
//       out.end_family();
//     }
//   };
//   registry.add_collector(std::make_shared<queue_collector>(q)).value();
//
// The sink is a streaming interface (no intermediate snapshot), so the
// exposition encoders write text straight from the cells.
//
// Thread safety: collect() may be called from any thread, concurrently with
// updates of the metrics it reads; implementations must allow that. A sink
// is called while the family being collected holds its locks: a sink may
// increment existing metrics, but must not create metrics or register
// families (that would deadlock on the family or arena lock).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace keel::metrics {

// metric_type
//
// The Prometheus / OpenMetrics type of a family.
enum class metric_type : std::uint8_t { counter, gauge, histogram };

std::string_view to_string(metric_type t) noexcept;

// family_info
//
// What a sink needs to know before the samples of one family. `name` is the
// family name without suffixes: a counter `http_requests` is exposed as
// `http_requests_total`.
struct family_info {
  std::string_view name{};
  std::string_view help{};
  metric_type type = metric_type::gauge;
};

// metric_sink
//
// Receives families from collectors. `labels` is always the rendered label
// pairs without braces — `method="GET",code="200"` — escaped as the
// exposition formats require (render_labels in names.hpp), or empty.
class metric_sink {
 public:
  virtual ~metric_sink() = default;
  virtual void begin_family(const family_info& info) = 0;
  // A counter total or a gauge value.
  virtual void sample(std::string_view labels, double value) = 0;
  // One histogram series: `cumulative` has bounds.size() + 1 entries, the
  // last being the +Inf bucket (= the count).
  virtual void histogram(std::string_view labels, std::span<const double> bounds,
                         std::span<const std::uint64_t> cumulative, double sum) = 0;
  virtual void end_family() = 0;
};

// collector
//
// describe() lists the family names collect() will produce, so a registry
// can reject two collectors that would expose the same family.
class collector {
 public:
  virtual ~collector() = default;
  virtual std::vector<std::string> describe() const = 0;
  virtual void collect(metric_sink& out) const = 0;
};

}  // namespace keel::metrics
