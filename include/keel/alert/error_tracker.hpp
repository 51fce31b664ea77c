// keel/alert/error_tracker.hpp
//
// error_tracker groups error events the way Sentry groups issues: each event
// is validated, fingerprinted (fingerprint.hpp) and counted into its group.
// A group knows its count, first and last seen, the events of the last minute
// and hour, a ring of its most recent events and its state: open, resolved,
// or ignored (until a count or a time). A resolved group that receives a new
// event reopens as a regression.
//
//   keel::alert::error_tracker tracker(clock, {.recent_per_group = 20});
//   auto r = tracker.record(event);             // validated; r->fingerprint, r->regression
//   auto top = tracker.top_groups(10);           // the seeds' recent-errors view
//   auto stats = tracker.stats();                // by code, service, category, severity
//   tracker.resolve(r->fingerprint);
//   rule_engine engine(tracker.series(), clock); // alert on keel_error_events_total
//
// Every accepted event also goes to an optional event_sink (the durable
// store, store.hpp) and counts into the series
// keel_error_events_total{service,code,category,severity} that event rules
// watch. Events of an ignored group are stored and counted in the group but
// not in that series: ignoring a group mutes its alerts.
//
// Thread safety: all member functions may be called concurrently (one mutex).
// Cost: record() is validation, one normalization pass, one SHA-256, two hash
// lookups and a copy of the event into the group's ring.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "keel/alert/event.hpp"
#include "keel/alert/labels.hpp"
#include "keel/alert/series.hpp"
#include "keel/core/clock.hpp"

namespace keel::alert {

// group_status
enum class group_status : std::uint8_t { open, resolved, ignored };
std::string_view to_string(group_status s) noexcept;

// error_group
//
// A snapshot of one group. `events_1m` / `events_1h` count the events of the
// last 60 seconds / 60 minutes (per-second and per-minute buckets).
struct error_group {
  std::string fingerprint{};
  std::string service{};
  std::string code{};
  keel::category category = keel::category::permanent;
  keel::severity severity = keel::severity::medium;
  std::string title{};  // the normalized message of the first event
  std::uint64_t count = 0;
  std::chrono::system_clock::time_point first_seen{};
  std::chrono::system_clock::time_point last_seen{};
  std::uint64_t events_1m = 0;
  std::uint64_t events_1h = 0;
  group_status status = group_status::open;
  bool regressed = false;  // reopened from resolved by a new event
  std::uint64_t regressions = 0;
  std::optional<std::uint64_t> ignore_until_count{};
  std::optional<std::chrono::system_clock::time_point> ignore_until{};
  std::vector<error_event> recent{};  // newest last
};

// record_outcome
struct record_outcome {
  std::string fingerprint{};
  std::uint64_t count = 0;  // the group's count including this event
  bool new_group = false;
  bool regression = false;  // this event reopened a resolved group
  // Stored before (its event_id, or its batch's Idempotency-Key): not
  // counted again; `count` is the group's count now.
  bool duplicate = false;
};

// error_stats
//
// Totals since the first stored event (restore() adds the stored groups'
// counts) — the seeds' /errors/stats.
struct error_stats {
  std::uint64_t total = 0;
  std::uint64_t groups = 0;
  std::map<std::string, std::uint64_t> by_code{};
  std::map<std::string, std::uint64_t> by_service{};
  std::map<std::string, std::uint64_t> by_category{};
  std::map<std::string, std::uint64_t> by_severity{};
};

// The API's views: a group (with its recent events or not) and the stats.
nlohmann::ordered_json to_json(const error_group& g, bool with_events);
nlohmann::ordered_json to_json(const error_stats& s);

// event_sink
//
// Where accepted events and group changes go to be kept (store.hpp). Called
// outside the tracker's lock, in the order events were accepted per thread.
class event_sink {
 public:
  virtual ~event_sink() = default;
  virtual void on_event(const error_event& e, std::string_view fingerprint) = 0;
  virtual void on_group(const error_group& g) = 0;  // `recent` is left empty
};

// tracker_options
struct tracker_options {
  std::size_t recent_per_group = 20;
  std::size_t recent_global = 100;
  std::size_t max_groups = 100'000;  // beyond, new groups are refused (RESOURCE_EXHAUSTED)
  event_limits limits{};
};

// ignore_options
//
// Ignore until the group has `for_count` more events, or until `until`;
// with neither, ignore for good (until reopened by hand).
struct ignore_options {
  std::optional<std::uint64_t> for_count{};
  std::optional<std::chrono::system_clock::time_point> until{};
};

// event_filter — an events rule with matchers on the event's fields:
// every counted event they match adds 1 to
// keel_rule_events_total{rule, service, code, category, severity}.
struct event_filter {
  std::string rule{};
  std::vector<matcher> fields{};
};

// top_order
enum class top_order : std::uint8_t { count, last_seen, events_1h };

class error_tracker {
 public:
  explicit error_tracker(const keel::clock& clock, tracker_options opts = {},
                         event_sink* sink = nullptr);
  error_tracker(const error_tracker&) = delete;
  error_tracker& operator=(const error_tracker&) = delete;

