#include "keel/alert/incident.hpp"

#include <algorithm>

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
    : clock_(clock), opts_(std::move(opts)) {}

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
      by_id_.erase(victim);
    }
    incident i;
    i.id = fmt::format("inc-{:010}", ++next_);  // sorts by age
    i.key = key;
    auto summary = a.annotations.get("summary");
    i.title = summary.empty() ? std::string(a.labels.get("alertname")) : std::string(summary);
    i.opened_at = clock_.system_now();
    i.alerts.push_back(fp);
    add_timeline(i, "opened", "keel", a.labels.to_string());
    open_by_key_[key] = i.id;
    level_since_[i.id] = i.opened_at;
    snapshot = i;
    by_id_.emplace(i.id, std::move(i));
    to_run = opts_.on_open;
    if (!opts_.escalation.empty()) {
      notices.push_back({snapshot.id, opts_.escalation.front(), "opened"});
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
    if (now - since < opts_.ack_timeout) continue;
    if (i.escalation_level + 1 >= opts_.escalation.size()) continue;  // nobody left
    ++i.escalation_level;
    since = now;
    const auto& receiver = opts_.escalation[i.escalation_level];
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

}  // namespace keel::alert
