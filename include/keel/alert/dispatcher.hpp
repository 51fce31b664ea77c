// keel/alert/dispatcher.hpp
//
// dispatcher does what Alertmanager does between rule evaluation and
// receivers: it routes each alert through a tree of label matchers to a
// receiver, groups alerts by labels so one notification carries many,
// waits (group_wait) before the first notification of a group, batches
// changes (group_interval), repeats while firing (repeat_interval — the
// seeds' cooldown), and mutes alerts that a silence matches or that an
// inhibition rule suppresses (a critical alert firing for the same service
// mutes its warnings).
//
//   keel::alert::route root{.receiver = "ops", .group_by = {{"alertname", "service"}},
//                           .routes = {{.receiver = "pager",
//                                       .matchers =
//                                       {parse_matcher("severity=critical").value()}}}};
//   keel::alert::dispatcher d(root, clock);
//   d.set_inhibit_rules({{.source_matchers = {parse_matcher("severity=critical").value()},
//                         .target_matchers = {parse_matcher("severity=~warning|high").value()},
//                         .equal = {"service"}}});
//   d.put(alert);                        // from rule_engine::evaluate
//   std::vector<keel::alert::notification> out;
//   d.tick(out);                         // e.g. every second; out goes to the outbox
//
// Timing follows Alertmanager: a new group notifies after group_wait; later
// changes (new firing alerts, resolved ones that had been notified) go out at
// the next group_interval tick; an unchanged firing group is notified again
// once repeat_interval has passed since its last notification.
//
// Thread safety: all member functions may be called concurrently (one mutex).
// Cost: put() matches the route tree (matchers per level); tick() visits
// every group and does work only for those that are due.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "keel/alert/labels.hpp"
#include "keel/alert/rule_engine.hpp"
#include "keel/core/clock.hpp"

namespace keel::alert {

// route
//
// Unset timing and group_by values are inherited from the parent. group_by
// {"..."} groups by all labels (one alert per notification).
struct route {
  std::string receiver{};
  std::vector<matcher> matchers{};
  bool continue_matching = false;  // also try the next sibling after this one matched
  std::optional<std::vector<std::string>> group_by{};
  std::optional<std::chrono::milliseconds> group_wait{};
  std::optional<std::chrono::milliseconds> group_interval{};
  std::optional<std::chrono::milliseconds> repeat_interval{};
  std::vector<route> routes{};
};

// silence
struct silence {
  std::string id{};  // assigned by add_silence when empty
  std::vector<matcher> matchers{};
  std::chrono::system_clock::time_point starts_at{};
  std::chrono::system_clock::time_point ends_at{};
  std::string created_by{};
  std::string comment{};

  bool active_at(std::chrono::system_clock::time_point t) const noexcept {
    return t >= starts_at && t < ends_at;
  }
};

// The API's view of a silence; its state as Alertmanager names it at `now`:
// pending (not started), active or expired.
nlohmann::ordered_json to_json(const silence& s, std::chrono::system_clock::time_point now);

// silence_from_json
//
// A silence as POST /api/v1/silences takes it: {"matchers": ["a=\"b\"", ...]
// (1..32), "ends_at": RFC 3339 | "duration": "2h" (default 1h), "created_by",
// "comment"}, starting at `now`. FIELD_VALIDATION_ERROR naming the field
// otherwise; an end at or before `now` is refused.
[[nodiscard]] result<silence> silence_from_json(const nlohmann::ordered_json& body,
                                                std::chrono::system_clock::time_point now);

// inhibit_rule
//
// A firing alert matching source_matchers mutes every alert matching
// target_matchers that has the same values for the `equal` labels.
struct inhibit_rule {
  std::vector<matcher> source_matchers{};
  std::vector<matcher> target_matchers{};
  std::vector<std::string> equal{};
};

// notification — one message for one receiver about one group.
struct notification {
  std::string receiver{};
  std::string group_key{};  // route path + group labels: stable for the group
  std::string id{};         // unique per notification, stable across retries
  label_set group_labels{};
  label_set common_labels{};
  label_set common_annotations{};
  std::vector<alert> alerts{};  // firing first, then resolved
  std::chrono::system_clock::time_point created_at{};

  bool firing() const noexcept;
};

// dispatcher_options
struct dispatcher_options {
  std::size_t max_alerts = 100'000;  // put() beyond this is refused
  std::size_t max_silences = 10'000;
};

class dispatcher {
 public:
  // `root` must name a receiver; its unset timings default to Alertmanager's:
  // group_wait 30 s, group_interval 5 min, repeat_interval 4 h.
  dispatcher(route root, const keel::clock& clock, dispatcher_options opts = {});
  ~dispatcher();
  dispatcher(const dispatcher&) = delete;
  dispatcher& operator=(const dispatcher&) = delete;

  // Takes a firing or resolved alert. RESOURCE_EXHAUSTED beyond max_alerts.
  [[nodiscard]] result<void> put(const alert& a);
  // An alert that was firing, and notified, before a restart: taken as
  // notified (no new page; its resolution and repeats are sent as if the
  // dispatcher had never stopped, repeats counted from its fired_at).
  void restore_notified(const alert& a);
  // Flushes every due group into `out` (appended).
  void tick(std::vector<notification>& out);

  // Replaces the routing tree; groups restart. VALIDATION_ERROR when the
  // root has no receiver.
  [[nodiscard]] result<void> set_route(route root);
  void set_inhibit_rules(std::vector<inhibit_rule> rules);

  // Silences. add_silence validates (at least one matcher, ends after it
  // starts, creator given, comment ≤ 1 KiB) and returns the id.
  [[nodiscard]] result<std::string> add_silence(silence s);
  [[nodiscard]] result<void> expire_silence(std::string_view id);
  std::vector<silence> silences() const;

  // Whether an alert with these labels is muted now, and why.
  bool silenced(const label_set& l) const;
  bool inhibited(const label_set& l) const;
  // The receivers `l` routes to.
  std::vector<std::string> receivers_for(const label_set& l) const;
  std::size_t group_count() const;

 private:
  struct resolved_route {
    const route* node;
    std::string path;
    std::string receiver;
    std::vector<std::string> group_by;
    std::chrono::milliseconds group_wait, group_interval, repeat_interval;
  };
  struct group;
  void match(const route& node, const label_set& l, const resolved_route& parent,
             std::vector<resolved_route>& out) const;
  std::vector<resolved_route> routes_for(const label_set& l) const;
  // The group of `labels` on route `r`; made (flushing first at
  // `first_flush`) when there is none and `first_flush` is given.
  group* group_locked(const resolved_route& r, const label_set& labels,
                      std::optional<std::chrono::system_clock::time_point> first_flush);
  bool silenced_locked(const label_set& l, std::chrono::system_clock::time_point now) const;
  bool inhibited_locked(const label_set& l) const;

  route root_;
  const keel::clock& clock_;
  dispatcher_options opts_;
  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<group>> groups_;  // by group key
  std::map<std::string, alert> firing_;                   // every firing alert, by fingerprint
  std::vector<silence> silences_;
  std::vector<inhibit_rule> inhibit_;
  std::uint64_t sequence_ = 0;
};

}  // namespace keel::alert
