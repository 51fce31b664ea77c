#include "routes.hpp"

#include <algorithm>
#include <charconv>

#include "keel/alert/config.hpp"
#include "keel/alert/event.hpp"
#include "keel/core/rfc3339.hpp"
#include "keel/health/report.hpp"
#include "keel/http/task.hpp"
#include "keel/log/registry.hpp"
#include "keel/metrics/exposition.hpp"
#include "service.hpp"

namespace keeld {

namespace http = keel::http;
using http::request;
using http::response;
using http::task;
using keel::result;
using json = nlohmann::json;
using namespace std::chrono_literals;

namespace {

constexpr http::route_options kAdmin{.tags = http::route_tags::admin};
constexpr http::route_options kPublic{.tags = http::route_tags::public_api};
constexpr std::size_t kMaxBatch = 1000;
constexpr std::size_t kMaxList = 1000;

std::string rfc3339(std::chrono::system_clock::time_point t) { return keel::format_rfc3339(t); }

json labels_json(const keel::alert::label_set& l) {
  json j = json::object();
  for (const auto& [k, v] : l)
    j[k] = v;
  return j;
}

// ?limit=N within [1, kMaxList], default `dflt`.
result<std::size_t> limit_of(const request& req, std::size_t dflt) {
  const auto q = req.query("limit");
  if (!q) return dflt;
  std::size_t n = 0;
  const auto [p, ec] = std::from_chars(q->data(), q->data() + q->size(), n);
  if (ec != std::errc{} || p != q->data() + q->size() || n == 0 || n > kMaxList) {
    return keel::fail(keel::error(keel::codes::validation_error, "limit must be 1..1000")
                          .with_detail("parameter", "limit"));
  }
  return n;
}

// Path ids: bounded, of a fixed alphabet, so nothing odd reaches a lookup,
// a log line or a response.
result<std::string_view> id_param(const request& req, std::string_view name) {
  const auto v = req.param(name).value_or("");
  const bool ok = !v.empty() && v.size() <= 128 && std::all_of(v.begin(), v.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' ||
           c == ':';
  });
  if (!ok) {
    return keel::fail(keel::error(keel::codes::validation_error, "malformed id")
                          .with_detail("parameter", std::string(name)));
  }
  return v;
}

keel::error not_found(std::string_view what, std::string_view id) {
  return keel::error(keel::codes::resource_not_found, std::string(what) + " not found")
      .with_detail("id", std::string(id));
}

json group_json(const keel::alert::error_group& g, bool with_events) {
  json j{{"id", g.fingerprint},
         {"service", g.service},
         {"code", g.code},
         {"category", keel::to_string(g.category)},
         {"severity", keel::to_string(g.severity)},
         {"title", g.title},
         {"count", g.count},
         {"first_seen", rfc3339(g.first_seen)},
         {"last_seen", rfc3339(g.last_seen)},
         {"events_1m", g.events_1m},
         {"events_1h", g.events_1h},
         {"status", keel::alert::to_string(g.status)},
         {"regressed", g.regressed},
         {"regressions", g.regressions}};
  if (with_events) {
    json ev = json::array();
    for (const auto& e : g.recent)
      ev.push_back(json::parse(keel::alert::to_json(e).dump()));
    j["recent_events"] = std::move(ev);
  }
  return j;
}

json rule_json(const keel::alert::rule& r) {
  json labels = json::object(), annotations = json::object();
  for (const auto& [k, v] : r.labels)
    labels[k] = v;
  for (const auto& [k, v] : r.annotations)
    annotations[k] = v;
  json matchers = json::array();
  for (const auto& m : r.cond.series.matchers)
    matchers.push_back(m.to_string());
  return {{"name", r.name},
          {"condition", keel::alert::to_string(r.cond.kind)},
          {"metric", r.cond.series.metric},
          {"matchers", matchers},
          {"for_ms", r.for_duration.count()},
          {"keep_firing_for_ms", r.keep_firing_for.count()},
          {"labels", labels},
          {"annotations", annotations}};
}

json alert_json(const keel::alert::alert& a) {
  json j{{"rule", a.rule},
         {"fingerprint", a.fingerprint()},
         {"state", keel::alert::to_string(a.state)},
         {"value", a.value},
         {"labels", labels_json(a.labels)},
         {"annotations", labels_json(a.annotations)},
         {"active_since", rfc3339(a.active_since)}};
  if (a.state == keel::alert::alert_state::firing) j["fired_at"] = rfc3339(a.fired_at);
  return j;
}

// state as Alertmanager names it: pending (not started), active, expired.
json silence_json(const keel::alert::silence& s, std::chrono::system_clock::time_point now) {
  json m = json::array();
  for (const auto& x : s.matchers)
    m.push_back(x.to_string());
  const char* state = now < s.starts_at ? "pending" : now < s.ends_at ? "active" : "expired";
  return {{"id", s.id},
          {"state", state},
          {"matchers", m},
          {"starts_at", rfc3339(s.starts_at)},
          {"ends_at", rfc3339(s.ends_at)},
          {"created_by", s.created_by},
          {"comment", s.comment}};
}

json incident_json(const keel::alert::incident& i, bool with_timeline) {
  json j{{"id", i.id},
         {"key", i.key},
         {"title", i.title},
         {"state", keel::alert::to_string(i.state)},
         {"opened_at", rfc3339(i.opened_at)},
         {"escalation_level", i.escalation_level},
         {"alerts", i.alerts},
         {"events", i.events}};
  if (i.acknowledged_at) {
    j["acknowledged_at"] = rfc3339(*i.acknowledged_at);
    j["acknowledged_by"] = i.acknowledged_by;
  }
  if (i.resolved_at) j["resolved_at"] = rfc3339(*i.resolved_at);
  if (with_timeline) {
    json t = json::array();
    for (const auto& e : i.timeline) {
      t.push_back(
          {{"at", rfc3339(e.at)}, {"kind", e.kind}, {"actor", e.actor}, {"detail", e.detail}});
    }
    j["timeline"] = std::move(t);
  }
  return j;
}

// A string member of a JSON object, bounded; `dflt` when absent.
result<std::string> string_member(const json& body, std::string_view key, std::size_t max,
                                  std::string dflt = {}) {
  const auto it = body.find(key);
  if (it == body.end()) return dflt;
  if (!it->is_string() || it->get_ref<const std::string&>().size() > max) {
    return keel::fail(keel::error(keel::codes::field_validation_error,
                                  "'" + std::string(key) + "' must be a string of at most " +
                                      std::to_string(max) + " bytes")
                          .with_detail("field", std::string(key)));
  }
  return it->get<std::string>();
}

void health_response(response& res, const service::rendered_health& h) {
  res.set_body(h.body, keel::health::kHealthJsonContentType);
  res.set_status(h.status);
}

// Rules posted as YAML or JSON (JSON is YAML): one rule or {rules: [...]}.
result<std::vector<keel::alert::rule>> rules_from_body(const request& req) {
  if (req.body().empty()) return keel::fail(keel::codes::validation_error, "empty body");
  return keel::alert::load_rules_yaml(req.body());
}

// ---------------------------------------------------------------------------
// The seed exercise's endpoints.

void add_exercise_routes(http::router& r, service& svc) {
  r.get("/", [&svc](request&, response& res) {
    res.set_json({{"service", svc.cfg().service_name},
                  {"version", "0.1.0"},
                  {"status", "running"},
                  {"docs", "/openapi.json"},
                  {"endpoints",
                   {"/health", "/health/live", "/health/ready", "/metrics", "/simulate/error",
                    "/simulate/slow", "/alerts/test", "/api/v1/", "/admin/api/"}}});
  });
  r.get("/health", [&svc](request&, response& res) {
    health_response(res, *svc.health_view(keel::health::view::all));
  });
  r.get("/health/live", [&svc](request&, response& res) {
    health_response(res, *svc.health_view(keel::health::view::liveness));
  });
  r.get("/health/ready", [&svc](request&, response& res) {
    health_response(res, *svc.health_view(keel::health::view::readiness));
  });
  r.get("/metrics", [&svc](request& req, response& res) {
    const auto n = keel::metrics::negotiate(req.header("accept").value_or(""));
    auto& body = res.body();
    body.clear();
    keel::metrics::expose(svc.metrics(), n.fmt, body);
    res.set_header("Content-Type", n.content_type);
  });
  r.get("/openapi.json", [](request&, response& res) { res.set_json(openapi_document()); });
  r.get("/simulate/error", [&svc](request&, response& res) -> result<void> {
    if (svc.random().next_double() < svc.cfg().simulate_error_rate) {
      return keel::fail(keel::error(keel::codes::internal_error, "simulated error")
                            .with_detail("simulated", true));
    }
    res.set_json({{"message", "no error this time"}});
    return {};
  });
  r.get("/simulate/slow", [&svc](request&, response& res) -> task<void> {
    const auto lo = svc.cfg().simulate_slow_min, hi = svc.cfg().simulate_slow_max;
    const auto span = static_cast<std::uint64_t>((hi - lo).count()) + 1;
    const auto delay = lo + std::chrono::milliseconds(svc.random().next_below(span));
    co_await http::sleep_for(delay);
    res.set_json({{"message", "slow response"}, {"delay_seconds", delay.count() / 1000.0}});
  });
  r.post(
      "/alerts/test",
      [&svc](request& req, response& res) -> task<result<void>> {
        std::string message = "test alert from keeld";
        if (!req.body().empty()) {
          auto body = req.json();
          if (!body) co_return keel::fail(std::move(body.error()));
          if (!body->is_object()) {
            co_return keel::fail(keel::codes::validation_error, "expected a JSON object");
          }
          auto m = string_member(*body, "message", 1024, message);
          if (!m) co_return keel::fail(std::move(m.error()));
          message = std::move(*m);
        }
        auto out = co_await svc.workers().run(
            [&] { return svc.alerting().send_test_notification(message); });
        if (!out) co_return keel::fail(std::move(out.error()));
        res.set_json(*out);
        co_return result<void>{};
      },
      kPublic);
}

// ---------------------------------------------------------------------------
// Error ingest and issues.

void add_issue_routes(http::router& r, service& svc) {
  r.post(
      "/api/v1/events",
      [&svc](request& req, response& res) -> task<result<void>> {
        if (!svc.alerting().store()) co_return keel::fail(svc.alerting().store_unavailable());
        auto body = req.json();
        if (!body) co_return keel::fail(std::move(body.error()));
        const json* list = &*body;
        if (body->is_object() && body->contains("events")) list = &(*body)["events"];
        std::vector<keel::alert::error_event> events;
        auto errors = json::array();
        const auto now = svc.clock().system_now();
        auto take = [&](const json& item, std::size_t index) {
          auto e = keel::alert::event_from_json(item.dump(), now);
          if (!e) {
            // The event's own field errors, each with the event's index.
            const json problem = json::parse(keel::to_json(e.error()).dump());
            const json fields =
                problem.value("details", json::object()).value("errors", json::array());
            for (const auto& f : fields) {
              json entry = f;
              entry["index"] = index;
              errors.push_back(std::move(entry));
            }
            if (fields.empty()) {
              errors.push_back(json{{"index", index}, {"problem", std::string(e.error().name())}});
            }
          } else {
            events.push_back(std::move(*e));
          }
        };
        if (list->is_array()) {
          if (list->empty() || list->size() > kMaxBatch) {
            co_return keel::fail(
                keel::error(keel::codes::validation_error, "a batch holds 1..1000 events")
                    .with_detail("size", list->size()));
          }
          for (std::size_t i = 0; i < list->size(); ++i)
            take((*list)[i], i);
        } else if (list->is_object()) {
          take(*list, 0);
        } else {
          co_return keel::fail(keel::codes::validation_error,
                               "expected an event object, an array or {\"events\": [...]}");
        }
        if (!errors.empty()) {
          keel::error e(keel::codes::field_validation_error, "invalid events");
          co_return keel::fail(e.with_detail("errors", errors));
        }
        // Durable before the 202: stored (events and their groups in one
        // transaction, shared with concurrent requests) and only then
        // counted, on a worker thread. 503 + Retry-After when the store
        // cannot take them: nothing of them is kept.
        auto out = co_await svc.workers().run(
            [&svc, &events] { return svc.alerting().ingest(std::move(events)); });
        if (!out) co_return keel::fail(std::move(out.error()));
        auto accepted = json::array();
        for (const auto& o : *out) {
          accepted.push_back({{"issue", o.fingerprint},
                              {"count", o.count},
                              {"new_issue", o.new_group},
                              {"regression", o.regression}});
        }
        res.set_json({{"accepted", accepted.size()}, {"events", accepted}}, 202);
        co_return result<void>{};
      },
      kPublic);

  r.get(
      "/api/v1/issues",
      [&svc](request& req, response& res) -> result<void> {
        auto n = limit_of(req, 50);
        if (!n) return keel::fail(std::move(n.error()));
        const auto order_q = req.query("order").value_or("count");
        keel::alert::top_order order = keel::alert::top_order::count;
        if (order_q == "last_seen") {
          order = keel::alert::top_order::last_seen;
        } else if (order_q == "events_1h") {
          order = keel::alert::top_order::events_1h;
        } else if (order_q != "count") {
          return keel::fail(keel::error(keel::codes::validation_error,
                                        "order must be count, last_seen or events_1h")
                                .with_detail("parameter", "order"));
        }
        const bool all = req.query("status").value_or("open") == "all";
        json items = json::array();
        for (const auto& g : svc.alerting().tracker().top_groups(*n, order, all)) {
          items.push_back(group_json(g, false));
        }
        res.set_json({{"issues", items}});
        return {};
      },
      kAdmin);
  r.get(
      "/api/v1/issues/{id}",
      [&svc](request& req, response& res) -> result<void> {
        auto id = id_param(req, "id");
        if (!id) return keel::fail(std::move(id.error()));
        auto g = svc.alerting().tracker().group(*id);
        if (!g) return keel::fail(not_found("issue", *id));
        res.set_json(group_json(*g, true));
        return {};
      },
      kAdmin);
  auto transition = [&svc](std::string action) {
    return [&svc, action](request& req, response& res) -> result<void> {
      auto id = id_param(req, "id");
      if (!id) return keel::fail(std::move(id.error()));
      result<void> done;
      if (action == "resolve") {
        done = svc.alerting().tracker().resolve(*id);
      } else if (action == "reopen") {
        done = svc.alerting().tracker().reopen(*id);
      } else {
        keel::alert::ignore_options o;
        if (auto c = req.query("count")) {
          std::uint64_t n = 0;
          const auto [p, ec] = std::from_chars(c->data(), c->data() + c->size(), n);
          if (ec != std::errc{} || p != c->data() + c->size() || n == 0) {
            return keel::fail(keel::codes::validation_error, "count must be a positive integer");
          }
          o.for_count = n;
        }
        done = svc.alerting().tracker().ignore(*id, o);
      }
      if (!done) return done;
      svc.audit("issue." + action, "issue:" + std::string(*id));
      res.set_json(group_json(*svc.alerting().tracker().group(*id), false));
      return {};
    };
  };
  r.post("/api/v1/issues/{id}/resolve", transition("resolve"), kAdmin);
  r.post("/api/v1/issues/{id}/ignore", transition("ignore"), kAdmin);
  r.post("/api/v1/issues/{id}/reopen", transition("reopen"), kAdmin);
}

// ---------------------------------------------------------------------------
// Rules, alerts, silences, incidents.

void add_alerting_routes(http::router& r, service& svc) {
  r.get(
      "/api/v1/rules",
      [&svc](request&, response& res) {
        json items = json::array();
        for (const auto& rule : svc.alerting().rules().rules())
          items.push_back(rule_json(rule));
        res.set_json({{"rules", items}});
      },
      kAdmin);
  r.get(
      "/api/v1/rules/{name}",
      [&svc](request& req, response& res) -> result<void> {
        auto name = id_param(req, "name");
        if (!name) return keel::fail(std::move(name.error()));
        for (const auto& rule : svc.alerting().rules().rules()) {
          if (rule.name == *name) {
            res.set_json(rule_json(rule));
            return {};
          }
        }
        return keel::fail(not_found("rule", *name));
      },
      kAdmin);
  r.post(
      "/api/v1/rules",
      [&svc](request& req, response& res) -> task<result<void>> {
        if (req.body().empty()) co_return keel::fail(keel::codes::validation_error, "empty body");
        // Saved before it takes effect (a restart keeps it), on a worker.
        co_return co_await svc.workers().run([&]() -> result<void> {
          auto saved = svc.alerting().put_rules(req.body());
          if (!saved) return keel::fail(std::move(saved.error()));
          const json names = *saved;
          svc.audit("rules.upsert", "rules", {{"rules", names}});
          res.set_json({{"upserted", names}}, 201);
          return {};
        });
      },
      kAdmin);
  r.put(
      "/api/v1/rules/{name}",
      [&svc](request& req, response& res) -> task<result<void>> {
        auto name = id_param(req, "name");
        if (!name) co_return keel::fail(std::move(name.error()));
        auto rules = rules_from_body(req);
        if (!rules) co_return keel::fail(std::move(rules.error()));
        if (rules->size() != 1 || (*rules)[0].name != *name) {
          co_return keel::fail(keel::codes::validation_error,
                               "the body must hold one rule whose alert name is the path's");
        }
        co_return co_await svc.workers().run([&]() -> result<void> {
          if (auto u = svc.alerting().put_rules(req.body()); !u) return keel::fail(u.error());
          svc.audit("rules.put", "rule:" + std::string(*name));
          res.set_json({{"upserted", {*name}}});
          return {};
        });
      },
      kAdmin);
  r.del(
      "/api/v1/rules/{name}",
      [&svc](request& req, response& res) -> task<result<void>> {
        auto name = id_param(req, "name");
        if (!name) co_return keel::fail(std::move(name.error()));
        co_return co_await svc.workers().run([&]() -> result<void> {
          if (auto d = svc.alerting().delete_rule(*name); !d) return d;
          svc.audit("rules.delete", "rule:" + std::string(*name));
          res.set_status(204);
          return {};
        });
      },
      kAdmin);

  r.get(
      "/api/v1/alerts",
      [&svc](request&, response& res) {
        json items = json::array();
        for (const auto& a : svc.alerting().rules().active()) {
          items.push_back(alert_json(a));
          items.back()["silenced"] = svc.alerting().dispatch().silenced(a.labels);
          items.back()["inhibited"] = svc.alerting().dispatch().inhibited(a.labels);
        }
        res.set_json({{"alerts", items}});
      },
      kAdmin);

  r.get(
      "/api/v1/silences",
      [&svc](request&, response& res) {
        json items = json::array();
        const auto now = svc.clock().system_now();
        for (const auto& s : svc.alerting().dispatch().silences())
          items.push_back(silence_json(s, now));
        res.set_json({{"silences", items}});
      },
      kAdmin);
  r.post(
      "/api/v1/silences",
      [&svc](request& req, response& res) -> result<void> {
        auto body = req.json();
        if (!body) return keel::fail(std::move(body.error()));
        if (!body->is_object())
          return keel::fail(keel::codes::validation_error, "expected an object");
        keel::alert::silence s;
        const auto m = body->find("matchers");
        if (m == body->end() || !m->is_array() || m->empty() || m->size() > 32) {
          return keel::fail(keel::error(keel::codes::field_validation_error,
                                        "matchers: 1..32 matcher strings, e.g. alertname=\"X\"")
                                .with_detail("field", "matchers"));
        }
        for (const auto& x : *m) {
          if (!x.is_string()) return keel::fail(keel::codes::field_validation_error, "matchers");
          auto parsed = keel::alert::parse_matcher(x.get<std::string>());
          if (!parsed) return keel::fail(std::move(parsed.error()));
          s.matchers.push_back(std::move(*parsed));
        }
        const auto now = svc.clock().system_now();
        s.starts_at = now;
        auto ends = string_member(*body, "ends_at", 64);
        auto dur = string_member(*body, "duration", 32);
        if (!ends) return keel::fail(std::move(ends.error()));
        if (!dur) return keel::fail(std::move(dur.error()));
        if (!ends->empty()) {
          auto t = keel::parse_rfc3339(*ends);
          if (!t) return keel::fail(keel::codes::field_validation_error, "ends_at: RFC 3339 time");
          s.ends_at = *t;
        } else {
          auto d = keel::alert::parse_duration(dur->empty() ? "1h" : *dur);
          if (!d || *d <= 0ms) return keel::fail(keel::codes::field_validation_error, "duration");
          s.ends_at = now + *d;
        }
        if (s.ends_at <= now)
          return keel::fail(keel::codes::field_validation_error, "ends in the past");
        auto by = string_member(*body, "created_by", 128, "admin");
        auto comment = string_member(*body, "comment", 1024);
        if (!by) return keel::fail(std::move(by.error()));
        if (!comment) return keel::fail(std::move(comment.error()));
        s.created_by = std::move(*by);
        s.comment = std::move(*comment);
        auto id = svc.alerting().add_silence(s);
        if (!id) return keel::fail(std::move(id.error()));
        s.id = *id;
        svc.audit("silence.create", "silence:" + *id, {{"matchers", (*body)["matchers"]}});
        res.set_json(silence_json(s, now), 201);
        return {};
      },
      kAdmin);
  r.del(
      "/api/v1/silences/{id}",
      [&svc](request& req, response& res) -> result<void> {
        auto id = id_param(req, "id");
        if (!id) return keel::fail(std::move(id.error()));
        if (auto e = svc.alerting().expire_silence(*id); !e) return e;
        svc.audit("silence.expire", "silence:" + std::string(*id));
        res.set_status(204);
        return {};
      },
      kAdmin);

  r.get(
      "/api/v1/incidents",
      [&svc](request& req, response& res) {
        const bool all = req.query("state").value_or("open") == "all";
        json items = json::array();
        for (const auto& i : svc.alerting().incidents().list(all))
          items.push_back(incident_json(i, false));
        res.set_json({{"incidents", items}});
      },
      kAdmin);
  r.get(
      "/api/v1/incidents/{id}",
      [&svc](request& req, response& res) -> result<void> {
        auto id = id_param(req, "id");
        if (!id) return keel::fail(std::move(id.error()));
        auto i = svc.alerting().incidents().get(*id);
        if (!i) return keel::fail(not_found("incident", *id));
        res.set_json(incident_json(*i, true));
        return {};
      },
      kAdmin);
  auto incident_step = [&svc](bool ack) {
    return [&svc, ack](request& req, response& res) -> result<void> {
      auto id = id_param(req, "id");
      if (!id) return keel::fail(std::move(id.error()));
      auto done = ack ? svc.alerting().incidents().acknowledge(*id, "admin")
                      : svc.alerting().incidents().resolve(*id, "admin");
      if (!done) return done;
      svc.audit(ack ? "incident.acknowledge" : "incident.resolve", "incident:" + std::string(*id));
      res.set_json(incident_json(*svc.alerting().incidents().get(*id), false));
      return {};
    };
  };
  r.post("/api/v1/incidents/{id}/acknowledge", incident_step(true), kAdmin);
  r.post("/api/v1/incidents/{id}/resolve", incident_step(false), kAdmin);
}

// ---------------------------------------------------------------------------
// The admin API of the Flask seed.

void add_admin_routes(http::router& r, service& svc) {
  const std::string base = "/admin/api/monitoring";
  r.get(
      base + "/health/services",
      [&svc](request&, response& res) {
        json breakers = json::array();
        for (const auto& s : svc.breakers().snapshots()) {
          breakers.push_back(json::parse(keel::resilience::to_json(s).dump()));
        }
        res.set_json({{"services", svc.target_states()}, {"circuit_breakers", breakers}});
      },
      kAdmin);
  r.get(
      base + "/errors/stats",
      [&svc](request&, response& res) {
        const auto s = svc.alerting().tracker().stats();
        res.set_json({{"total", s.total},
                      {"groups", s.groups},
                      {"by_code", s.by_code},
                      {"by_service", s.by_service},
                      {"by_category", s.by_category},
                      {"by_severity", s.by_severity}});
      },
      kAdmin);
  r.post(
      base + "/circuit-breakers/reset/{service}",
      [&svc](request& req, response& res) -> result<void> {
        auto name = id_param(req, "service");
        if (!name) return keel::fail(std::move(name.error()));
        if (!svc.breakers().find(*name)) return keel::fail(not_found("circuit breaker", *name));
        if (auto rr = svc.breakers().reset(*name); !rr) return rr;
        svc.audit("circuit_breaker.reset", "breaker:" + std::string(*name));
        res.set_json({{"reset", {*name}}});
        return {};
      },
      kAdmin);
  r.post(
      base + "/circuit-breakers/reset-all",
      [&svc](request&, response& res) {
        json names = json::array();
        for (const auto& n : svc.breakers().names()) {
          if (svc.breakers().reset(n)) names.push_back(n);
        }
        svc.audit("circuit_breaker.reset_all", "breakers", {{"reset", names}});
        res.set_json({{"reset", names}});
      },
      kAdmin);
  r.get(
      base + "/logs/recent-errors",
      [&svc](request& req, response& res) -> result<void> {
        auto n = limit_of(req, 50);
        if (!n) return keel::fail(std::move(n.error()));
        json items = json::array();
        for (const auto& e : svc.alerting().tracker().recent(*n)) {
          items.push_back(json::parse(keel::alert::to_json(e).dump()));
        }
        res.set_json({{"errors", items}});
        return {};
      },
      kAdmin);
  r.post(
      base + "/alerts/configure",
      [&svc](request& req, response& res) -> task<result<void>> {
        if (req.body().empty()) co_return keel::fail(keel::codes::validation_error, "empty body");
        // Saved before it takes effect, so a restart keeps it (on a worker);
        // a SIGHUP reload takes the file's configuration again.
        co_return co_await svc.workers().run([&]() -> result<void> {
          auto applied = svc.alerting().configure(req.body());
          if (!applied) return keel::fail(std::move(applied.error()));
          svc.audit("alerts.configure", "alerting",
                    {{"rules", applied->rules.size()}, {"receivers", applied->receivers.size()}});
          res.set_json(
              {{"rules", applied->rules.size()}, {"receivers", applied->receivers.size()}});
          return {};
        });
      },
      kAdmin);
  r.get(
      base + "/health/check",
      [&svc](request&, response& res) {
        // Always fresh: an operator asking for a check wants it run now.
        const auto report = svc.health().run(keel::health::view::all);
        res.set_body(
            report.to_health_json({.service_id = svc.cfg().service_name, .version = "0.1.0"}),
            keel::health::kHealthJsonContentType);
        res.set_status(report.http_status());
      },
      kAdmin);

  r.get(
      "/admin/api/audit",
      [&svc](request& req, response& res) -> task<result<void>> {
        auto n = limit_of(req, 100);
        if (!n) co_return keel::fail(std::move(n.error()));
        std::int64_t after = 0;
        if (auto a = req.query("after")) {
          const auto [p, ec] = std::from_chars(a->data(), a->data() + a->size(), after);
          if (ec != std::errc{} || p != a->data() + a->size() || after < 0) {
            co_return keel::fail(keel::codes::validation_error, "after must be a sequence number");
          }
        }
        auto d = svc.alerting().store();
        if (!d) co_return keel::fail(svc.alerting().store_unavailable());
        auto entries = co_await svc.workers().run([&] { return d->audit->list(after, *n); });
        if (!entries) co_return keel::fail(std::move(entries.error()));
        json items = json::array();
        for (const auto& e : *entries) {
          items.push_back({{"seq", e.seq},
                           {"time", rfc3339(e.time)},
                           {"actor", e.record.actor},
                           {"action", e.record.action},
                           {"resource", e.record.resource},
                           {"outcome", e.record.outcome},
                           {"request_id", e.record.request_id},
                           {"details", json::parse(e.record.details.dump())},
                           {"hash", e.hash}});
        }
        res.set_json({{"entries", items}});
        co_return result<void>{};
      },
      kAdmin);
  r.get(
      "/admin/api/audit/verify",
      [&svc](request&, response& res) -> task<result<void>> {
        auto d = svc.alerting().store();
        if (!d) co_return keel::fail(svc.alerting().store_unavailable());
        auto v = co_await svc.workers().run([&] { return d->audit->verify(); });
        if (!v) co_return keel::fail(std::move(v.error()));
        res.set_json({{"ok", v->ok},
                      {"entries", v->entries},
                      {"first_bad_seq", v->first_bad_seq},
                      {"problem", keel::alert::to_string(v->problem)}},
                     v->ok ? 200 : 409);
        co_return result<void>{};
      },
      kAdmin);
  r.get(
      "/admin/api/loggers",
      [](request&, response& res) {
        json items = json::array();
        for (const auto& l : keel::log::loggers()) {
          items.push_back({{"name", l.name},
                           {"level", keel::log::to_string(l.effective)},
                           {"explicit", l.explicit_level.has_value()}});
        }
        res.set_json({{"loggers", items}});
      },
      kAdmin);
  r.put(
      "/admin/api/loggers/{name}",
      [&svc](request& req, response& res) -> result<void> {
        auto name = id_param(req, "name");
        if (!name) return keel::fail(std::move(name.error()));
        auto body = req.json();
        if (!body) return keel::fail(std::move(body.error()));
        if (!body->is_object())
          return keel::fail(keel::codes::validation_error, "expected an object");
        auto lv = string_member(*body, "level", 16);
        if (!lv) return keel::fail(std::move(lv.error()));
        const auto level = keel::log::parse_level(*lv);
        if (!level) {
          return keel::fail(keel::error(keel::codes::field_validation_error,
                                        "level: trace, debug, info, warn, error or critical")
                                .with_detail("field", "level"));
        }
        const std::string logger = *name == "root" ? "" : std::string(*name);
        keel::log::set_level(logger, *level);
        svc.audit("logger.set_level", "logger:" + std::string(*name), {{"level", *lv}});
        res.set_json({{"name", *name}, {"level", keel::log::to_string(*level)}});
        return {};
      },
      kAdmin);
}

// The admin-token layer.
class admin_auth final : public http::middleware {
 public:
  explicit admin_auth(service& svc) : svc_(svc) {}
  result<http::next_step> before(http::exchange& ex) override {
    const auto* route = ex.matched();
    if (!route || !(route->tags & http::route_tags::admin)) return http::next_step::proceed;
    const auto h = ex.req().header("authorization");
    constexpr std::string_view scheme = "Bearer ";
    if (!h || h->size() <= scheme.size() || !http::iequals(h->substr(0, scheme.size()), scheme)) {
      ex.res().set_header("WWW-Authenticate", "Bearer realm=\"keeld\"");
      return keel::fail(keel::codes::authentication_required, "admin token required");
    }
    if (!constant_time_equal(h->substr(scheme.size()), svc_.admin_token())) {
      return keel::fail(keel::codes::authorization_denied, "admin token not accepted");
    }
    return http::next_step::proceed;
  }

 private:
  service& svc_;
};

}  // namespace

bool constant_time_equal(std::string_view a, std::string_view b) noexcept {
  // Walks the expected value's length whatever `a` is, so the time says
  // nothing about where a guess first differs.
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (std::size_t i = 0; i < b.size(); ++i) {
    const unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    diff |= static_cast<unsigned char>(x ^ static_cast<unsigned char>(b[i]));
  }
  return diff == 0;
}

http::middleware_ptr make_admin_auth(service& svc) { return std::make_shared<admin_auth>(svc); }

void add_routes(http::router& r, service& svc) {
  add_exercise_routes(r, svc);
  add_issue_routes(r, svc);
  add_alerting_routes(r, svc);
  add_admin_routes(r, svc);
}

}  // namespace keeld
