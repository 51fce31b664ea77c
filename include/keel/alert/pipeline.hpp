// keel/alert/pipeline.hpp
//
// pipeline is keel::alert assembled: one object that takes error events in
// and gets notifications out, and owns every stage between them.
//
//   ingest ─▶ error_tracker ─▶ store (events and their group, one transaction)
//              │ keel_error_events_total
//              ▼
//   rule_engine (every evaluation_interval) ─▶ dispatcher (routes, groups,
//   silences, inhibition) ─▶ notifier ─▶ outbox ─▶ delivery_worker ─▶ receivers
//              │
//              └▶ incident_manager (opens, counts events, escalates) ─▶ outbox
//
//   keel::alert::pipeline_options o{.data_dir = "/var/lib/keeld", .metrics = &registry,
//                                   .breakers = &breakers};
//   auto p = keel::alert::pipeline::create(clock, o, alerting_config).value();
//   p->start();                                      // its loop and delivery threads
//   auto out = p->ingest(std::move(events));        // durable before it returns
//   p->stop();
//
// Durable first: ingest() commits the events and their groups' counts in one
// transaction before anything in memory counts them, so a counter never
// counts an event the store refused, and a group's stored count always
// equals its stored events (a SIGKILL cannot split them). When the store
// cannot take them, ingest() answers SERVICE_UNAVAILABLE with a Retry-After
// and keeps nothing: the client's retry is the only copy.
//
// Degraded start: when the data directory or its database cannot be opened,
// the pipeline still runs in memory; health() says so, ingest() and the
// durable writes answer SERVICE_UNAVAILABLE, and the loop retries opening
// every store_retry_interval. A data directory held by another process is
// not degraded but refused: create() fails naming the holder's pid.
//
// The pipeline watches itself: it exposes every stage on `metrics`
// (events accepted and rejected by reason, rule cycles, alerts by state,
// notifications by receiver and outcome, outbox depth and age), logs a
// failing receiver at warn (once a minute per receiver at most, with the
// count since the last line) and a dead letter at error, and health() names
// each failing receiver until a delivery to it succeeds. Its own failures
// (a store write, a delivery, a dead letter) become error events of service
// `self_service` in its own tracker, so its own rules can page on them.
//
// Thread safety: ingest(), the accessors and the silence, audit and
// notification calls may be used from any thread; create/start/stop/
// reconfigure from the controlling thread. ingest() and the durable calls
// block on SQLite: call them off I/O threads.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "keel/alert/audit.hpp"
#include "keel/alert/config.hpp"
#include "keel/alert/data_dir_lock.hpp"
#include "keel/alert/delivery.hpp"
#include "keel/alert/dispatcher.hpp"
#include "keel/alert/error_tracker.hpp"
#include "keel/alert/incident.hpp"
#include "keel/alert/outbox.hpp"
#include "keel/alert/rule_engine.hpp"
#include "keel/alert/store.hpp"
#include "keel/core/clock.hpp"
#include "keel/core/random.hpp"

namespace keel::metrics {
class registry;
}
namespace keel::resilience {
class breaker_registry;
}