  // Validates, fingerprints and counts `e`, then hands it to the sink.
  // FIELD_VALIDATION_ERROR for a bad event, RESOURCE_EXHAUSTED when a new
  // group would exceed max_groups.
  [[nodiscard]] result<record_outcome> record(error_event e);

  // record() in two steps, for a caller that stores the event itself
  // between them (pipeline.hpp: stored first, counted only once stored).
  // admit() validates `e` (filling a missing timestamp) and returns its
  // fingerprint without changing anything; count_admitted() counts it
  // (and gives the sink only the group's state changes, not the event).
  [[nodiscard]] result<std::string> admit(error_event& e) const;
  record_outcome count_admitted(const error_event& e, std::string fingerprint);

  std::optional<error_group> group(std::string_view fingerprint) const;
  // Open groups first by `order`, at most n; resolved and ignored ones follow
  // only if `include_closed`.
  std::vector<error_group> top_groups(std::size_t n, top_order order = top_order::count,
                                      bool include_closed = false) const;
  // The most recent events across all groups, newest first.
  std::vector<error_event> recent(std::size_t n) const;
  error_stats stats() const;

  // State changes. RESOURCE_NOT_FOUND for an unknown fingerprint.
  [[nodiscard]] result<void> resolve(std::string_view fingerprint);
  [[nodiscard]] result<void> ignore(std::string_view fingerprint, ignore_options opts = {});
  [[nodiscard]] result<void> reopen(std::string_view fingerprint);

  // Puts back a group read from the store (counts, times and state), so a
  // restart keeps them, and adds its count to stats(). Its rate windows
  // start empty.
  void restore(const error_group& g);
  // Puts back the newest events across groups, and of one group, as read
  // from the store (newest first), for recent() and group(fp).recent.
  void restore_recent(const std::vector<error_event>& newest_first);
  void restore_ring(std::string_view fingerprint, const std::vector<error_event>& newest_first);

  // Replaces the filters every counted event is matched against (the
  // rules with `fields`; pipeline.hpp keeps them in step with its rules).
  void set_event_filters(std::vector<event_filter> filters);

  // Adds `n` to one keel_error_events_total series without an event: the
  // events of a rule's window that arrived before a restart (pipeline.hpp).
  void count_earlier(std::string_view service, std::string_view code, std::string_view category,
                     std::string_view severity, std::uint64_t n);

  // keel_error_events_total{service,code,category,severity}.
  const series_source& series() const noexcept { return series_; }

 private:
  // Event counts in buckets of `width` (N buckets): no allocation.
  template <std::size_t N>
  struct window {
    std::array<std::int64_t, N> slot{};  // bucket number held by each slot
    std::array<std::uint32_t, N> n{};
    void add(std::int64_t bucket) noexcept;
    std::uint64_t sum(std::int64_t now_bucket) const noexcept;
  };
  struct group_rec {
    error_group g;
    std::deque<error_event> ring;
    window<60> seconds;
    window<60> minutes;
  };

  error_group snapshot(const group_rec& r, std::chrono::system_clock::time_point now,
                       bool with_recent) const;
  group_rec* find(std::string_view fp);
  void uncount(const error_group& g);
  void count_filters(
      const error_event& e);  // outside mu_  // takes a replaced group's count out of stats_

  const keel::clock& clock_;
  tracker_options opts_;
  event_sink* sink_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, std::unique_ptr<group_rec>> groups_;
  std::deque<error_event> recent_;
  error_stats stats_;
  series_table series_;
  mutable std::mutex filters_mu_;
  std::shared_ptr<const std::vector<event_filter>> filters_ =
      std::make_shared<const std::vector<event_filter>>();
};

}  // namespace keel::alert
