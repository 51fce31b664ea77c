// apps/keeld/service.hpp
//
// service is keeld assembled from keel's public components: the HTTP server
// and its middleware, the metrics registry, the health registry, the error
// tracker, the alert rule engine, dispatcher, incidents and the durable
// store with its outbox and audit trail, the monitored targets, and the
// background loops that drive them.
//
//   auto svc = keeld::service::create(cfg).value();   // binds the port
//   svc->start();                                     // serves; loops run
//   ...                                               // SIGHUP: svc->reload(new_cfg)
//   svc->stop();                                      // graceful; flushes stores and logs
//
// Degraded start: when the data directory or its database cannot be opened,
// keeld still serves; /health reports the "store" check failing (status
// degraded), ingest answers 503, and a background loop retries every
// second until the store opens.
//
// Thread safety: create/start/stop/reload from the controlling thread; the
// members routes use are safe from any I/O thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "config.hpp"
#include "keel/alert/audit.hpp"
#include "keel/alert/delivery.hpp"
#include "keel/alert/delivery_collector.hpp"
#include "keel/alert/dispatcher.hpp"
#include "keel/alert/error_tracker.hpp"
#include "keel/alert/incident.hpp"
#include "keel/alert/metrics_source.hpp"
#include "keel/alert/outbox.hpp"
#include "keel/alert/rule_engine.hpp"
#include "keel/alert/store.hpp"
#include "keel/core/clock.hpp"
#include "keel/core/random.hpp"
#include "keel/health/registry.hpp"
#include "keel/http/server.hpp"
#include "keel/http/task.hpp"
#include "keel/log/logger.hpp"
#include "keel/metrics/registry.hpp"
#include "keel/resilience/breaker_registry.hpp"

namespace keeld {

class target_prober;

// durable — what exists only once the store has opened.
struct durable {
  std::unique_ptr<keel::alert::store> store;
  std::unique_ptr<keel::alert::outbox> outbox;
  std::unique_ptr<keel::alert::audit_log> audit;
};

class service {
 public:
  static keel::result<std::unique_ptr<service>> create(config cfg);
  ~service();
  service(const service&) = delete;
  service& operator=(const service&) = delete;

  void start();
  // Stops accepting, lets in-flight requests finish (shutdown_grace), stops
  // the loops, flushes the store and the logs. Idempotent.
  void stop();
  // New rules, routes, receivers and targets from `cfg` (listen address,
  // data directory and threads need a restart). The old set stays on error.
  keel::result<void> reload(const config& cfg);

  std::uint16_t port() const noexcept;

  // For the routes (routes.cpp).
  const config& cfg() const noexcept { return cfg_; }
  const keel::clock& clock() const noexcept { return clock_; }
  keel::random_source& random() noexcept { return random_; }
  keel::metrics::registry& metrics() noexcept { return metrics_; }
  keel::health::registry& health() noexcept { return *health_; }
  keel::alert::error_tracker& tracker() noexcept { return *tracker_; }
  keel::alert::rule_engine& rules() noexcept { return *engine_; }
  keel::alert::dispatcher& dispatch() noexcept { return *dispatcher_; }
  // Silences go through these rather than dispatch(): they are also saved
  // in the store (when open), so a restart does not end them early.
  keel::result<std::string> add_silence(keel::alert::silence s);
  keel::result<void> expire_silence(std::string_view id);
  keel::alert::incident_manager& incidents() noexcept { return *incidents_; }
  keel::resilience::breaker_registry& breakers() noexcept { return breakers_; }
  keel::http::worker_pool& workers() noexcept { return *workers_; }
  const std::string& admin_token() const noexcept { return admin_token_; }
  // The store and its parts, or nullptr while degraded.
  std::shared_ptr<durable> store() const { return std::atomic_load(&durable_); }
  // Flushes the store (events durable). SERVICE_UNAVAILABLE while degraded.
  keel::result<void> flush_store();
  // Appends to the audit trail (logged as well; never fails the caller).
  void audit(std::string_view action, std::string_view resource,
             nlohmann::ordered_json details = nlohmann::ordered_json::object());
  // Sends a test notification to every receiver (POST /alerts/test).
  keel::result<nlohmann::json> send_test_alert(std::string_view message);
  // rendered_health — a health report rendered as health+json.
  struct rendered_health {
    std::string body;
    int status = 200;
    keel::clock::steady_time rendered_at{};
  };
  // The report of `v` as served by /health*: rendered at most once per
  // health_render_interval and shared by every request in between, so a
  // probe flood costs a pointer copy, not a report (the checks themselves
  // are cached by the registry for the same interval).
  std::shared_ptr<const rendered_health> health_view(keel::health::view v);
  // The monitored targets' states, for the admin API.
  nlohmann::json target_states() const;
  // Receivers by name.
  std::vector<keel::alert::receiver_config> receivers() const;

