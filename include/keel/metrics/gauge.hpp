// keel/metrics/gauge.hpp
//
// gauge is a value that goes up and down: queue depth, connections in use,
// a temperature, the time of the last deployment.
//
//   auto* in_flight = registry.add_gauge({.name = "http_requests_in_flight",
//       .help = "Requests being served."}).value();
//   keel::metrics::gauge& g = in_flight->labels();
//   g.inc(); ... g.dec();
//   g.set_to_current_time();            // seconds since the epoch, via keel::clock
//
// Unlike counter, a gauge is one atomic double on its own cache line: set()
// must win over every earlier add, which per-thread cells cannot express.
// add() is a compare-exchange loop; gauges are rarely hot enough to matter.
//
// Thread safety: all member functions may be called concurrently.
// Cost: set() is one relaxed store; add/inc/dec one CAS (~5 ns uncontended).
#pragma once

#include <atomic>
#include <string_view>
#include <utility>

#include "keel/core/clock.hpp"
#include "keel/metrics/collector.hpp"
#include "keel/metrics/detail/cells.hpp"

namespace keel::metrics {

class gauge {
 public:
  struct config {};

  gauge() = default;
  // For family: a child built from the family's configuration.
  gauge(const config&, std::in_place_t) {}
  gauge(const gauge&) = delete;
  gauge& operator=(const gauge&) = delete;

  void set(double v) noexcept { value_.store(v, std::memory_order_relaxed); }
  void add(double v) noexcept {
    double cur = value_.load(std::memory_order_relaxed);
    while (!value_.compare_exchange_weak(cur, cur + v, std::memory_order_relaxed)) {
    }
  }
  void sub(double v) noexcept { add(-v); }
  void inc() noexcept { add(1.0); }
  void dec() noexcept { add(-1.0); }
  // Sets the gauge to the clock's wall time in seconds since the Unix epoch.
  void set_to_current_time(const keel::clock& c = keel::clock::real()) noexcept;

  double value() const noexcept { return value_.load(std::memory_order_relaxed); }

  void collect(std::string_view labels, metric_sink& out, const detail::arena::reader& cells) const;

 private:
  alignas(64) std::atomic<double> value_{0.0};
};

}  // namespace keel::metrics
