// keel/alert/delivery_collector.hpp
//
// delivery_collector exposes notification delivery on keel::metrics, per
// receiver: what the delivery_worker did since start and what the outbox
// still holds.
//
//   keel_alert_notification_attempts_total{receiver}        attempts sent to the receiver
//   keel_alert_notifications_sent_total{receiver}           accepted (2xx / SMTP 2xx-3xx)
//   keel_alert_notifications_failed_total{receiver}         attempts that did not deliver
//   keel_alert_notifications_dead_lettered_total{receiver}  moved to the dead-letter list
//   keel_alert_delivery_blocked_total{receiver}             rounds the policy refused (breaker
//   open) keel_alert_outbox_pending{receiver}                     messages waiting in the outbox
//   keel_alert_outbox_oldest_pending_age_seconds{receiver}  age of the oldest waiting one (0: none)
//
//   registry.add_collector(std::make_shared<keel::alert::delivery_collector>(
//       worker, box, clock)).value();
//
//   // A service that rebuilds its worker on reload registers the collector
//   // once and re-points it (a registry cannot drop a collector):
//   auto dc = std::make_shared<keel::alert::delivery_collector>(clock);
//   registry.add_collector(dc).value();
//   dc->bind(&worker, &box);  ...  dc->bind(nullptr, nullptr);  // before destroying them
//
// The totals count from the worker's start (a restart resets them, which
// Prometheus' rate() reads as a counter reset); the outbox gauges come from
// the durable outbox, so they are right across restarts.
//
// Thread safety: collect() may run concurrently with delivery and with
// bind(). A bound worker and outbox must stay alive until they are unbound
// (bind() waits for a scrape in progress); the clock must outlive the
// collector.
// Cost: a scrape takes the worker's counter lock and runs two outbox
// queries per receiver (SQLite; a scan of the pending and dead rows).
#pragma once

#include <mutex>
#include <string>
#include <vector>

#include "keel/alert/delivery.hpp"
#include "keel/alert/outbox.hpp"
#include "keel/core/clock.hpp"
#include "keel/metrics/collector.hpp"

namespace keel::alert {

// delivery_collector
class delivery_collector final : public keel::metrics::collector {
 public:
  delivery_collector(const delivery_worker& worker, outbox& box, const keel::clock& clock)
      : worker_(&worker), box_(&box), clock_(clock) {}
  // Unbound: the families are exposed without samples until bind().
  explicit delivery_collector(const keel::clock& clock) : clock_(clock) {}

  // Points the collector at another worker and outbox (null: none).
  void bind(const delivery_worker* worker, outbox* box);

  std::vector<std::string> describe() const override;
  void collect(keel::metrics::metric_sink& out) const override;

 private:
  mutable std::mutex mu_;  // held across collect(), so bind() waits for a scrape
  const delivery_worker* worker_ = nullptr;
  outbox* box_ = nullptr;
  const keel::clock& clock_;
};

}  // namespace keel::alert
