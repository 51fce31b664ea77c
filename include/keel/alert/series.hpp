// keel/alert/series.hpp
//
// The seam between alert rules and whatever holds the numbers they watch.
// A rule selects series by metric name and label matchers from a
// series_source, binds to them once, and then reads each bound series every
// evaluation cycle through a virtual call — no lookup, no lock, no
// allocation per read.
//
//   keel::alert::series_table table;                        // values set from outside
//   auto requests = table.counter("http_requests_total", {{"method", "GET"}});
//   requests->add(1);
//   auto latency = table.histogram("http_request_duration_seconds", {}, {0.1, 0.5, 1, 2, 5});
//   latency->observe(0.25);
//   keel::alert::rule_engine engine(table, clock);         // rule_engine.hpp
//
// Sources: series_table (values pushed in: tests, remote writers, keeld's
// ingestion API) and error_tracker::series() (error-event counts as the
// counter keel_error_events_total{service,code,category,severity}).
// metrics_source (metrics_source.hpp) adapts keel::metrics' registry: its
// counters, gauges and histograms by name.
//
// Thread safety: series_table may be written and read from any thread;
// values are atomics, the set of series is under a mutex taken only by
// select() and by creating a series. Cost: add/set/observe are one or two
// relaxed atomic operations.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "keel/alert/labels.hpp"

namespace keel::alert {

// series_kind
//
// counter: only goes up (a drop is a reset). gauge: any value.
// histogram: bucketed observations with count and sum.
enum class series_kind : std::uint8_t { counter, gauge, histogram };

// histogram_snapshot
//
// `upper_bounds` excludes +Inf; `cumulative` has one more entry than
// `upper_bounds`, the last being the +Inf bucket (== count).
struct histogram_snapshot {
  std::uint64_t count = 0;
  double sum = 0;
  std::vector<double> upper_bounds{};
  std::vector<std::uint64_t> cumulative{};
};

// series
//
// One time series as a rule reads it.
class series {
 public:
  virtual ~series() = default;
  virtual series_kind kind() const noexcept = 0;
  // The metric name and labels (without __name__).
  virtual const std::string& name() const noexcept = 0;
  virtual const label_set& labels() const noexcept = 0;
  // Counter or gauge value; a histogram's observation count.
  virtual double value() const noexcept = 0;
  // Histograms only: fills `out`, reusing its vectors' capacity.
  virtual void read_histogram(histogram_snapshot& out) const = 0;
};

// series_source
//
// Where rules find series. generation() changes whenever the set of series
// changes, so rules rebind only then.
class series_source {
 public:
  virtual ~series_source() = default;
  virtual std::uint64_t generation() const noexcept = 0;
  // Appends every series named `name` to `out`. Asking again returns the
  // same objects for the series that are still there (rules keep their
  // totals by series identity).
  virtual void select(std::string_view name,
                      std::vector<std::shared_ptr<const series>>& out) const = 0;
  // begin_reads / end_reads
  //
  // Bracket the reads of one evaluation cycle on one thread (never a
  // select()), so a source whose reads need a lock takes it once per cycle
  // instead of once per read (metrics_source holds keel::metrics' arena
  // reader). Brackets may nest on a thread; the default does nothing.
  virtual void begin_reads() const {}
  virtual void end_reads() const noexcept {}
};

// value_series
//
// A counter or gauge in a series_table.
class value_series final : public series {
 public:
  value_series(series_kind k, std::string name, label_set labels)
      : kind_(k), name_(std::move(name)), labels_(std::move(labels)) {}
  series_kind kind() const noexcept override { return kind_; }
  const std::string& name() const noexcept override { return name_; }
  const label_set& labels() const noexcept override { return labels_; }
  double value() const noexcept override { return v_.load(std::memory_order_relaxed); }
  void read_histogram(histogram_snapshot& out) const override { out = {}; }

  void set(double v) noexcept { v_.store(v, std::memory_order_relaxed); }
  void add(double d) noexcept { v_.fetch_add(d, std::memory_order_relaxed); }

 private:
  series_kind kind_;
  std::string name_;
  label_set labels_;
  std::atomic<double> v_{0};
};

// histogram_series
//
// A histogram in a series_table. observe() is a binary search over the
// bounds and three relaxed atomic adds; a snapshot taken while observations
// land may be off by those in flight (as any lock-free histogram).
class histogram_series final : public series {
 public:
  histogram_series(std::string name, label_set labels, std::vector<double> bounds);
  series_kind kind() const noexcept override { return series_kind::histogram; }
  const std::string& name() const noexcept override { return name_; }
  const label_set& labels() const noexcept override { return labels_; }
  double value() const noexcept override {
    return static_cast<double>(count_.load(std::memory_order_relaxed));
  }
  void read_histogram(histogram_snapshot& out) const override;

  void observe(double v) noexcept;

 private:
  std::string name_;
  label_set labels_;
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> buckets_;  // non-cumulative, +Inf last
  std::atomic<std::uint64_t> count_{0};
  std::atomic<double> sum_{0};
};

// series_table
//
// A series_source holding values set from outside. Asking again for the
// same name and labels returns the same series.
class series_table final : public series_source {
 public:
  std::shared_ptr<value_series> counter(std::string_view name, label_set labels);
  std::shared_ptr<value_series> gauge(std::string_view name, label_set labels);
  std::shared_ptr<histogram_series> histogram(std::string_view name, label_set labels,
                                              std::vector<double> upper_bounds);
  // Removes a series; rules bound to it drop it at their next rebind.
  void remove(std::string_view name, const label_set& labels);

  std::uint64_t generation() const noexcept override {
    return generation_.load(std::memory_order_acquire);
  }
  void select(std::string_view name,
              std::vector<std::shared_ptr<const series>>& out) const override;
  std::size_t size() const;

 private:
  std::shared_ptr<series> find_or_add(std::string_view name, label_set labels, series_kind kind,
                                      std::vector<double> bounds);
  mutable std::mutex mu_;
  // name -> series of that name
  std::unordered_map<std::string, std::vector<std::shared_ptr<series>>> by_name_;
  // name \0 labels kind -> series, so creating one is not a scan
  std::unordered_map<std::string, std::shared_ptr<series>> by_key_;
  std::atomic<std::uint64_t> generation_{1};
};

}  // namespace keel::alert