 private:
  explicit service(config cfg);
  keel::result<void> build();
  keel::result<void> open_store();
  // Store ⇄ dispatcher: loads the saved silences the dispatcher lacks, then
  // saves every silence it has (those added while degraded). Needs both.
  void sync_silences();
  void loop();
  void evaluate_once();
  // Queues each notice (incident opened or escalated) for its receiver.
  void send_incident_notices(const std::vector<keel::alert::incident_notice>& notices);
  void dispatch_once();

  // Forwards the tracker's events to the store once it is open (the store
  // may open after the tracker, when keeld started degraded).
  struct store_sink final : keel::alert::event_sink {
    explicit store_sink(service& s) : svc(s) {}
    void on_event(const keel::alert::error_event& e, std::string_view fp) override {
      if (auto d = svc.store()) d->store->on_event(e, fp);
    }
    void on_group(const keel::alert::error_group& g) override {
      if (auto d = svc.store()) d->store->on_group(g);
    }
    service& svc;
  };

  config cfg_;
  const keel::clock& clock_;
  keel::random_source& random_;
  keel::log::logger log_{"keeld"};
  keel::metrics::registry metrics_;
  // Every resilience policy of keeld (breakers, retries) reports here:
  // keel_* counters on metrics_ and lines on the "resilience" logger.
  std::shared_ptr<keel::resilience::event_listener> resilience_events_;
  std::unique_ptr<keel::health::registry> health_;
  std::unique_ptr<keel::alert::error_tracker> tracker_;
  std::unique_ptr<keel::alert::rule_engine> engine_;
  // Rules watch keel::metrics series (http_requests_total...) through this.
  std::unique_ptr<keel::alert::metrics_source> metrics_source_;
  std::shared_ptr<keel::alert::delivery_collector> delivery_metrics_;
  std::unique_ptr<keel::alert::dispatcher> dispatcher_;
  std::unique_ptr<keel::alert::incident_manager> incidents_;
  keel::resilience::breaker_registry breakers_;
  std::unique_ptr<keel::http::worker_pool> workers_;
  std::unique_ptr<keel::http::server> server_;
  std::unique_ptr<target_prober> prober_;
  std::shared_ptr<durable> durable_;
  store_sink store_sink_{*this};
  std::string admin_token_;

  // Delivery: rebuilt when the store opens or receivers change.
  mutable std::mutex delivery_mu_;
  std::vector<keel::alert::receiver_config> receivers_;
  std::unique_ptr<keel::alert::notifier> notifier_;
  std::unique_ptr<keel::alert::curl_transport> transport_;
  std::unique_ptr<keel::alert::delivery_policy> policy_;
  std::unique_ptr<keel::alert::delivery_worker> delivery_;
  void restart_delivery_locked();

  static constexpr std::chrono::milliseconds health_render_interval{1'000};
  std::atomic<std::shared_ptr<const rendered_health>> health_cache_[4];

  std::mutex loop_mu_;
  std::condition_variable loop_cv_;
  bool stopping_ = false;
  std::thread loop_thread_;
  std::atomic<bool> stopped_{false};
  std::atomic<bool> started_{false};
};

}  // namespace keeld
