#include "keel/alert/incident.hpp"

#include "alert/internal/nanos.hpp"

#include <algorithm>
#include <charconv>

#include <fmt/format.h>

namespace keel::alert {

std::string_view to_string(incident_state s) noexcept {
  switch (s) {
    case incident_state::open:
      return "open";
    case incident_state::acknowledged:
      return "acknowledged";
    case incident_state::resolved:
      return "resolved";
  }
  return "open";
}

incident_manager::incident_manager(const keel::clock& clock, incident_options opts)
    : clock_(clock), opts_(std::move(opts)) {
  default_policy_ = {
      .ack_timeout = opts_.ack_timeout, .escalation = opts_.escalation, .on_open = opts_.on_open};
  policies_ = std::move(opts_.policies);
}

void incident_manager::set_policies(incident_policy default_policy,
                                    std::vector<incident_policy> policies) {
  std::lock_guard lock(mu_);
  default_policy.name.clear();
  default_policy_ = std::move(default_policy);
  policies_ = std::move(policies);
}

const incident_policy& incident_manager::policy_for(const label_set& labels) const {
  for (const auto& p : policies_) {
    if (matches_all(p.matchers, labels)) return p;
  }
  return default_policy_;
}

const incident_policy& incident_manager::policy_named(std::string_view name) const {
  if (!name.empty()) {
    for (const auto& p : policies_) {
      if (p.name == name) return p;
    }
  }
  return default_policy_;
}

void incident_manager::register_handler(std::string name, handler h) {
  std::lock_guard lock(mu_);
  handlers_[std::move(name)] = std::move(h);
}

std::string incident_manager::key_of(const label_set& labels) {
  auto service = labels.get("service");
  auto code = labels.get("code");
  if (code.empty()) code = labels.get("alertname");
  return std::string(service.empty() ? std::string_view("unknown") : service) + ":" +
         std::string(code);
}

void incident_manager::add_timeline(incident& i, std::string kind, std::string actor,
                                    std::string detail) {
  if (i.timeline.size() >= opts_.max_timeline) {
    // Keep the opening entry; drop the oldest after it.
    i.timeline.erase(i.timeline.begin() + (i.timeline.size() > 1 ? 1 : 0));
  }
  i.timeline.push_back({clock_.system_now(), std::move(kind), std::move(actor), std::move(detail)});
  dirty_.insert(i.id);
}

void incident_manager::audit(std::string_view actor, std::string_view action, const incident& i) {
  if (opts_.audit == nullptr) return;
  (void)opts_.audit->append({.actor = std::string(actor),
                             .action = std::string(action),
                             .resource = "incident/" + i.id,
                             .details = {{"key", i.key}, {"state", to_string(i.state)}}});
}

std::vector<incident_notice> incident_manager::on_alert(const alert& a) {
  const std::string key = key_of(a.labels);
  const std::string fp = a.fingerprint();
  std::vector<incident_notice> notices;
  std::vector<action> to_run;
  incident snapshot;
  {
    std::lock_guard lock(mu_);
    if (auto it = open_by_key_.find(key); it != open_by_key_.end()) {
      incident& i = by_id_.at(it->second);
      if (std::find(i.alerts.begin(), i.alerts.end(), fp) == i.alerts.end()) {
        i.alerts.push_back(fp);
        add_timeline(i, "alert", "keel", a.labels.to_string());
      }
      return notices;
    }
    if (by_id_.size() >= opts_.max_incidents) {
      // Drop the oldest resolved incident; if none, the new one is not opened.
      auto victim = std::find_if(by_id_.begin(), by_id_.end(), [](const auto& kv) {
        return kv.second.state == incident_state::resolved;
      });
      if (victim == by_id_.end()) return notices;
      level_since_.erase(victim->first);
      dirty_.insert(victim->first);
      by_id_.erase(victim);
    }
    incident i;
    i.id = fmt::format("inc-{:010}", ++next_);  // sorts by age
    i.key = key;
    auto summary = a.annotations.get("summary");
    i.title = summary.empty() ? std::string(a.labels.get("alertname")) : std::string(summary);
    i.severity = std::string(a.labels.get("severity"));
    const incident_policy& policy = policy_for(a.labels);
    i.policy = policy.name;
    i.opened_at = clock_.system_now();
    i.alerts.push_back(fp);
    add_timeline(i, "opened", "keel",
                 a.labels.to_string() + (policy.name.empty() ? "" : " policy " + policy.name));
    open_by_key_[key] = i.id;
    level_since_[i.id] = i.opened_at;
    snapshot = i;
    by_id_.emplace(i.id, std::move(i));
    to_run = policy.on_open;
    if (!policy.escalation.empty()) {
      notices.push_back({snapshot.id, policy.escalation.front(), "opened"});
    }
  }
  // Actions run outside the lock: a handler may call back into the manager.
  for (const auto& act : to_run) {
    std::string outcome = "ok";
    switch (act.kind) {
      case action_kind::notify:
        notices.push_back({snapshot.id, act.name, "opened"});
        outcome = "queued";
        break;
      case action_kind::open_breaker:
        if (!opts_.breaker_opener) {
          outcome = "failed: no breaker registry";
        } else if (auto r = opts_.breaker_opener(act.name); !r) {
          outcome = "failed: " + r.error().to_string();
        }
        break;
      case action_kind::run_handler: {
        handler h;
        {
          std::lock_guard lock(mu_);
          if (auto it = handlers_.find(act.name); it != handlers_.end()) h = it->second;
        }
        if (!h) {
          outcome = "failed: no handler";
        } else if (auto r = h(snapshot); !r) {
          outcome = "failed: " + r.error().to_string();
        }
        break;
      }
    }
    static constexpr const char* kKinds[] = {"notify", "open_breaker", "run_handler"};
    std::lock_guard lock(mu_);
    if (auto it = by_id_.find(snapshot.id); it != by_id_.end()) {
      add_timeline(
          it->second, "action", "keel",
          std::string(kKinds[static_cast<int>(act.kind)]) + " " + act.name + ": " + outcome);
    }
  }
  return notices;
}

void incident_manager::on_event(const error_event& e) {
  const std::string key = e.service + ":" + e.code;
  std::lock_guard lock(mu_);
  auto it = open_by_key_.find(key);
  if (it == open_by_key_.end()) return;
  incident& i = by_id_.at(it->second);
  ++i.events;
  dirty_.insert(i.id);
  // One timeline entry per event would drown the timeline; the first of
  // every hundred is enough to show the flow.
  if (i.events % 100 == 1) add_timeline(i, "event", e.service, e.message.substr(0, 256));
}

result<void> incident_manager::acknowledge(std::string_view id, std::string_view actor) {
  if (actor.empty()) return fail(codes::validation_error, "acknowledge needs an actor");
  incident snapshot;
  {
    std::lock_guard lock(mu_);
    auto it = by_id_.find(id);
    if (it == by_id_.end())
      return fail(codes::resource_not_found, "no incident " + std::string(id));
    incident& i = it->second;
    if (i.state != incident_state::open) {
      return fail(
          error(codes::invalid_state_transition, "incident is " + std::string(to_string(i.state)))
              .with_detail("state", to_string(i.state)));
    }
    i.state = incident_state::acknowledged;
    i.acknowledged_at = clock_.system_now();
    i.acknowledged_by = std::string(actor);
    add_timeline(i, "acknowledged", std::string(actor), {});
    snapshot = i;
  }
  audit(actor, "incident.acknowledge", snapshot);
  return ok();
}

result<void> incident_manager::resolve(std::string_view id, std::string_view actor) {
  if (actor.empty()) return fail(codes::validation_error, "resolve needs an actor");
  incident snapshot;
  {
    std::lock_guard lock(mu_);
    auto it = by_id_.find(id);
    if (it == by_id_.end())
      return fail(codes::resource_not_found, "no incident " + std::string(id));
    incident& i = it->second;
    if (i.state == incident_state::resolved) {
      return fail(codes::invalid_state_transition, "incident is already resolved");
    }
    i.state = incident_state::resolved;
    i.resolved_at = clock_.system_now();
    add_timeline(i, "resolved", std::string(actor), {});
    open_by_key_.erase(i.key);
    level_since_.erase(i.id);
    snapshot = i;
  }
  audit(actor, "incident.resolve", snapshot);
  return ok();
}

std::optional<std::string> incident_manager::on_resolved(const alert& a) {
  const std::string key = key_of(a.labels);
  const std::string fp = a.fingerprint();
  std::string id;
  {
    std::lock_guard lock(mu_);
    auto it = open_by_key_.find(key);
    if (it == open_by_key_.end()) return std::nullopt;
    incident& i = by_id_.at(it->second);
    const auto pos = std::find(i.alerts.begin(), i.alerts.end(), fp);
    if (pos == i.alerts.end()) return std::nullopt;
    i.alerts.erase(pos);
    add_timeline(i, "alert_resolved", "keel", a.labels.to_string());
    if (!i.alerts.empty()) return std::nullopt;
    id = i.id;
  }
  // Its last alert resolved: so does the incident (acknowledged or not).
  if (!resolve(id, "keel")) return std::nullopt;
  return id;
}

result<void> incident_manager::record_action(std::string_view id, std::string_view actor,
                                             std::string_view what) {
  if (actor.empty() || what.empty() || what.size() > 1024) {
    return fail(codes::validation_error, "an action needs an actor and 1-1024 bytes of text");
  }
  incident snapshot;
  {
    std::lock_guard lock(mu_);
    auto it = by_id_.find(id);
    if (it == by_id_.end())
      return fail(codes::resource_not_found, "no incident " + std::string(id));
    add_timeline(it->second, "action", std::string(actor), std::string(what));
    snapshot = it->second;
  }
  audit(actor, "incident.action", snapshot);
  return ok();
}

std::vector<incident_notice> incident_manager::tick() {
  const auto now = clock_.system_now();
  std::vector<incident_notice> out;
  std::lock_guard lock(mu_);
  for (auto& [id, since] : level_since_) {
    incident& i = by_id_.at(id);
    if (i.state != incident_state::open) continue;
    const incident_policy& policy = policy_named(i.policy);
    if (now - since < policy.ack_timeout) continue;
    if (i.escalation_level + 1 >= policy.escalation.size()) continue;  // nobody left
    ++i.escalation_level;
    since = now;
    const auto& receiver = policy.escalation[i.escalation_level];
    add_timeline(i, "escalated", "keel", "to " + receiver);
    out.push_back({i.id, receiver, "escalated"});
  }
  return out;
}

std::optional<incident> incident_manager::get(std::string_view id) const {
  std::lock_guard lock(mu_);
  auto it = by_id_.find(id);
  if (it == by_id_.end()) return std::nullopt;
  return it->second;
}

std::optional<incident> incident_manager::open_for(std::string_view key) const {
  std::lock_guard lock(mu_);
  auto it = open_by_key_.find(key);
  if (it == open_by_key_.end()) return std::nullopt;
  return by_id_.at(it->second);
}

std::vector<incident> incident_manager::list(bool include_resolved) const {
  std::lock_guard lock(mu_);
  std::vector<incident> out;
  for (const auto& [id, i] : by_id_) {
    if (include_resolved || i.state != incident_state::resolved) out.push_back(i);
  }
  return out;
}

incident_summary incident_manager::summary() const {
  std::lock_guard lock(mu_);
  incident_summary out;
  auto secs = [](auto d) { return std::chrono::duration<double>(d).count(); };
  for (const auto& [id, i] : by_id_) {
    switch (i.state) {
      case incident_state::open:
        ++out.open;
        break;
      case incident_state::acknowledged:
        ++out.acknowledged;
        break;
      case incident_state::resolved:
        ++out.resolved;
        if (i.resolved_at) out.seconds_to_resolve += secs(*i.resolved_at - i.opened_at);
        break;
    }
    if (i.acknowledged_at) {
      ++out.acknowledged_total;
      out.seconds_to_acknowledge += secs(*i.acknowledged_at - i.opened_at);
    }
  }
  return out;
}

std::vector<incident_change> incident_manager::take_changes() {
  std::lock_guard lock(mu_);
  std::vector<incident_change> out;
  for (const auto& id : dirty_) {
    incident_change c{.id = id};
    if (auto it = by_id_.find(id); it != by_id_.end()) {
      c.current = it->second;
      if (auto l = level_since_.find(id); l != level_since_.end()) c.level_since = l->second;
    }
    out.push_back(std::move(c));
  }
  dirty_.clear();
  return out;
}

void incident_manager::restore(std::vector<incident_change> saved) {
  std::lock_guard lock(mu_);
  for (auto& c : saved) {
    if (!c.current) continue;
    incident& i = c.current.value();
    // Ids are "inc-<n>": the next one continues after the highest restored.
    if (i.id.starts_with("inc-")) {
      std::uint64_t n = 0;
      const auto digits = std::string_view(i.id).substr(4);
      if (std::from_chars(digits.data(), digits.data() + digits.size(), n).ec == std::errc{}) {
        next_ = std::max(next_, n);
      }
    }
    if (i.state != incident_state::resolved) {
      open_by_key_[i.key] = i.id;
      if (c.level_since) level_since_[i.id] = *c.level_since;
    }
    by_id_[i.id] = std::move(i);
  }
}

nlohmann::json to_record(const incident& i,
                         std::optional<std::chrono::system_clock::time_point> level_since) {
  nlohmann::json timeline = nlohmann::json::array();
  for (const auto& e : i.timeline) {
    timeline.push_back({{"at", internal::to_ns(e.at)},
                        {"kind", e.kind},
                        {"actor", e.actor},
                        {"detail", e.detail}});
  }
  nlohmann::json j{{"id", i.id},
                   {"key", i.key},
                   {"title", i.title},
                   {"severity", i.severity},
                   {"policy", i.policy},
                   {"state", to_string(i.state)},
                   {"opened_at", internal::to_ns(i.opened_at)},
                   {"acknowledged_by", i.acknowledged_by},
                   {"escalation_level", i.escalation_level},
                   {"alerts", i.alerts},
                   {"events", i.events},
                   {"timeline", std::move(timeline)}};
  if (i.acknowledged_at) j["acknowledged_at"] = internal::to_ns(*i.acknowledged_at);
  if (i.resolved_at) j["resolved_at"] = internal::to_ns(*i.resolved_at);
  if (level_since) j["level_since"] = internal::to_ns(*level_since);
  return j;
}

result<incident_change> incident_from_record(const nlohmann::json& j) {
  try {
    incident_change c;
    incident i;
    i.id = j.at("id").get<std::string>();
    i.key = j.at("key").get<std::string>();
    i.title = j.at("title").get<std::string>();
    i.severity = j.value("severity", "");
    i.policy = j.value("policy", "");
    const auto st = j.at("state").get<std::string>();
    i.state = st == "resolved"       ? incident_state::resolved
              : st == "acknowledged" ? incident_state::acknowledged
                                     : incident_state::open;
    i.opened_at = internal::from_ns(j.at("opened_at").get<std::int64_t>());
    i.acknowledged_by = j.value("acknowledged_by", "");
    i.escalation_level = j.value("escalation_level", std::uint32_t{0});
    i.alerts = j.value("alerts", std::vector<std::string>{});
    i.events = j.value("events", std::uint64_t{0});
    for (const auto& e : j.at("timeline")) {
      i.timeline.push_back({internal::from_ns(e.at("at").get<std::int64_t>()),
                            e.at("kind").get<std::string>(), e.at("actor").get<std::string>(),
                            e.at("detail").get<std::string>()});
    }
    if (j.contains("acknowledged_at"))
      i.acknowledged_at = internal::from_ns(j["acknowledged_at"].get<std::int64_t>());
    if (j.contains("resolved_at"))
      i.resolved_at = internal::from_ns(j["resolved_at"].get<std::int64_t>());
    if (j.contains("level_since"))
      c.level_since = internal::from_ns(j["level_since"].get<std::int64_t>());
    c.id = i.id;
    c.current = std::move(i);
    return c;
  } catch (const std::exception& e) {
    return fail(
        error(codes::validation_error, std::string("incident record unreadable: ") + e.what()));
  }
}

}  // namespace keel::alert
