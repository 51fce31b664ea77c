#include "keel/alert/dispatcher.hpp"

#include <algorithm>
#include <set>

#include "keel/core/ids.hpp"

namespace keel::alert {

using namespace std::chrono_literals;
using time_point = std::chrono::system_clock::time_point;

bool notification::firing() const noexcept {
  return std::any_of(alerts.begin(), alerts.end(), [](const alert& a) { return !a.resolved(); });
}

struct dispatcher::group {
  std::string key;
  std::string receiver;
  std::chrono::milliseconds group_interval{}, repeat_interval{};
  label_set labels;
  std::map<std::string, alert> alerts;  // by fingerprint
  std::set<std::string> notified_firing;
  time_point next_flush{};
  time_point last_notified{};
  bool notified_once = false;
};

namespace {

std::string hex64(std::uint64_t h) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s(16, '0');
  for (int i = 15; i >= 0; --i, h >>= 4)
    s[static_cast<std::size_t>(i)] = kHex[h & 0xf];
  return s;
}

std::uint64_t fnv1a(std::string_view s) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

label_set common_of(const std::vector<alert>& alerts, bool annotations) {
  if (alerts.empty()) return {};
  label_set common = annotations ? alerts.front().annotations : alerts.front().labels;
  std::vector<std::string> drop;
  for (const auto& [k, v] : common) {
    for (const auto& a : alerts) {
      if ((annotations ? a.annotations : a.labels).get(k) != v) {
        drop.push_back(k);
        break;
      }
    }
  }
  for (const auto& k : drop)
    common.set(k, "");
  return common;
}

}  // namespace

dispatcher::dispatcher(route root, const keel::clock& clock, dispatcher_options opts)
    : root_(std::move(root)), clock_(clock), opts_(opts) {}

dispatcher::~dispatcher() = default;

result<void> dispatcher::set_route(route root) {
  if (root.receiver.empty()) {
    return fail(codes::validation_error, "the root route must name a receiver");
  }
  std::lock_guard lock(mu_);
  root_ = std::move(root);
  groups_.clear();
  return ok();
}

void dispatcher::set_inhibit_rules(std::vector<inhibit_rule> rules) {
  std::lock_guard lock(mu_);
  inhibit_ = std::move(rules);
}

void dispatcher::match(const route& node, const label_set& l, const resolved_route& parent,
                       std::vector<resolved_route>& out) const {
  bool child_matched = false;
  for (std::size_t i = 0; i < node.routes.size(); ++i) {
    const route& c = node.routes[i];
    if (!matches_all(c.matchers, l)) continue;
    resolved_route r{&c,
                     parent.path + "/" + std::to_string(i),
                     c.receiver.empty() ? parent.receiver : c.receiver,
                     c.group_by ? *c.group_by : parent.group_by,
                     c.group_wait.value_or(parent.group_wait),
                     c.group_interval.value_or(parent.group_interval),
                     c.repeat_interval.value_or(parent.repeat_interval)};
    match(c, l, r, out);
    child_matched = true;
    if (!c.continue_matching) break;
  }
  if (!child_matched) out.push_back(parent);
}

std::vector<dispatcher::resolved_route> dispatcher::routes_for(const label_set& l) const {
  resolved_route root{&root_,
                      "",
                      root_.receiver,
                      root_.group_by.value_or(std::vector<std::string>{}),
                      root_.group_wait.value_or(30s),
                      root_.group_interval.value_or(5min),
                      root_.repeat_interval.value_or(4h)};
  std::vector<resolved_route> out;
  match(root_, l, root, out);
  return out;
}

std::vector<std::string> dispatcher::receivers_for(const label_set& l) const {
  std::lock_guard lock(mu_);
  std::vector<std::string> out;
  for (const auto& r : routes_for(l))
    out.push_back(r.receiver);
  return out;
}

result<void> dispatcher::put(const alert& a) {
  const auto now = clock_.system_now();
  const std::string fp = a.fingerprint();
  std::lock_guard lock(mu_);
  if (a.resolved()) {
    firing_.erase(fp);
  } else {
    if (firing_.size() >= opts_.max_alerts && !firing_.contains(fp)) {
      return fail(error(codes::resource_exhausted, "too many alerts")
                      .with_detail("max_alerts", opts_.max_alerts));
    }
    firing_[fp] = a;
  }
  for (const auto& r : routes_for(a.labels)) {
    // A resolved alert with no group: nothing was notified for it here.
    group* g =
        group_locked(r, a.labels, a.resolved() ? std::nullopt : std::optional(now + r.group_wait));
    if (g != nullptr) g->alerts[fp] = a;
  }
  return ok();
}

dispatcher::group* dispatcher::group_locked(const resolved_route& r, const label_set& labels,
                                            std::optional<time_point> first_flush) {
  const bool all = r.group_by.size() == 1 && r.group_by[0] == "...";
  label_set gl = all ? labels : labels.project(r.group_by);
  std::string key = "{}" + r.path + ":" + gl.to_string();
  if (auto it = groups_.find(key); it != groups_.end()) return it->second.get();
  if (!first_flush) return nullptr;
  auto g = std::make_unique<group>();
  g->key = key;
  g->receiver = r.receiver;
  g->group_interval = r.group_interval;
  g->repeat_interval = r.repeat_interval;
  g->labels = std::move(gl);
  g->next_flush = *first_flush;
  return groups_.emplace(std::move(key), std::move(g)).first->second.get();
}

