// Rules, alerts, silences and incidents under /api/v1/.
#include <charconv>

#include "keel/alert/config.hpp"
#include "keel/alert/outbox.hpp"
#include "keel/core/rfc3339.hpp"
#include "routes/common.hpp"

namespace keeld::routes {

namespace {

void add_rule_routes(http::router& r, service& svc) {
  r.get(
      "/api/v1/rules",
      [&svc](request&, response& res) {
        json items = json::array();
        for (const auto& rule : svc.alerting().rules().rules())
          items.push_back(to_json(rule));
        res.set_json({{"rules", items}});
      },
      kAdmin);
  r.get(
      "/api/v1/rules/{name}",
      [&svc](request& req, response& res) -> result<void> {
        auto name = http::id_param(req, "name");
        if (!name) return keel::fail(std::move(name.error()));
        for (const auto& rule : svc.alerting().rules().rules()) {
          if (rule.name == *name) {
            res.set_json(to_json(rule));
            return {};
          }
        }
        return keel::fail(not_found("rule", *name));
      },
      kAdmin);
  // Rules are posted as YAML or JSON (JSON is YAML): one rule or {rules:
  // [...]}. Saved before they take effect (a restart keeps them), on a
  // worker.
  r.post(
      "/api/v1/rules",
      [&svc](request& req, response& res) -> task<result<void>> {
        if (req.body().empty()) co_return keel::fail(keel::codes::validation_error, "empty body");
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
        auto name = http::id_param(req, "name");
        if (!name) co_return keel::fail(std::move(name.error()));
        if (req.body().empty()) co_return keel::fail(keel::codes::validation_error, "empty body");
        auto rules = keel::alert::load_rules_yaml(req.body());
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
        auto name = http::id_param(req, "name");
        if (!name) co_return keel::fail(std::move(name.error()));
        co_return co_await svc.workers().run([&]() -> result<void> {
          if (auto d = svc.alerting().delete_rule(*name); !d) return d;
          svc.audit("rules.delete", "rule:" + std::string(*name));
          res.set_status(204);
          return {};
        });
      },
      kAdmin);
}

void add_alert_routes(http::router& r, service& svc) {
  r.get(
      "/api/v1/alerts",
      [&svc](request&, response& res) {
        json items = json::array();
        const auto& dispatch = svc.alerting().dispatch();
        for (const auto& a : svc.alerting().rules().active()) {
          auto j = to_json(a);
          j["silenced"] = dispatch.silenced(a.labels);
          j["inhibited"] = dispatch.inhibited(a.labels);
          items.push_back(std::move(j));
        }
        res.set_json({{"alerts", items}});
      },
      kAdmin);
}

void add_silence_routes(http::router& r, service& svc) {
  r.get(
      "/api/v1/silences",
      [&svc](request&, response& res) {
        json items = json::array();
        const auto now = svc.clock().system_now();
        for (const auto& s : svc.alerting().dispatch().silences())
          items.push_back(to_json(s, now));
        res.set_json({{"silences", items}});
      },
      kAdmin);
  r.post("/api/v1/silences",
         on_worker(
             svc,
             [&svc](request& req, response& res) -> result<void> {
               auto body = req.json();
               if (!body) return keel::fail(std::move(body.error()));
               const auto now = svc.clock().system_now();
               auto s = keel::alert::silence_from_json(*body, now);
               if (!s) return keel::fail(std::move(s.error()));
               auto id = svc.alerting().add_silence(*s);
               if (!id) return keel::fail(std::move(id.error()));
               s->id = *id;
               svc.audit("silence.create", "silence:" + *id, {{"matchers", (*body)["matchers"]}});
               res.set_json(to_json(*s, now), 201);
               return {};
             }),
         kAdmin);
  r.del("/api/v1/silences/{id}",
        on_worker(svc,
                  [&svc](request& req, response& res) -> result<void> {
                    auto id = http::id_param(req, "id");
                    if (!id) return keel::fail(std::move(id.error()));
                    if (auto e = svc.alerting().expire_silence(*id); !e) return e;
                    svc.audit("silence.expire", "silence:" + std::string(*id));
                    res.set_status(204);
                    return {};
                  }),
        kAdmin);
}

// POST /api/v1/incidents/{id}/{acknowledge,resolve}.
result<void> incident_step(service& svc, bool ack, request& req, response& res) {
  auto id = http::id_param(req, "id");
  if (!id) return keel::fail(std::move(id.error()));
  auto& incidents = svc.alerting().incidents();
  auto done = ack ? incidents.acknowledge(*id, "admin") : incidents.resolve(*id, "admin");
  if (!done) return done;
  svc.audit(ack ? "incident.acknowledge" : "incident.resolve", "incident:" + std::string(*id));
  res.set_json(to_json(*incidents.get(*id), false));
  return {};
}

void add_incident_routes(http::router& r, service& svc) {
  r.get(
      "/api/v1/incidents",
      [&svc](request& req, response& res) {
        const bool all = req.query("state").value_or("open") == "all";
        json items = json::array();
        for (const auto& i : svc.alerting().incidents().list(all))
          items.push_back(to_json(i, false));
        res.set_json({{"incidents", items}});
      },
      kAdmin);
  r.get(
      "/api/v1/incidents/{id}",
      [&svc](request& req, response& res) -> result<void> {
        auto id = http::id_param(req, "id");
        if (!id) return keel::fail(std::move(id.error()));
        auto i = svc.alerting().incidents().get(*id);
        if (!i) return keel::fail(not_found("incident", *id));
        res.set_json(to_json(*i, true));
        return {};
      },
      kAdmin);
  r.post("/api/v1/incidents/{id}/acknowledge",
         on_worker(svc, [&svc](request& req,
                               response& res) { return incident_step(svc, true, req, res); }),
         kAdmin);
  r.post("/api/v1/incidents/{id}/resolve",
         on_worker(svc, [&svc](request& req,
                               response& res) { return incident_step(svc, false, req, res); }),
         kAdmin);
}

result<keel::alert::notification_query> notification_query_of(const request& req) {
  keel::alert::notification_query q;
  auto receiver = http::id_query(req, "receiver");
  if (!receiver) return keel::fail(std::move(receiver.error()));
  if (*receiver) q.receiver = std::string(**receiver);
  if (auto o = req.query("outcome")) {
    using keel::alert::notification_outcome;
    for (auto c : {notification_outcome::pending, notification_outcome::delivered,
                   notification_outcome::dead}) {
      if (*o == to_string(c)) q.outcome = c;
    }
    if (!q.outcome) {
      return keel::fail(
          keel::error(keel::codes::validation_error, "outcome must be pending, delivered or dead")
              .with_detail("parameter", "outcome"));
    }
  }
  if (auto b = req.query("before")) {
    auto t = keel::parse_rfc3339(*b);
    if (!t) {
      return keel::fail(keel::error(keel::codes::validation_error, "before: an RFC 3339 time")
                            .with_detail("parameter", "before"));
    }
    q.before = *t;
  }
  auto n = limit_of(req, 100);
  if (!n) return keel::fail(std::move(n.error()));
  q.limit = *n;
  return q;
}

// The notification log (what was sent to whom, when, with what outcome)
// and the dead letters' way back to the queue.
void add_notification_routes(http::router& r, service& svc) {
  r.get(
      "/api/v1/notifications",
      [&svc](request& req, response& res) -> task<result<void>> {
        auto q = notification_query_of(req);
        if (!q) co_return keel::fail(std::move(q.error()));
        auto d = svc.alerting().store();
        if (!d) co_return keel::fail(svc.alerting().store_unavailable());
        auto records = co_await svc.workers().run([&] { return d->outbox->log(*q); });
        if (!records) co_return keel::fail(std::move(records.error()));
        json items = json::array();
        for (const auto& n : *records)
          items.push_back(to_json(n));
        json body{{"notifications", items}};
        // The cursor of the next page, when this one is full.
        if (records->size() == q->limit)
          body["next_before"] = keel::format_rfc3339(records->back().created_at);
        res.set_json(body);
        co_return result<void>{};
      },
      kAdmin);
  r.post(
      "/api/v1/dead-letters/{id}/requeue",
      [&svc](request& req, response& res) -> task<result<void>> {
        auto id = http::id_param(req, "id", 19);
        if (!id) co_return keel::fail(std::move(id.error()));
        std::int64_t dead_id = 0;
        const auto [p, ec] = std::from_chars(id->data(), id->data() + id->size(), dead_id);
        if (ec != std::errc{} || p != id->data() + id->size() || dead_id <= 0)
          co_return keel::fail(not_found("dead letter", *id));
        auto d = svc.alerting().store();
        if (!d) co_return keel::fail(svc.alerting().store_unavailable());
        auto queued = co_await svc.workers().run([&]() -> result<std::int64_t> {
          auto q = d->outbox->requeue(dead_id);
          if (q) {
            svc.audit("dead_letter.requeue", "dead_letter:" + std::string(*id),
                      {{"outbox_id", *q}});
          }
          return q;
        });
        if (!queued) co_return keel::fail(std::move(queued.error()));
        res.set_json({{"requeued", dead_id}, {"outbox_id", *queued}});
        co_return result<void>{};
      },
      kAdmin);
}

}  // namespace

void add_alerting_routes(http::router& r, service& svc) {
  add_rule_routes(r, svc);
  add_alert_routes(r, svc);
  add_silence_routes(r, svc);
  add_incident_routes(r, svc);
  add_notification_routes(r, svc);
}

}  // namespace keeld::routes
