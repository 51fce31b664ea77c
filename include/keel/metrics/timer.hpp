// keel/metrics/timer.hpp
//
// Timing and counting helpers (the seeds' Timer, time_function and
// count_calls): an RAII timer observing a histogram in seconds, and wrappers
// that make any callable time or count itself.
//
//   keel::metrics::histogram& latency = durations->labels("deploy");
//   {
//     keel::metrics::scope_timer t(latency);   // observes when the scope ends,
//     deploy(service);                         // also when deploy() throws
//   }
//   auto timed_deploy = keel::metrics::time_function(latency, deploy);
//   auto counted_deploy = keel::metrics::count_calls(deploys, timed_deploy);
//   counted_deploy(service);                   // counts, times, calls
//
// Time is read through keel::clock, so tests pass a keel::manual_clock.
//
// Thread safety: a scope_timer belongs to one thread; the wrappers may be
// called concurrently when the wrapped callable may.
// Cost: two clock reads (steady_clock, ~20 ns each) and one observe().
#pragma once

#include <chrono>
#include <functional>
#include <utility>

#include "keel/core/clock.hpp"
#include "keel/metrics/counter.hpp"
#include "keel/metrics/histogram.hpp"

namespace keel::metrics {

// scope_timer
//
// Observes the seconds between construction and stop() or destruction,
// once. cancel() drops the observation (e.g. for a request that was
// rejected before doing any work).
class scope_timer {
 public:
  explicit scope_timer(histogram& h, const keel::clock& c = keel::clock::real()) noexcept
      : h_(&h), clock_(&c), start_(c.steady_now()) {}
  ~scope_timer() { stop(); }
  scope_timer(const scope_timer&) = delete;
  scope_timer& operator=(const scope_timer&) = delete;

  // Seconds since construction.
  double elapsed() const noexcept {
    return std::chrono::duration<double>(clock_->steady_now() - start_).count();
  }
  // Observes the elapsed seconds (the first time only) and returns them.
  double stop() noexcept {
    const double s = elapsed();
    if (h_ != nullptr) {
      h_->observe(s);
      h_ = nullptr;
    }
    return s;
  }
  void cancel() noexcept { h_ = nullptr; }

 private:
  histogram* h_;
  const keel::clock* clock_;
  keel::clock::steady_time start_;
};

// time_function
//
// A callable that calls `f` with its arguments and observes how long the call
// took in `h`, whether it returns or throws. `h` and `c` must outlive it.
template <class F>
auto time_function(histogram& h, F f, const keel::clock& c = keel::clock::real()) {
  return [&h, &c, f = std::move(f)](auto&&... args) mutable -> decltype(auto) {
    scope_timer t(h, c);
    return std::invoke(f, std::forward<decltype(args)>(args)...);
  };
}

// count_calls
//
// A callable that increments `n` and then calls `f`. `n` must outlive it.
template <class F>
auto count_calls(counter& n, F f) {
  return [&n, f = std::move(f)](auto&&... args) mutable -> decltype(auto) {
    n.inc();
    return std::invoke(f, std::forward<decltype(args)>(args)...);
  };
}

}  // namespace keel::metrics
