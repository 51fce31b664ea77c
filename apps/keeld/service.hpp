// apps/keeld/service.hpp
//
// service is keeld assembled from keel's public components: the HTTP server
// and its middleware, the metrics and health registries, the monitored
// targets, and keel::alert's pipeline (ingest to delivery, with its store
// and its loop). It composes; the logic is in the library.
//
//   auto svc = keeld::service::create(cfg).value();   // binds the port
//   svc->start();                                     // serves; loops run
//   ...                                               // SIGHUP: svc->reload(new_cfg)
//   svc->stop();                                      // graceful; flushes stores and logs
//
// Degraded start: when the data directory or its database cannot be opened,
// keeld still serves; /health reports the "store" check failing (status
// degraded), ingest answers 503, and the pipeline retries every second
// until the store opens. A data directory held by another keeld is fatal:
// create() fails naming its pid.
//
// Thread safety: create/start/stop/reload from the controlling thread; the
// members routes use are safe from any I/O thread.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "config.hpp"
#include "keel/alert/metrics_source.hpp"
#include "keel/alert/pipeline.hpp"
#include "keel/core/clock.hpp"
#include "keel/core/random.hpp"
#include "keel/health/registry.hpp"
#include "keel/http/server.hpp"
#include "keel/http/task.hpp"
#include "keel/log/logger.hpp"
#include "keel/log/rotating_file_sink.hpp"
#include "keel/metrics/registry.hpp"
#include "keel/resilience/breaker_registry.hpp"

namespace keeld {

class target_prober;

class service {
 public:
  static keel::result<std::unique_ptr<service>> create(config cfg);
  ~service();
  service(const service&) = delete;
  service& operator=(const service&) = delete;

  void start();
  // Stops accepting, lets in-flight requests finish (shutdown_grace), stops
  // the pipeline and the probes, flushes the store and the logs. Idempotent.
  void stop();
  // New rules, routes, receivers and targets from `next` (the other
  // settings need a restart, and a warn line names those that changed).
  // The old set stays on error. Either way the outcome is logged, counted
  // (keeld_config_reloads_total{outcome}, keeld_config_last_reload_successful)
  // and a failure is an error event of keeld's own.
  keel::result<void> reload(const keel::result<config>& next);

  std::uint16_t port() const noexcept;

  // For the routes (routes.cpp).
  const config& cfg() const noexcept { return cfg_; }
  const keel::clock& clock() const noexcept { return clock_; }
  keel::random_source& random() noexcept { return random_; }
  keel::metrics::registry& metrics() noexcept { return metrics_; }
  keel::health::registry& health() noexcept { return *health_; }
  // Everything from ingest to delivery (keel/alert/pipeline.hpp).
  keel::alert::pipeline& alerting() noexcept { return *pipeline_; }
  keel::resilience::breaker_registry& breakers() noexcept { return breakers_; }
  keel::http::worker_pool& workers() noexcept { return *workers_; }
  const std::string& admin_token() const noexcept { return admin_token_; }
  // Appends to the audit trail as the admin, with this request's id.
  void audit(std::string_view action, std::string_view resource,
             nlohmann::ordered_json details = nlohmann::ordered_json::object());
  // The monitored targets' states, for the admin API.
  nlohmann::json target_states() const;

 private:
  explicit service(config cfg);
  keel::result<void> build();
  keel::result<void> add_health_checks(bool data_ok);

  config cfg_;
  const keel::clock& clock_;
  keel::random_source& random_;
  keel::log::logger log_{"keeld"};
  keel::metrics::registry metrics_;
  // Every resilience policy of keeld (breakers, retries) reports here:
  // keel_* counters on metrics_ and lines on the "resilience" logger.
  std::shared_ptr<keel::resilience::event_listener> resilience_events_;
  std::unique_ptr<keel::health::registry> health_;
  keel::resilience::breaker_registry breakers_;
  // Rules watch keel::metrics series (http_requests_total...) through this.
  std::unique_ptr<keel::alert::metrics_source> metrics_source_;
  std::unique_ptr<keel::alert::pipeline> pipeline_;
  std::unique_ptr<keel::http::worker_pool> workers_;
  std::unique_ptr<keel::http::server> server_;
  std::unique_ptr<target_prober> prober_;
  std::string admin_token_;
  std::shared_ptr<keel::log::rotating_file_sink> log_file_;  // null when files are off
  keel::metrics::counter_family* reloads_ = nullptr;
  keel::metrics::gauge_family* last_reload_ok_ = nullptr;

  std::atomic<bool> stopped_{false};
  std::atomic<bool> started_{false};
};

}  // namespace keeld