namespace keel::alert {

class delivery_collector;
class pipeline_metrics;

// pipeline_options
struct pipeline_options {
  std::filesystem::path data_dir{};   // the store and its lock file; "" keeps everything in memory
  std::string self_service = "keel";  // service of the pipeline's own error events and notices
  std::chrono::milliseconds evaluation_interval{30'000};
  std::chrono::milliseconds dispatch_interval{1'000};
  std::chrono::milliseconds store_interval{1'000};  // flush, health probe or reopen
  std::chrono::seconds store_retry_after{5};        // Retry-After while the store refuses
  // Events and delivered notifications older than this are deleted, at
  // most prune_batch rows a statement, from the loop (groups keep their
  // counts: a count is events ever, not events kept). 0: never.
  std::chrono::milliseconds retention{30LL * 24 * 3600 * 1000};
  // Audit entries older than this are pruned the same way, the last one
  // removed kept as the chain's anchor (audit.hpp). 0: never.
  std::chrono::milliseconds audit_retention{365LL * 24 * 3600 * 1000};
  // How long ingest keys (event ids, Idempotency-Keys) are remembered: a
  // retry within it is a duplicate. 0: never forgotten.
  std::chrono::milliseconds idempotency_window{24LL * 3600 * 1000};
  std::chrono::milliseconds prune_interval{60'000};
  std::size_t prune_batch = 5'000;
  std::uint32_t delivery_max_attempts = 20;  // then a dead letter; 0: retry for ever
  // Between attempts: exponential from initial, doubling up to max, with
  // equal jitter (resilient_delivery_policy.hpp).
  std::chrono::milliseconds delivery_initial_delay{5'000};
  std::chrono::milliseconds delivery_max_delay{600'000};
  std::chrono::milliseconds receiver_log_interval{60'000};  // failing-receiver lines, per receiver
  tracker_options tracker{};
  // Further series rules watch (keel::metrics through metrics_source, ...).
  std::vector<const series_source*> series{};
  // Where the pipeline's metrics go (none when null); must outlive it.
  keel::metrics::registry* metrics = nullptr;
  // Breakers for delivery (one per receiver) and the open_breaker action;
  // a private registry when null. Must outlive the pipeline.
  keel::resilience::breaker_registry* breakers = nullptr;
  keel::random_source* random = nullptr;   // backoff jitter; thread_safe() when null
  keel::alert::transport* http = nullptr;  // libcurl when null; must outlive the pipeline
  store_options store{};                   // data_dir is taken from above
  // The data directory, already taken by the caller (data_dir_lock.hpp)
  // before it wrote anything there; when null the pipeline takes it.
  std::shared_ptr<data_dir_lock> lock{};
};

// receiver_state — how deliveries to one receiver are going.
struct receiver_state {
  std::string name{};
  bool failing = false;
  std::uint32_t consecutive_failures = 0;
  std::string last_error{};
  std::optional<std::chrono::system_clock::time_point> failing_since{};
};

// pipeline_health — what /health shows of the pipeline.
struct pipeline_health {
  bool store_open = false;
  std::string store_problem{};  // "" when writes succeed
  std::vector<receiver_state> failing_receivers{};
  std::vector<rule_failure> failing_rules{};  // incomplete at the last cycle
  bool loop_started = false;
  // Started, not stopped, and it went round within the stall limit (three
  // evaluation intervals, at least a minute): a duty stuck on a write or a
  // lock reads as not running.
  bool loop_running = false;
  std::chrono::milliseconds since_loop_beat{0};
};

// ingest_outcome — one accepted event.
using ingest_outcome = record_outcome;

class pipeline {
 public:
  [[nodiscard]] static result<std::unique_ptr<pipeline>> create(const keel::clock& clock,
                                                                pipeline_options opts,
                                                                const alerting_config& cfg);
  ~pipeline();  // stop()s
  pipeline(const pipeline&) = delete;
  pipeline& operator=(const pipeline&) = delete;

  // Starts the loop (evaluation, dispatch, store upkeep) and delivery.
  void start();
  // Stops them and flushes the store. Idempotent.
  void stop();
  // Runs each loop duty once now, and before start() one delivery round
  // per receiver (tests on a manual clock call this instead of start()).
  void run_once();

  // The configuration from the caller's file (at create() and on a reload):
  // new rules, routes, receivers and inhibitions. Validated before anything
  // changes: on error the old configuration stays whole. It replaces what
  // was changed through the calls below (a reload is the operator taking
  // the file's configuration).
  [[nodiscard]] result<void> reconfigure(const alerting_config& cfg);

  // Changes made through an API, saved in the store before they take effect
  // and kept across restarts (until the next reconfigure()). Each answers
  // SERVICE_UNAVAILABLE while the store is not open, and validates first.
  //   configure:   a whole alerting document (YAML, as load_config_yaml)
  //                replaces the configuration, rule changes included;
  //   put_rules:   the rules of a document (as load_rules_yaml) are added
  //                or replace those of the same name; returns their names;
  //   delete_rule: RESOURCE_NOT_FOUND for a rule that does not exist.
  [[nodiscard]] result<alerting_config> configure(std::string_view alerting_yaml);
  [[nodiscard]] result<std::vector<std::string>> put_rules(std::string_view rules_yaml);
  [[nodiscard]] result<void> delete_rule(std::string_view name);

  // Takes a batch of events: validated (FIELD_VALIDATION_ERROR, nothing
  // kept), committed with their groups, then counted. SERVICE_UNAVAILABLE
  // (Retry-After) when the store cannot take them.
  //
  // Exactly once for clients that retry, within idempotency_window: an
  // event whose event_id was stored is answered `duplicate` and not
  // counted; so is every event of a batch sent again with the same
  // `idempotency_key` (the Idempotency-Key header: 1-255 visible ASCII
  // characters, optionally in double quotes) and the same `body`. The same
  // key with another body is FIELD_VALIDATION_ERROR (422); a malformed key
  // VALIDATION_ERROR (400). Without a store there is nothing to remember
  // keys in: SERVICE_UNAVAILABLE as above.
  [[nodiscard]] result<std::vector<ingest_outcome>> ingest(std::vector<error_event> events,
                                                           std::string_view idempotency_key = {},
                                                           std::string_view body = {});
  // Records one of the pipeline's own failures (or its host's, e.g. a 5xx
  // it served) as an event of `self_service`. Never fails the caller.
  void report(const keel::error& e, std::string_view where);

  // Silences are saved before they take effect; SERVICE_UNAVAILABLE while
  // the store is not open (a silence that would end at the next restart is
  // refused, not half-made).
  // An issue's (error group's) status set by a person: resolve, ignore (for
  // a count or until a time) or reopen, written to the store before it
  // returns (an answered change survives SIGKILL). RESOURCE_NOT_FOUND for an
  // unknown group; SERVICE_UNAVAILABLE when the store could not take it
  // (the change stands in memory and is written at the next flush).
  enum class issue_action : std::uint8_t { resolve, ignore, reopen };
  [[nodiscard]] result<void> set_issue_status(std::string_view fingerprint, issue_action action,
                                              ignore_options ignore = {});
  [[nodiscard]] result<std::string> add_silence(silence s);
  [[nodiscard]] result<void> expire_silence(std::string_view id);

  // Appends to the audit trail and logs it; a failure is logged and counted,
  // never returned (the action it records already happened).
  void audit(std::string_view actor, std::string_view action, std::string_view resource,
             std::string_view request_id,
             nlohmann::ordered_json details = nlohmann::ordered_json::object());

  // Queues a test notification for each receiver; says what was queued
  // where (nothing while the store is not open).
  [[nodiscard]] result<nlohmann::json> send_test_notification(std::string_view message);

  pipeline_health health() const;
  std::vector<receiver_state> receiver_states() const;
  std::vector<receiver_config> receivers() const;

  error_tracker& tracker() noexcept { return *tracker_; }
  rule_engine& rules() noexcept { return *rules_; }
  dispatcher& dispatch() noexcept { return *dispatcher_; }
  incident_manager& incidents() noexcept { return *incidents_; }
  // The open store with its outbox and audit trail; null while degraded.
  struct durable {
    std::unique_ptr<keel::alert::store> store;
    std::unique_ptr<keel::alert::outbox> outbox;
    std::unique_ptr<keel::alert::audit_log> audit;
  };
  std::shared_ptr<durable> store() const { return std::atomic_load(&durable_); }
  // SERVICE_UNAVAILABLE (Retry-After) naming why the store cannot be used.
  keel::error store_unavailable() const;

 private:
  pipeline(const keel::clock& clock, pipeline_options opts);
  result<void> build(const alerting_config& cfg);
  // The file's configuration with the saved API changes applied; nullopt
  // when none are saved (or the store is not open).
  std::optional<alerting_config> layered(const alerting_config& file_cfg);
  result<void> apply(const alerting_config& cfg);
  result<void> open_store();
  void sync_silences();
  void restart_delivery_locked();
  void loop();
  void evaluate_once();
  void dispatch_once();
  void upkeep_store();
  void recover_saved_state();
  void enqueue_locked(const notification& n);
  void send_incident_notices(const std::vector<incident_notice>& notices);
  void on_store_write(const result<void>& r, std::string_view what);
  void drain_self_events();
  void prune_old();
  void save_alert_state();
  void restore_alert_state(const alerting_config& cfg);
  void save_incidents();
  void refresh_event_filters();
  void restore_incidents();
  void note_rule_failures(std::vector<rule_failure> failures);

  struct delivery_events;

  const keel::clock& clock_;
  pipeline_options opts_;
  std::shared_ptr<data_dir_lock> lock_;
  std::unique_ptr<keel::resilience::breaker_registry> own_breakers_;
  std::shared_ptr<pipeline_metrics> metrics_;
  std::unique_ptr<event_sink> forwarder_;  // the tracker's sink: the store, once open
  std::unique_ptr<error_tracker> tracker_;
  std::unique_ptr<rule_engine> rules_;
  std::unique_ptr<dispatcher> dispatcher_;
  std::unique_ptr<incident_manager> incidents_;
  std::mutex file_cfg_mu_;
  alerting_config file_cfg_;  // the file's configuration, for a late-opened store
  std::shared_ptr<durable> durable_;
  std::string store_problem_;  // guarded by store_mu_
  mutable std::mutex store_mu_;
  std::atomic<bool> store_failing_{false};

  mutable std::mutex delivery_mu_;
  std::vector<receiver_config> receivers_;
  std::unique_ptr<transport> own_transport_;
  std::unique_ptr<delivery_policy> policy_;
  std::unique_ptr<notifier> notifier_;
  std::unique_ptr<delivery_worker> delivery_;
  std::shared_ptr<delivery_collector> delivery_metrics_;
  std::unique_ptr<delivery_events> delivery_events_;

  static constexpr std::size_t kMaxSelfEvents = 1000;
  std::mutex self_mu_;
  std::vector<error_event> self_events_;  // report()ed, ingested by the loop

  std::mutex loop_mu_;
  std::condition_variable loop_cv_;
  bool stopping_ = false;
  std::thread loop_thread_;
  std::atomic<bool> started_{false};
  std::atomic<bool> stopped_{false};
  std::atomic<keel::clock::steady_time::rep> loop_beat_{0};  // the loop's last round
  keel::clock::steady_time next_eval_{}, next_dispatch_{}, next_store_{};
  std::optional<keel::clock::steady_time> next_prune_{};
  std::uint64_t saved_changes_ = 0;  // rule_engine::state_changes() at the last save
  bool has_active_alerts_ = false;
  bool alerts_restored_ = false;  // firing alerts restored, not yet handed to the dispatcher
  std::mutex incidents_save_mu_;
  std::map<std::string, incident_change> unsaved_incidents_;  // taken, not yet written
  mutable std::mutex rule_failures_mu_;
  std::vector<rule_failure> rule_failures_;  // the last cycle's
  keel::clock::steady_time last_state_save_{};
};

}  // namespace keel::alert
