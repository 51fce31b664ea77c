// The API's JSON views of keel::alert's types, and the body parser of a
// silence; each is declared next to its type. Times are RFC 3339.
#include <nlohmann/json.hpp>

#include "keel/alert/audit.hpp"
#include "keel/alert/config.hpp"
#include "keel/alert/dispatcher.hpp"
#include "keel/alert/error_tracker.hpp"
#include "keel/alert/incident.hpp"
#include "keel/alert/labels.hpp"
#include "keel/alert/outbox.hpp"
#include "keel/alert/rule.hpp"
#include "keel/alert/rule_engine.hpp"
#include "keel/core/json_member.hpp"
#include "keel/core/rfc3339.hpp"

namespace keel::alert {

using json = nlohmann::ordered_json;
using std::chrono::system_clock;

namespace {

json matcher_list(const std::vector<matcher>& ms) {
  json j = json::array();
  for (const auto& m : ms)
    j.push_back(m.to_string());
  return j;
}

// An object of name/value pairs: a label_set, or a rule's templated labels.
template <class Pairs>
json object_of(const Pairs& pairs) {
  json j = json::object();
  for (const auto& [k, v] : pairs)
    j[k] = v;
  return j;
}

json selector_json(const selector& s) {
  return {{"metric", s.metric}, {"matchers", matcher_list(s.matchers)}};
}

error field_error(std::string_view field, std::string message) {
  return error(codes::field_validation_error, std::move(message))
      .with_detail("field", std::string(field));
}

}  // namespace

json to_json(const label_set& l) { return object_of(l); }

json to_json(const rule& r) {
  const auto& c = r.cond;
  json j{{"name", r.name},
         {"condition", to_string(c.kind)},
         {"metric", c.series.metric},
         {"matchers", matcher_list(c.series.matchers)}};
  if (c.kind == condition_kind::ratio) {
    j["denominator"] = selector_json(c.denominator);
    j["min_denominator"] = c.min_denominator;
  }
  if (c.kind == condition_kind::histogram_quantile) j["quantile"] = c.quantile;
  if (c.kind == condition_kind::events && !c.fields.empty()) j["fields"] = matcher_list(c.fields);
  j["op"] = to_string(c.op);
  j["threshold"] = c.threshold;
  j["window_ms"] = c.window.count();
  if (c.by) j["by"] = *c.by;
  j["for_ms"] = r.for_duration.count();
  j["keep_firing_for_ms"] = r.keep_firing_for.count();
  j["labels"] = object_of(r.labels);
  j["annotations"] = object_of(r.annotations);
  return j;
}

json to_json(const alert& a) {
  json j{{"rule", a.rule},
         {"fingerprint", a.fingerprint()},
         {"state", to_string(a.state)},
         {"value", a.value},
         {"labels", to_json(a.labels)},
         {"annotations", to_json(a.annotations)},
         {"active_since", format_rfc3339(a.active_since)}};
  if (a.state == alert_state::firing) j["fired_at"] = format_rfc3339(a.fired_at);
  return j;
}

json to_json(const silence& s, system_clock::time_point now) {
  const char* state = now < s.starts_at ? "pending" : now < s.ends_at ? "active" : "expired";
  return {{"id", s.id},
          {"state", state},
          {"matchers", matcher_list(s.matchers)},
          {"starts_at", format_rfc3339(s.starts_at)},
          {"ends_at", format_rfc3339(s.ends_at)},
          {"created_by", s.created_by},
          {"comment", s.comment}};
}

result<silence> silence_from_json(const json& body, system_clock::time_point now) {
  using namespace std::chrono_literals;
  if (!body.is_object()) return fail(codes::validation_error, "expected an object");
  silence s;
  const auto m = body.find("matchers");
  if (m == body.end() || !m->is_array() || m->empty() || m->size() > 32) {
    return fail(field_error("matchers", "matchers: 1..32 matcher strings, e.g. alertname=\"X\""));
  }
  for (const auto& x : *m) {
    if (!x.is_string()) return fail(field_error("matchers", "a matcher is not a string"));
    auto parsed = parse_matcher(x.get<std::string>());
    if (!parsed) return fail(std::move(parsed.error()));
    s.matchers.push_back(std::move(*parsed));
  }
  s.starts_at = now;
  auto ends = string_member(body, "ends_at", 64);
  if (!ends) return fail(std::move(ends.error()));
  auto dur = string_member(body, "duration", 32);
  if (!dur) return fail(std::move(dur.error()));
  if (!ends->empty()) {
    auto t = parse_rfc3339(*ends);
    if (!t) return fail(field_error("ends_at", "ends_at: an RFC 3339 time"));
    s.ends_at = *t;
  } else {
    auto d = parse_duration(dur->empty() ? "1h" : *dur);
    if (!d || *d <= 0ms) return fail(field_error("duration", "duration: e.g. 30m, 2h, 1d"));
    s.ends_at = now + *d;
  }
  if (s.ends_at <= now) return fail(field_error("ends_at", "the silence ends in the past"));
  auto by = string_member(body, "created_by", 128, "admin");
  if (!by) return fail(std::move(by.error()));
  auto comment = string_member(body, "comment", 1024);
  if (!comment) return fail(std::move(comment.error()));
  s.created_by = std::move(*by);
  s.comment = std::move(*comment);
  return s;
}

json to_json(const error_group& g, bool with_events) {
  json j{{"id", g.fingerprint},
         {"service", g.service},
         {"code", g.code},
         {"category", keel::to_string(g.category)},
         {"severity", keel::to_string(g.severity)},
         {"title", g.title},
         {"count", g.count},
         {"first_seen", format_rfc3339(g.first_seen)},
         {"last_seen", format_rfc3339(g.last_seen)},
         {"events_1m", g.events_1m},
         {"events_1h", g.events_1h},
         {"status", to_string(g.status)},
         {"regressed", g.regressed},
         {"regressions", g.regressions}};
  if (with_events) {
    json ev = json::array();
    for (const auto& e : g.recent)
      ev.push_back(to_json(e));
    j["recent_events"] = std::move(ev);
  }
  return j;
}

json to_json(const error_stats& s) {
  return {
      {"total", s.total},           {"groups", s.groups},           {"by_code", s.by_code},
      {"by_service", s.by_service}, {"by_category", s.by_category}, {"by_severity", s.by_severity}};
}

json to_json(const audit_entry& e) {
  return {{"seq", e.seq},
          {"time", format_rfc3339(e.time)},
          {"actor", e.record.actor},
          {"action", e.record.action},
          {"resource", e.record.resource},
          {"outcome", e.record.outcome},
          {"request_id", e.record.request_id},
          {"details", e.record.details},
          {"hash", e.hash}};
}

json to_json(const audit_verification& v) {
  return {{"ok", v.ok},
          {"entries", v.entries},
          {"pruned_through", v.pruned_through},
          {"first_bad_seq", v.first_bad_seq},
          {"problem", to_string(v.problem)}};
}

json to_json(const notification_record& r) {
  return {{"id", r.id},
          {"receiver", r.receiver},
          {"outcome", to_string(r.outcome)},
          {"attempts", r.attempts},
          {"created_at", format_rfc3339(r.created_at)},
          {r.outcome == notification_outcome::pending ? "next_attempt_at" : "finished_at",
           format_rfc3339(r.finished_at)},
          {"detail", r.detail},
          {"dedup_key", r.dedup_key},
          {"content_type", r.content_type},
          {"body_bytes", r.body_bytes}};
}

json to_json(const incident& i, bool with_timeline) {
  json j{{"id", i.id},
         {"key", i.key},
         {"title", i.title},
         {"severity", i.severity},
         {"policy", i.policy},
         {"state", to_string(i.state)},
         {"opened_at", format_rfc3339(i.opened_at)},
         {"escalation_level", i.escalation_level},
         {"alerts", i.alerts},
         {"events", i.events}};
  if (i.acknowledged_at) {
    j["acknowledged_at"] = format_rfc3339(*i.acknowledged_at);
    j["acknowledged_by"] = i.acknowledged_by;
  }
  if (i.resolved_at) j["resolved_at"] = format_rfc3339(*i.resolved_at);
  if (with_timeline) {
    json t = json::array();
    for (const auto& e : i.timeline) {
      t.push_back({{"at", format_rfc3339(e.at)},
                   {"kind", e.kind},
                   {"actor", e.actor},
                   {"detail", e.detail}});
    }
    j["timeline"] = std::move(t);
  }
  return j;
}

}  // namespace keel::alert
