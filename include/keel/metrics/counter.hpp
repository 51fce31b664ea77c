// keel/metrics/counter.hpp
//
// counter counts events: it only goes up. Integer increments (inc) are the
// fast path; fractional amounts (add, e.g. seconds of CPU or bytes scaled)
// go to a second cell; the exposed total is their sum.
//
//   auto* requests = registry.add_counter({.name = "http_requests_total",
//       .help = "HTTP requests served.", .labels = {"method", "code"}}).value();
//   keel::metrics::counter& ok = requests->labels("GET", "200");  // once, keep the handle
//   ok.inc();                                                     // per request
//
//   keel::metrics::counter standalone;   // outside any registry (tests, collectors)
//   standalone.inc(3); standalone.value();                        // 3
//
// How (chosen by measurement): each thread writes its own cell with a
// relaxed load and store — no lock, no locked read-modify-write, no shared
// cache line; value() and scrapes sum the cells of every thread plus the
// totals of exited threads. One atomic per counter with fetch_add, measured
// beside it (BM_Design_FetchAdd_Inc), costs about three times as much on one
// thread and bounces the cache line between cores with two; the cells cost
// memory per thread and a scrape that is O(threads) instead
// (detail/cells.hpp, docs/metrics.md).
//
// Thread safety: inc/add from any number of threads; value() concurrently.
// Cost: inc() is two dependent loads (thread table, page) and a load+store,
// about 0.7 ns of CPU at 1 and 2 threads (bench/bench_metrics.cpp,
// BM_Counter_Inc); the first increment
// on a thread allocates that thread's page. value() takes the arena lock and
// is O(threads).
#pragma once

#include <cmath>
#include <cstdint>
#include <string_view>
#include <utility>

#include "keel/metrics/collector.hpp"
#include "keel/metrics/detail/cells.hpp"

namespace keel::metrics {

class counter {
 public:
  // No per-family configuration.
  struct config {};

  // Throws keel::exception (RESOURCE_EXHAUSTED) when the process-wide cell
  // arena (1 Mi cells) is full.
  counter();
  // For family: a child built from the family's configuration.
  counter(const config&, std::in_place_t) : counter() {}
  ~counter();
  counter(const counter&) = delete;
  counter& operator=(const counter&) = delete;

  // Adds `n` (default 1).
  void inc(std::uint64_t n = 1) noexcept { detail::add_u64(base_, n); }

  // Adds a fractional amount. Negative and NaN amounts are ignored: a counter
  // never goes down (use a gauge).
  void add(double v) noexcept {
    if (v > 0 && std::isfinite(v)) detail::add_f64(base_ + 1, v);
  }

  // The total over all threads, past and present.
  double value() const;
  // The same, read under a reader the caller already holds (one arena lock
  // for many reads, as a scrape or an alert rule cycle does): no lock, no
  // allocation, O(threads).
  double value(const detail::arena::reader& cells) const noexcept;

  // Writes this series to `out` (used by family and by custom collectors).
  void collect(std::string_view labels, metric_sink& out, const detail::arena::reader& cells) const;

 private:
  std::uint32_t base_ = 0;  // base_: integer cell, base_ + 1: double cell
};

}  // namespace keel::metrics
