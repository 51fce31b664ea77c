// keel/alert/incident.hpp
//
// incident_manager is the seeds' IncidentManager: when a rule fires for a
// group (key service:code) an incident opens — or the open one for that key
// takes the alert — gathers the alerts and error events of that key, runs
// the configured actions (notify a receiver, open a named circuit breaker,
// run a registered handler), escalates to the next receiver if nobody
// acknowledges it in time, and is acknowledged and resolved by people
// through the API. Every transition lands on the incident's timeline.
//
//   keel::alert::incident_manager incidents(clock, {
//       .ack_timeout = std::chrono::minutes(15),
//       .escalation = {"team-slack", "oncall-pagerduty"},
//       .on_open = {{.kind = keel::alert::action_kind::notify, .name = "team-slack"},
//                   {.kind = keel::alert::action_kind::run_handler, .name = "drain"}}});
//   incidents.register_handler("drain", [](const keel::alert::incident& i) { ...; return
//   keel::ok(); }); auto out = incidents.on_alert(fired_alert);      // -> notices to send
//   incidents.acknowledge(id, "alice").value();
//   auto escalations = incidents.tick();              // unacknowledged past ack_timeout
//
// The key is the alert's `service` and `code` labels ("checkout:DATABASE_ERROR");
// an alert without `code` uses its alertname. Opening a circuit breaker goes
// through an injected `breaker_opener` (keel::resilience's breaker registry
// plugs in there). Incidents live in memory; acknowledge and resolve are
// audited when an audit_log is given.
//
// Thread safety: all member functions may be called concurrently; handlers
// and the breaker opener run outside the manager's lock.
// Cost: map lookups per alert or event; the timeline is capped.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "keel/alert/audit.hpp"
#include "keel/alert/event.hpp"
#include "keel/alert/rule_engine.hpp"
#include "keel/core/clock.hpp"

namespace keel::alert {

// incident_state
enum class incident_state : std::uint8_t { open, acknowledged, resolved };
std::string_view to_string(incident_state s) noexcept;

// timeline_entry
struct timeline_entry {
  std::chrono::system_clock::time_point at{};
  std::string kind{};  // opened, alert, event, action, escalated, acknowledged, resolved, reopened
  std::string actor{};
  std::string detail{};
};

// incident
struct incident {
  std::string id{};
  std::string key{};  // service:code
  std::string title{};
  std::string severity{};  // the opening alert's severity label
  std::string policy{};    // the incident_policy that handles it; empty: the default
  incident_state state = incident_state::open;
  std::chrono::system_clock::time_point opened_at{};
  std::optional<std::chrono::system_clock::time_point> acknowledged_at{};
  std::optional<std::chrono::system_clock::time_point> resolved_at{};
  std::string acknowledged_by{};
  std::uint32_t escalation_level = 0;  // index into incident_options::escalation
  std::vector<std::string> alerts{};   // fingerprints
  std::uint64_t events = 0;
  std::vector<timeline_entry> timeline{};
};

// action_kind / action
enum class action_kind : std::uint8_t { notify, open_breaker, run_handler };
struct action {
  action_kind kind = action_kind::notify;
  std::string name{};  // receiver, breaker or handler name
};

// incident_notice — a receiver to tell about an incident (opened or escalated).
struct incident_notice {
  std::string incident_id{};
  std::string receiver{};
  std::string reason{};  // "opened" or "escalated"
};

// incident_policy
//
// How the incidents of some alerts are handled, as seed 003's
// IncidentManager policies: the first policy whose matchers all match the
// opening alert's labels (severity, service, code, any label) takes the
// incident, and keeps it for its life; an alert no policy matches gets the
// default policy (incident_options' own ack_timeout, escalation, on_open).
struct incident_policy {
  std::string name{};
  std::vector<matcher> matchers{};
  std::chrono::milliseconds ack_timeout{15 * 60'000};
  std::vector<std::string> escalation{};  // receivers, level 0 first
  std::vector<action> on_open{};
};

// incident_options
struct incident_options {
  // The default policy.
  std::chrono::milliseconds ack_timeout{15 * 60'000};
  std::vector<std::string> escalation{};  // receivers, level 0 first
  std::vector<action> on_open{};
  std::vector<incident_policy> policies{};  // tried in order before the default
  std::size_t max_timeline = 1000;
  std::size_t max_incidents = 10'000;  // resolved ones are dropped first
  audit_log* audit = nullptr;
  std::function<result<void>(std::string_view breaker)> breaker_opener{};
};

// incident_summary — counts and response times over the incidents kept
// (for metrics: MTTA and MTTR are the sums divided by the counts).
struct incident_summary {
  std::uint64_t open = 0, acknowledged = 0, resolved = 0;
  std::uint64_t acknowledged_total = 0;  // incidents ever acknowledged (of those kept)
  double seconds_to_acknowledge = 0;     // summed over them
  double seconds_to_resolve = 0;         // summed over the resolved ones
};

// incident_change — one incident as it now is (none: dropped), with the
// time its current escalation level started, for a store to keep.
struct incident_change {
  std::string id{};
  std::optional<incident> current{};
  std::optional<std::chrono::system_clock::time_point> level_since{};
};

// The stored form of an incident (JSON, nanosecond times), and back;
// VALIDATION_ERROR for a record this version cannot read.
nlohmann::json to_record(const incident& i,
                         std::optional<std::chrono::system_clock::time_point> level_since = {});
[[nodiscard]] result<incident_change> incident_from_record(const nlohmann::json& j);

// The API's view of an incident (RFC 3339 times), with its timeline or not.
nlohmann::ordered_json to_json(const incident& i, bool with_timeline);

class incident_manager {
 public:
  using handler = std::function<result<void>(const incident&)>;

