// keel/metrics/histogram.hpp
//
// histogram counts observations (latencies, sizes) into buckets with fixed
// upper bounds, plus their sum, so Prometheus can compute quantiles and
// averages over any window (histogram_quantile).
//
//   auto* latency = registry.add_histogram({.name = "http_request_duration_seconds",
//       .help = "Time to serve a request.", .labels = {"route"},
//       .buckets = keel::metrics::default_buckets()}).value();
//   keel::metrics::histogram& h = latency->labels("/orders");
//   h.observe(0.042);
//
// Buckets are upper bounds, strictly increasing and finite; +Inf is implicit.
// An observation v lands in the first bucket with v <= bound. The count is
// the sum of the buckets, so the exposed `+Inf` bucket always equals `_count`.
// NaN observations are ignored.
//
// How: like counter, per-thread cells (one per bucket and one for the sum, all
// in one page) written with relaxed load+store; the bucket is found by a
// linear scan with early exit; for the usual dozen bounds it measured as
// fast as or faster than a branch-free full scan or a branch-free binary
// search, even on random observations.
//
// Thread safety: observe from any number of threads; scrapes concurrently.
// Cost: observe() is the bucket scan plus two load+store pairs, a few ns
// (BM_Histogram_Observe).
#pragma once

#include <cmath>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

#include "keel/core/result.hpp"
#include "keel/metrics/collector.hpp"
#include "keel/metrics/detail/cells.hpp"

namespace keel::metrics {

// The client libraries' default latency buckets, in seconds:
// .005 .01 .025 .05 .1 .25 .5 1 2.5 5 10.
std::vector<double> default_buckets();
// `count` bounds start, start + width, ...
std::vector<double> linear_buckets(double start, double width, std::size_t count);
// `count` bounds start, start * factor, ...
std::vector<double> exponential_buckets(double start, double factor, std::size_t count);

// validate_buckets
//
// VALIDATION_ERROR unless bounds are 1..510, finite and strictly increasing.
result<void> validate_buckets(std::span<const double> bounds);

class histogram {
 public:
  // The bucket bounds, shared by every child of a family.
  struct config {
    std::shared_ptr<const std::vector<double>> bounds{};
  };

  // Throws keel::exception: VALIDATION_ERROR for bad bounds, RESOURCE_EXHAUSTED
  // when the cell arena is full.
  explicit histogram(std::vector<double> bounds = default_buckets());
  // For family: a child sharing the family's bounds (already validated).
  histogram(const config& c, std::in_place_t);
  ~histogram();
  histogram(const histogram&) = delete;
  histogram& operator=(const histogram&) = delete;

  void observe(double v) noexcept {
    if (std::isnan(v)) [[unlikely]]
      return;
    std::uint32_t i = 0;
    while (i < n_bounds_ && v > bounds_[i])
      ++i;
    if (auto* cells = detail::local_cells(base_)) [[likely]] {
      detail::bump_u64(cells[i], 1);
      detail::bump_f64(cells[n_bounds_ + 1], v);
    } else {
      detail::add_retired_u64(base_ + i, 1);
      detail::add_retired_f64(base_ + n_bounds_ + 1, v);
    }
  }

  std::span<const double> bounds() const noexcept { return {bounds_, n_bounds_}; }

  // A consistent-enough view: cumulative bucket counts (bounds + 1, the last
  // is the count) and the sum. Takes the arena lock.
  struct snapshot {
    std::vector<std::uint64_t> cumulative{};
    double sum = 0;
    std::uint64_t count() const noexcept { return cumulative.empty() ? 0 : cumulative.back(); }
  };
  snapshot get() const;

  // read
  //
  // The snapshot's numbers under a reader the caller already holds, into
  // `cumulative` (bounds().size() + 1 entries, the last is the count; a
  // shorter span gets its first entries only). Returns the sum. No lock, no
  // allocation: for readers that poll many series once per cycle.
  double read(const detail::arena::reader& cells,
              std::span<std::uint64_t> cumulative) const noexcept;

  void collect(std::string_view labels, metric_sink& out, const detail::arena::reader& cells) const;

 private:
  void init();
  std::shared_ptr<const std::vector<double>> owned_;
  const double* bounds_ = nullptr;
  std::uint32_t n_bounds_ = 0;
  std::uint32_t base_ = 0;  // buckets base_..base_+n_bounds_, sum at base_+n_bounds_+1
};

}  // namespace keel::metrics
