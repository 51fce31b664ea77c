#include "keel/alert/delivery_collector.hpp"

#include <algorithm>
#include <chrono>
#include <string_view>

#include "keel/metrics/names.hpp"

namespace keel::alert {
namespace {

using keel::metrics::metric_type;

struct total_family {
  std::string_view name;  // exposed with _total
  std::string_view help;
  std::uint64_t delivery_counters::*member;
};

constexpr total_family kTotals[] = {
    {"keel_alert_notification_attempts", "Notification attempts sent to the receiver.",
     &delivery_counters::attempts},
    {"keel_alert_notifications_sent", "Notifications the receiver accepted.",
     &delivery_counters::delivered},
    {"keel_alert_notifications_failed", "Notification attempts that did not deliver.",
     &delivery_counters::failures},
    {"keel_alert_notifications_dead_lettered",
     "Notifications moved to the dead-letter list (rejected or retries exhausted).",
     &delivery_counters::dead},
    {"keel_alert_delivery_blocked",
     "Delivery rounds the delivery policy refused (circuit breaker open).",
     &delivery_counters::blocked},
};

constexpr std::string_view kPending = "keel_alert_outbox_pending";
constexpr std::string_view kOldest = "keel_alert_outbox_oldest_pending_age_seconds";

}  // namespace

std::vector<std::string> delivery_collector::describe() const {
  std::vector<std::string> out;
  for (const auto& f : kTotals)
    out.emplace_back(f.name);
  out.emplace_back(kPending);
  out.emplace_back(kOldest);
  return out;
}

void delivery_collector::bind(const delivery_worker* worker, outbox* box) {
  std::lock_guard lock(mu_);
  worker_ = worker;
  box_ = box;
}

void delivery_collector::collect(keel::metrics::metric_sink& out) const {
  std::lock_guard lock(mu_);
  const std::vector<std::string> receivers =
      worker_ != nullptr ? worker_->receivers() : std::vector<std::string>{};
  std::vector<std::string> labels(receivers.size());
  for (std::size_t i = 0; i < receivers.size(); ++i) {
    keel::metrics::render_labels({"receiver"}, {std::string_view(receivers[i])}, labels[i]);
  }
  std::vector<delivery_counters> counters;
  counters.reserve(receivers.size());
  for (const auto& r : receivers)
    counters.push_back(worker_->counters(r));

  for (const auto& f : kTotals) {
    out.begin_family({.name = f.name, .help = f.help, .type = metric_type::counter});
    for (std::size_t i = 0; i < receivers.size(); ++i)
      out.sample(labels[i], static_cast<double>(counters[i].*f.member));
    out.end_family();
  }

  // A receiver whose outbox query fails shows no gauge rather than a wrong 0.
  std::vector<std::optional<outbox_stats>> stats(receivers.size());
  for (std::size_t i = 0; i < receivers.size(); ++i) {
    if (box_ == nullptr) break;
    if (auto s = box_->stats(receivers[i])) stats[i] = *s;
  }
  const auto now = clock_.system_now();
  out.begin_family({.name = kPending,
                    .help = "Notifications waiting in the durable outbox.",
                    .type = metric_type::gauge});
  for (std::size_t i = 0; i < receivers.size(); ++i) {
    if (stats[i]) out.sample(labels[i], static_cast<double>(stats[i]->pending));
  }
  out.end_family();
  out.begin_family({.name = kOldest,
                    .help = "Age of the oldest notification waiting in the outbox (0 when none).",
                    .type = metric_type::gauge});
  for (std::size_t i = 0; i < receivers.size(); ++i) {
    if (!stats[i]) continue;
    double age = 0;
    if (stats[i]->oldest_pending) {
      age = std::max(0.0, std::chrono::duration<double>(now - *stats[i]->oldest_pending).count());
    }
    out.sample(labels[i], age);
  }
  out.end_family();
}

}  // namespace keel::alert