  incident_manager(const keel::clock& clock, incident_options opts);

  void register_handler(std::string name, handler h);
  // New policies (a reload). Open incidents keep their policy by name; one
  // whose policy is gone is handled by the default from then on.
  void set_policies(incident_policy default_policy, std::vector<incident_policy> policies);

  // A firing alert: opens an incident for its key (running on_open actions)
  // or adds the alert to the open one. Returns the notices to send.
  std::vector<incident_notice> on_alert(const alert& a);
  // A resolved alert: taken off the open incident of its key; when it was
  // that incident's last alert, the incident resolves (actor "keel") and
  // its id is returned.
  std::optional<std::string> on_resolved(const alert& a);
  // An error event: counted on the open incident of its key, if any.
  void on_event(const error_event& e);

  [[nodiscard]] result<void> acknowledge(std::string_view id, std::string_view actor);
  [[nodiscard]] result<void> resolve(std::string_view id, std::string_view actor);
  // Records an action taken by hand or elsewhere.
  [[nodiscard]] result<void> record_action(std::string_view id, std::string_view actor,
                                           std::string_view what);

  // Escalates every open, unacknowledged incident whose current level has
  // waited ack_timeout; returns the notices for the next level's receiver.
  std::vector<incident_notice> tick();

  std::optional<incident> get(std::string_view id) const;
  std::optional<incident> open_for(std::string_view key) const;
  std::vector<incident> list(bool include_resolved = false) const;

  incident_summary summary() const;

  // Durability: take_changes() returns every incident changed (or dropped)
  // since the last call; restore() puts back incidents read from a store
  // (before any new one opens), open ones with their escalation timers.
  std::vector<incident_change> take_changes();
  void restore(std::vector<incident_change> saved);

  // service:code of an alert (see above).
  static std::string key_of(const label_set& labels);

 private:
  void add_timeline(incident& i, std::string kind, std::string actor, std::string detail);
  const incident_policy& policy_for(const label_set& labels) const;  // under mu_
  const incident_policy& policy_named(std::string_view name) const;  // under mu_
  void audit(std::string_view actor, std::string_view action, const incident& i);

  const keel::clock& clock_;
  incident_options opts_;
  mutable std::mutex mu_;
  std::map<std::string, incident, std::less<>> by_id_;
  std::map<std::string, std::string, std::less<>> open_by_key_;  // key -> id
  std::map<std::string, std::chrono::system_clock::time_point, std::less<>> level_since_;
  std::map<std::string, handler, std::less<>> handlers_;
  std::uint64_t next_ = 0;
  std::set<std::string, std::less<>> dirty_;  // changed since take_changes()
  incident_policy default_policy_;            // under mu_
  std::vector<incident_policy> policies_;     // under mu_
};

}  // namespace keel::alert
