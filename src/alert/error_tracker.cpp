#include "keel/alert/error_tracker.hpp"

#include <algorithm>

#include "keel/alert/fingerprint.hpp"
#include "keel/alert/rule.hpp"

namespace keel::alert {

std::string_view to_string(group_status s) noexcept {
  switch (s) {
    case group_status::open:
      return "open";
    case group_status::resolved:
      return "resolved";
    case group_status::ignored:
      return "ignored";
  }
  return "open";
}

namespace {
using namespace std::chrono;

std::int64_t second_of(system_clock::time_point t) {
  return duration_cast<seconds>(t.time_since_epoch()).count();
}
std::int64_t minute_of(system_clock::time_point t) {
  return duration_cast<minutes>(t.time_since_epoch()).count();
}
}  // namespace

template <std::size_t N>
void error_tracker::window<N>::add(std::int64_t bucket) noexcept {
  const auto i = static_cast<std::size_t>(((bucket % static_cast<std::int64_t>(N)) + N) % N);
  if (slot[i] != bucket) {
    slot[i] = bucket;
    n[i] = 0;
  }
  ++n[i];
}

template <std::size_t N>
std::uint64_t error_tracker::window<N>::sum(std::int64_t now_bucket) const noexcept {
  std::uint64_t s = 0;
  for (std::size_t i = 0; i < N; ++i) {
    if (slot[i] > now_bucket - static_cast<std::int64_t>(N) && slot[i] <= now_bucket) s += n[i];
  }
  return s;
}

error_tracker::error_tracker(const keel::clock& clock, tracker_options opts, event_sink* sink)
    : clock_(clock), opts_(std::move(opts)), sink_(sink) {}

error_tracker::group_rec* error_tracker::find(std::string_view fp) {
  auto it = groups_.find(std::string(fp));
  return it == groups_.end() ? nullptr : it->second.get();
}

result<std::string> error_tracker::admit(error_event& e) const {
  if (e.timestamp.time_since_epoch().count() <= 0) e.timestamp = clock_.system_now();
  if (auto v = validate(e, opts_.limits); !v) return fail(v.error());
  std::string fp = fingerprint(e);
  std::lock_guard lock(mu_);
  if (groups_.size() >= opts_.max_groups && groups_.find(fp) == groups_.end()) {
    return fail(error(codes::resource_exhausted, "too many error groups")
                    .with_detail("max_groups", opts_.max_groups));
  }
  return fp;
}

result<record_outcome> error_tracker::record(error_event e) {
  auto fp = admit(e);
  if (!fp) return fail(fp.error());
  auto out = count_admitted(e, std::move(*fp));
  if (sink_ != nullptr) sink_->on_event(e, out.fingerprint);
  return out;
}

record_outcome error_tracker::count_admitted(const error_event& e, std::string fp) {
  record_outcome out;
  out.fingerprint = std::move(fp);
  const auto now = clock_.system_now();
  std::optional<error_group> changed;
  bool counts = true;
  {
    std::lock_guard lock(mu_);
    group_rec* r = find(out.fingerprint);
    if (r == nullptr) {
      // admit() checked max_groups; a race past it by a few groups is
      // accepted rather than refusing an event the store already holds.
      auto rec = std::make_unique<group_rec>();
      rec->g.fingerprint = out.fingerprint;
      rec->g.service = e.service;
      rec->g.code = e.code;
      rec->g.category = e.category;
      rec->g.severity = e.severity;
      rec->g.title = normalize_message(e.message);
      rec->g.first_seen = e.timestamp;
      r = rec.get();
      groups_.emplace(out.fingerprint, std::move(rec));
      out.new_group = true;
    }
    error_group& g = r->g;
    ++g.count;
    g.last_seen = std::max(g.last_seen, e.timestamp);
    g.first_seen = std::min(g.first_seen, e.timestamp);
    // Rate windows follow the tracker's clock, not the sender's timestamp,
    // so a client with a wrong clock cannot hide a burst.
    r->seconds.add(second_of(now));
    r->minutes.add(minute_of(now));
    bool status_changed = false;
    if (g.status == group_status::resolved) {
      g.status = group_status::open;
      g.regressed = true;
      ++g.regressions;
      out.regression = true;
      status_changed = true;
    } else if (g.status == group_status::ignored) {
      const bool count_over = g.ignore_until_count && g.count >= *g.ignore_until_count;
      const bool time_over = g.ignore_until && now >= *g.ignore_until;
      if (count_over || time_over) {
        g.status = group_status::open;
        g.ignore_until_count.reset();
        g.ignore_until.reset();
        status_changed = true;
      } else {
        counts = false;
      }
    }
    out.count = g.count;
    ++stats_.total;
    ++stats_.by_code[e.code];
    ++stats_.by_service[e.service];
    ++stats_.by_category[std::string(to_string(e.category))];
    ++stats_.by_severity[std::string(to_string(e.severity))];
    stats_.groups = groups_.size();
    if (opts_.recent_per_group > 0) {
      if (r->ring.size() >= opts_.recent_per_group) r->ring.pop_front();
      r->ring.push_back(e);
    }
    if (opts_.recent_global > 0) {
      if (recent_.size() >= opts_.recent_global) recent_.pop_front();
      recent_.push_back(e);
    }
    // The store counts events itself (with the event, in one transaction);
    // it needs the group only when its state moved or when it is new.
    if (sink_ != nullptr && (status_changed || out.new_group)) changed = snapshot(*r, now, false);
  }
  if (counts) {
    series_
        .counter("keel_error_events_total",
                 label_set{{"service", e.service},
                           {"code", e.code},
                           {"category", std::string(to_string(e.category))},
                           {"severity", std::string(to_string(e.severity))}})
        ->add(1);
  }
  if (counts) count_filters(e);
  if (changed) sink_->on_group(*changed);
  return out;
}

void error_tracker::set_event_filters(std::vector<event_filter> filters) {
  auto next = std::make_shared<const std::vector<event_filter>>(std::move(filters));
  std::lock_guard lock(filters_mu_);
  filters_ = std::move(next);
}

void error_tracker::count_filters(const error_event& e) {
  std::shared_ptr<const std::vector<event_filter>> filters;
  {
    std::lock_guard lock(filters_mu_);
    filters = filters_;
  }
  if (filters->empty()) return;
  const std::string category(to_string(e.category)), severity(to_string(e.severity));
  const label_set fields{{"service", e.service}, {"environment", e.environment},
                         {"release", e.release}, {"code", e.code},
                         {"category", category}, {"severity", severity},
                         {"message", e.message}};
  for (const auto& f : *filters) {
    if (!matches_all(f.fields, fields)) continue;
    series_
        .counter(rule_events_series, label_set{{"rule", f.rule},
                                               {"service", e.service},
                                               {"code", e.code},
                                               {"category", category},
                                               {"severity", severity}})
        ->add(1);
  }
}

error_group error_tracker::snapshot(const group_rec& r, std::chrono::system_clock::time_point now,
                                    bool with_recent) const {
  error_group g = r.g;
  g.events_1m = r.seconds.sum(second_of(now));
  g.events_1h = r.minutes.sum(minute_of(now));
  if (with_recent) g.recent.assign(r.ring.begin(), r.ring.end());
  return g;
}

std::optional<error_group> error_tracker::group(std::string_view fp) const {
  std::lock_guard lock(mu_);
  auto it = groups_.find(std::string(fp));
  if (it == groups_.end()) return std::nullopt;
  return snapshot(*it->second, clock_.system_now(), true);
}

std::vector<error_group> error_tracker::top_groups(std::size_t n, top_order order,
                                                   bool include_closed) const {
  const auto now = clock_.system_now();
  std::vector<error_group> all;
  {
    std::lock_guard lock(mu_);
    all.reserve(groups_.size());
    for (const auto& [fp, r] : groups_) {
      if (!include_closed && r->g.status != group_status::open) continue;
      all.push_back(snapshot(*r, now, false));
    }
  }
  auto key = [order](const error_group& g) {
    switch (order) {
      case top_order::count:
        return static_cast<std::int64_t>(g.count);
      case top_order::last_seen:
        return static_cast<std::int64_t>(g.last_seen.time_since_epoch().count());
      case top_order::events_1h:
        return static_cast<std::int64_t>(g.events_1h);
    }
    return std::int64_t{0};
  };
  const auto take = std::min(n, all.size());
  std::partial_sort(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(take), all.end(),
                    [&](const error_group& a, const error_group& b) {
                      const bool ao = a.status == group_status::open;
                      const bool bo = b.status == group_status::open;
                      if (ao != bo) return ao;
                      if (key(a) != key(b)) return key(a) > key(b);
                      return a.fingerprint < b.fingerprint;
                    });
  all.resize(take);
  return all;
}

std::vector<error_event> error_tracker::recent(std::size_t n) const {
  std::lock_guard lock(mu_);
  std::vector<error_event> out;
  for (auto it = recent_.rbegin(); it != recent_.rend() && out.size() < n; ++it) {
    out.push_back(*it);
  }
  return out;
}

error_stats error_tracker::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

result<void> error_tracker::resolve(std::string_view fp) {
  std::optional<error_group> changed;
  {
    std::lock_guard lock(mu_);
    group_rec* r = find(fp);
    if (r == nullptr) return fail(codes::resource_not_found, "no error group " + std::string(fp));
    r->g.status = group_status::resolved;
    r->g.regressed = false;
    r->g.ignore_until_count.reset();
    r->g.ignore_until.reset();
    changed = snapshot(*r, clock_.system_now(), false);
  }
  if (sink_ != nullptr) sink_->on_group(*changed);
  return ok();
}

result<void> error_tracker::ignore(std::string_view fp, ignore_options opts) {
  std::optional<error_group> changed;
  {
    std::lock_guard lock(mu_);
    group_rec* r = find(fp);
    if (r == nullptr) return fail(codes::resource_not_found, "no error group " + std::string(fp));
    r->g.status = group_status::ignored;
    r->g.ignore_until_count.reset();
    r->g.ignore_until = opts.until;
    if (opts.for_count) r->g.ignore_until_count = r->g.count + *opts.for_count;
    changed = snapshot(*r, clock_.system_now(), false);
  }
  if (sink_ != nullptr) sink_->on_group(*changed);
  return ok();
}

result<void> error_tracker::reopen(std::string_view fp) {
  std::optional<error_group> changed;
  {
    std::lock_guard lock(mu_);
    group_rec* r = find(fp);
    if (r == nullptr) return fail(codes::resource_not_found, "no error group " + std::string(fp));
    r->g.status = group_status::open;
    r->g.ignore_until_count.reset();
    r->g.ignore_until.reset();
    changed = snapshot(*r, clock_.system_now(), false);
  }
  if (sink_ != nullptr) sink_->on_group(*changed);
  return ok();
}

void error_tracker::restore(const error_group& g) {
  std::lock_guard lock(mu_);
  auto rec = std::make_unique<group_rec>();
  rec->g = g;
  rec->g.recent.clear();
  rec->g.events_1m = rec->g.events_1h = 0;
  if (auto old = groups_.find(g.fingerprint); old != groups_.end()) uncount(old->second->g);
  // The totals since the first event: every stored group's count, by its
  // code, service, category and severity (a group has one of each).
  stats_.total += g.count;
  stats_.by_code[g.code] += g.count;
  stats_.by_service[g.service] += g.count;
  stats_.by_category[std::string(to_string(g.category))] += g.count;
  stats_.by_severity[std::string(to_string(g.severity))] += g.count;
  groups_[g.fingerprint] = std::move(rec);
  stats_.groups = groups_.size();
}

void error_tracker::count_earlier(std::string_view service, std::string_view code,
                                  std::string_view category, std::string_view severity,
                                  std::uint64_t n) {
  series_
      .counter("keel_error_events_total", label_set{{"service", std::string(service)},
                                                    {"code", std::string(code)},
                                                    {"category", std::string(category)},
                                                    {"severity", std::string(severity)}})
      ->add(static_cast<double>(n));
}

void error_tracker::restore_recent(const std::vector<error_event>& newest_first) {
  std::lock_guard lock(mu_);
  recent_.clear();
  for (auto it = newest_first.rbegin(); it != newest_first.rend(); ++it) {
    if (recent_.size() >= opts_.recent_global) recent_.pop_front();
    recent_.push_back(*it);
  }
}

void error_tracker::restore_ring(std::string_view fp,
                                 const std::vector<error_event>& newest_first) {
  std::lock_guard lock(mu_);
  group_rec* r = find(fp);
  if (r == nullptr) return;
  r->ring.clear();
  for (auto it = newest_first.rbegin(); it != newest_first.rend(); ++it) {
    if (r->ring.size() >= opts_.recent_per_group) r->ring.pop_front();
    r->ring.push_back(*it);
  }
}

void error_tracker::uncount(const error_group& g) {
  auto less = [&](std::map<std::string, std::uint64_t>& m, const std::string& k) {
    auto it = m.find(k);
    if (it == m.end()) return;
    it->second -= std::min(it->second, g.count);
    if (it->second == 0) m.erase(it);
  };
  stats_.total -= std::min(stats_.total, g.count);
  less(stats_.by_code, g.code);
  less(stats_.by_service, g.service);
  less(stats_.by_category, std::string(to_string(g.category)));
  less(stats_.by_severity, std::string(to_string(g.severity)));
}

}  // namespace keel::alert