void dispatcher::restore_notified(const alert& a) {
  const auto now = clock_.system_now();
  alert firing = a;
  firing.ends_at.reset();
  firing.state = alert_state::firing;
  const std::string fp = firing.fingerprint();
  std::lock_guard lock(mu_);
  if (firing_.size() >= opts_.max_alerts && !firing_.contains(fp)) return;
  firing_[fp] = firing;
  for (const auto& r : routes_for(firing.labels)) {
    group* g = group_locked(r, firing.labels, now + r.group_interval);
    if (!g->notified_once) {
      // Notified when it fired, before the restart: repeats count from then.
      g->notified_once = true;
      g->last_notified = firing.fired_at;
    }
    g->alerts[fp] = firing;
    g->notified_firing.insert(fp);
  }
}

bool dispatcher::silenced_locked(const label_set& l, time_point now) const {
  return std::any_of(silences_.begin(), silences_.end(), [&](const silence& s) {
    return s.active_at(now) && matches_all(s.matchers, l);
  });
}

bool dispatcher::inhibited_locked(const label_set& l) const {
  for (const auto& rule : inhibit_) {
    if (!matches_all(rule.target_matchers, l)) continue;
    for (const auto& [fp, src] : firing_) {
      if (!matches_all(rule.source_matchers, src.labels)) continue;
      // An alert that is both source and target does not mute itself.
      if (src.labels == l) continue;
      const bool same = std::all_of(rule.equal.begin(), rule.equal.end(),
                                    [&](const auto& n) { return src.labels.get(n) == l.get(n); });
      if (same) return true;
    }
  }
  return false;
}

bool dispatcher::silenced(const label_set& l) const {
  std::lock_guard lock(mu_);
  return silenced_locked(l, clock_.system_now());
}

bool dispatcher::inhibited(const label_set& l) const {
  std::lock_guard lock(mu_);
  return inhibited_locked(l);
}

void dispatcher::tick(std::vector<notification>& out) {
  const auto now = clock_.system_now();
  std::lock_guard lock(mu_);
  std::erase_if(silences_, [&](const silence& s) { return s.ends_at + 1h < now; });
  for (auto it = groups_.begin(); it != groups_.end();) {
    group& g = *it->second;
    if (now < g.next_flush) {
      ++it;
      continue;
    }
    std::vector<alert> firing, resolved;
    bool new_firing = false;
    for (const auto& [fp, a] : g.alerts) {
      if (a.resolved()) {
        if (g.notified_firing.contains(fp)) resolved.push_back(a);
        continue;
      }
      if (silenced_locked(a.labels, now) || inhibited_locked(a.labels)) continue;
      if (!g.notified_firing.contains(fp)) new_firing = true;
      firing.push_back(a);
    }
    const bool repeat_due =
        !firing.empty() && g.notified_once && now - g.last_notified >= g.repeat_interval;
    if (new_firing || !resolved.empty() || repeat_due) {
      notification n;
      n.receiver = g.receiver;
      n.group_key = g.key;
      n.id = hex64(fnv1a(g.key)) + "-" +
             std::to_string(
                 std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch())
                     .count()) +
             "-" + std::to_string(++sequence_);
      n.group_labels = g.labels;
      n.created_at = now;
      g.notified_firing.clear();
      for (const auto& a : firing)
        g.notified_firing.insert(a.fingerprint());
      n.alerts = std::move(firing);
      n.alerts.insert(n.alerts.end(), resolved.begin(), resolved.end());
      n.common_labels = common_of(n.alerts, false);
      n.common_annotations = common_of(n.alerts, true);
      out.push_back(std::move(n));
      g.last_notified = now;
      g.notified_once = true;
    }
    std::erase_if(g.alerts, [&](const auto& kv) {
      if (!kv.second.resolved()) return false;
      g.notified_firing.erase(kv.first);
      return true;
    });
    g.next_flush = now + g.group_interval;
    if (g.alerts.empty()) {
      it = groups_.erase(it);
    } else {
      ++it;
    }
  }
}

result<std::string> dispatcher::add_silence(silence s) {
  if (s.matchers.empty()) return fail(codes::validation_error, "a silence needs a matcher");
  if (s.ends_at <= s.starts_at) {
    return fail(codes::validation_error, "a silence must end after it starts");
  }
  if (s.created_by.empty() || s.created_by.size() > 256) {
    return fail(codes::validation_error, "a silence needs its creator (at most 256 bytes)");
  }
  if (s.comment.size() > 1024) {
    return fail(codes::validation_error, "silence comment longer than 1 KiB");
  }
  std::lock_guard lock(mu_);
  if (silences_.size() >= opts_.max_silences) {
    return fail(codes::resource_exhausted, "too many silences");
  }
  if (s.id.empty()) {
    char hex[32];
    new_id128().to_hex(hex);
    s.id.assign(hex, 32);
  }
  auto it = std::find_if(silences_.begin(), silences_.end(),
                         [&](const silence& x) { return x.id == s.id; });
  if (it != silences_.end()) {
    *it = s;
  } else {
    silences_.push_back(s);
  }
  return s.id;
}

result<void> dispatcher::expire_silence(std::string_view id) {
  const auto now = clock_.system_now();
  std::lock_guard lock(mu_);
  for (auto& s : silences_) {
    if (s.id == id) {
      s.ends_at = std::min(s.ends_at, now);
      return ok();
    }
  }
  return fail(codes::resource_not_found, "no silence " + std::string(id));
}

std::vector<silence> dispatcher::silences() const {
  std::lock_guard lock(mu_);
  return silences_;
}

std::size_t dispatcher::group_count() const {
  std::lock_guard lock(mu_);
  return groups_.size();
}

}  // namespace keel::alert
