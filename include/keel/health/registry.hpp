// keel/health/registry.hpp
//
// registry holds the named health checks of a service and runs them for the
// liveness, readiness and startup probes: concurrently, each bounded by its
// own timeout, with results cached so that a flood of probe requests cannot
// hammer the dependencies behind them.
//
//   keel::health::registry health({.cache_interval = std::chrono::seconds(5),
//                                  .metrics = &keel::metrics::registry::global()});
//   health.add({.name = "db", .measurement = "responseTime", .component_type = "datastore",
//               .timeout = std::chrono::seconds(1)},
//              keel::health::sqlite_check("/var/lib/keel/keel.db")).value();
//   health.add({.name = "cache", .critical = false}, keel::health::tcp_check("127.0.0.1", 6379))
//       .value();
//   health.add({.name = "event_loop", .probes = keel::health::probe::liveness}, loop_check)
//       .value();
//   ...
//   health.mark_started();                    // startup gate opens
//   keel::health::report r = health.readiness();
//
// Execution: each due check runs on a thread of its own, all at once; the
// caller waits until every check has finished or reached its timeout, so a
// report takes at most the largest timeout of its view. A check still running
// at its timeout is reported failed ("timed out") and never delays the
// others. A check that took longer than its timeout by the registry's clock is
// failed too, which is how timeouts are tested on a manual_clock.
//
// A hung check: its thread is left behind (detached; it owns what it uses)
// and the registry does not start the check again while it is still running:
// until it returns, every report shows it failed with "still running". So a
// check that hangs forever costs one blocked thread, not one per request.
// When it finally returns, its late result (failed, since it overran) is
// cached as usual and the next run starts it afresh.
//
// Caching: a result is reused for `cache_interval` (by the registry's clock);
// concurrent reports that find the same check running wait for that run
// instead of starting another.
//
// Thread safety: all member functions may be called concurrently.
// Cost: a report with every result cached takes one lock per check and
// allocates the report; a due check costs a thread start (~20 µs).
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "keel/core/clock.hpp"
#include "keel/core/result.hpp"
#include "keel/health/check.hpp"
#include "keel/health/report.hpp"

namespace keel::metrics {
class registry;
}

namespace keel::health {

// registry_options
//
// `clock` times checks and cache expiry and must outlive the registry and
// any check thread it left running (the real clock does). `metrics`, when
// set, receives per check: health_check_status{check} (1 pass, 0.5 warn,
// 0 fail), health_check_duration_seconds{check} and
// health_check_timeouts_total{check}.
struct registry_options {
  const keel::clock* clock = &keel::clock::real();
  std::chrono::milliseconds cache_interval{std::chrono::seconds(5)};
  keel::metrics::registry* metrics = nullptr;
};

// The views a report can be made for.
enum class view : std::uint8_t { liveness, readiness, startup, all };

class registry {
 public:
  // Throws keel::exception when the metric families cannot be registered
  // (a name taken by another type in `metrics`).
  explicit registry(registry_options o = {});
  ~registry();
  registry(const registry&) = delete;
  registry& operator=(const registry&) = delete;

  // Adds a check. VALIDATION_ERROR for a bad name, a non-positive timeout or
  // an empty function; CONFLICT when the name is taken. At most 256 checks.
  result<void> add(check_options options, check_fn fn);

  // Runs (or reuses) the checks of `v` and aggregates them.
  report run(view v);
  report liveness() { return run(view::liveness); }
  report readiness() { return run(view::readiness); }
  // Unhealthy ("starting") until mark_started() has been called and the
  // startup checks pass once; from then on healthy without running anything.
  report startup();
  void mark_started();

  // Check threads currently running (including hung ones), for diagnostics.
  std::size_t running() const;
  std::vector<std::string> names() const;

 private:
  struct entry;
  struct execution;
  struct metric_handles;
  check_report finish(entry& e, const std::shared_ptr<execution>& x);

  registry_options o_;
  std::unique_ptr<metric_handles> metrics_;
  mutable std::mutex mu_;
  std::vector<std::shared_ptr<entry>> entries_;
  bool started_ = false;
  bool startup_passed_ = false;
};

}  // namespace keel::health
