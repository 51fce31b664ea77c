// apps/keeld/targets.hpp
//
// target_prober watches the services named in the config's `targets:` — an
// HTTP health URL or a TCP port each — on their interval, one probe at a
// time per target, through a retry (retries.targets: two attempts by
// default, jittered exponential backoff) inside
// a circuit breaker ("target:<name>" in the service's breaker registry, so
// the admin API lists and resets it) with the target's timeout on every
// attempt. Results become probe_success{target} and
// probe_duration_seconds{target} and the states the admin API shows.
//
// Thread safety: all members may be called from any thread; probes run on
// the prober's own thread.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

#include "config.hpp"
#include "keel/core/clock.hpp"
#include "keel/health/check.hpp"
#include "keel/metrics/registry.hpp"
#include "keel/resilience/breaker_registry.hpp"

namespace keeld {

class target_prober {
 public:
  // `events` receives each probe's retry events (may be null).
  target_prober(const keel::clock& clock, keel::metrics::registry& metrics,
                keel::resilience::breaker_registry& breakers,
                std::shared_ptr<keel::resilience::event_listener> events, retry_config retry = {});
  ~target_prober();  // stop()s
  target_prober(const target_prober&) = delete;
  target_prober& operator=(const target_prober&) = delete;

  // Replaces the set of targets (states of targets kept by name survive).
  void set_targets(std::vector<target_config> targets);
  void start();
  void stop();

  // [{name, kind, address, up, last_checked, duration_ms, error, breaker, ...}]
  nlohmann::json states() const;
  // The aggregate as a health check: fail when a critical target is down,
  // warn when another one is, pass otherwise (never probes itself).
  keel::health::check_result health() const;

 private:
  struct target;
  void run();
  void probe(target& t);

  const keel::clock& clock_;
  keel::metrics::gauge_family* success_ = nullptr;
  keel::metrics::gauge_family* duration_ = nullptr;
  keel::resilience::breaker_registry& breakers_;
  std::shared_ptr<keel::resilience::event_listener> events_;
  retry_config retry_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::shared_ptr<target>> targets_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace keeld
