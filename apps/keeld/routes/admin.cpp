// The admin API of the Flask seed (/admin/api/monitoring/...), the audit
// trail and the loggers.
#include "keel/alert/audit.hpp"
#include "keel/core/version.hpp"
#include "keel/health/report.hpp"
#include "keel/log/registry.hpp"
#include "routes/common.hpp"

namespace keeld::routes {

namespace {

void add_monitoring_routes(http::router& r, service& svc) {
  const std::string base = "/admin/api/monitoring";
  r.get(
      base + "/health/services",
      [&svc](request&, response& res) {
        json breakers = json::array();
        for (const auto& s : svc.breakers().snapshots())
          breakers.push_back(keel::resilience::to_json(s));
        res.set_json({{"services", svc.target_states()}, {"circuit_breakers", breakers}});
      },
      kAdmin);
  r.get(
      base + "/health/check",
      [&svc](request&, response& res) {
        // Always fresh: an operator asking for a check wants it run now.
        const auto report = svc.health().run(keel::health::view::all);
        res.set_body(report.to_health_json({.service_id = svc.cfg().service_name,
                                            .version = std::string(keel::version())}),
                     keel::health::kHealthJsonContentType);
        res.set_status(report.http_status());
      },
      kAdmin);
  r.get(
      base + "/errors/stats",
      [&svc](request&, response& res) { res.set_json(to_json(svc.alerting().tracker().stats())); },
      kAdmin);
  r.get(
      base + "/logs/recent-errors",
      [&svc](request& req, response& res) -> result<void> {
        auto n = limit_of(req, 50);
        if (!n) return keel::fail(std::move(n.error()));
        json items = json::array();
        for (const auto& e : svc.alerting().tracker().recent(*n))
          items.push_back(to_json(e));
        res.set_json({{"errors", items}});
        return {};
      },
      kAdmin);
  r.post(base + "/circuit-breakers/reset/{service}",
         on_worker(svc,
                   [&svc](request& req, response& res) -> result<void> {
                     auto name = http::id_param(req, "service");
                     if (!name) return keel::fail(std::move(name.error()));
                     if (!svc.breakers().find(*name))
                       return keel::fail(not_found("circuit breaker", *name));
                     if (auto rr = svc.breakers().reset(*name); !rr) return rr;
                     svc.audit("circuit_breaker.reset", "breaker:" + std::string(*name));
                     res.set_json({{"reset", {*name}}});
                     return {};
                   }),
         kAdmin);
  r.post(base + "/circuit-breakers/reset-all",
         on_worker(svc,
                   [&svc](request&, response& res) -> result<void> {
                     json names = json::array();
                     for (const auto& n : svc.breakers().names()) {
                       if (svc.breakers().reset(n)) names.push_back(n);
                     }
                     svc.audit("circuit_breaker.reset_all", "breakers", {{"reset", names}});
                     res.set_json({{"reset", names}});
                     return result<void>{};
                   }),
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
          const json counts{{"rules", applied->rules.size()},
                            {"receivers", applied->receivers.size()}};
          svc.audit("alerts.configure", "alerting", counts);
          res.set_json(counts);
          return {};
        });
      },
      kAdmin);
}

void add_audit_routes(http::router& r, service& svc) {
  r.get(
      "/admin/api/audit",
      [&svc](request& req, response& res) -> task<result<void>> {
        auto n = limit_of(req, 100);
        if (!n) co_return keel::fail(std::move(n.error()));
        auto after = http::count_query(req, "after", {.dflt = 0, .min = 0, .max = INT64_MAX});
        if (!after) co_return keel::fail(std::move(after.error()));
        auto d = svc.alerting().store();
        if (!d) co_return keel::fail(svc.alerting().store_unavailable());
        auto entries = co_await svc.workers().run(
            [&] { return d->audit->list(static_cast<std::int64_t>(*after), *n); });
        if (!entries) co_return keel::fail(std::move(entries.error()));
        json items = json::array();
        for (const auto& e : *entries)
          items.push_back(to_json(e));
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
        res.set_json(to_json(*v), v->ok ? 200 : 409);
        co_return result<void>{};
      },
      kAdmin);
}

void add_logger_routes(http::router& r, service& svc) {
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
  r.put("/admin/api/loggers/{name}",
        on_worker(svc,
                  [&svc](request& req, response& res) -> result<void> {
                    auto name = http::id_param(req, "name");
                    if (!name) return keel::fail(std::move(name.error()));
                    auto body = object_body(req);
                    if (!body) return keel::fail(std::move(body.error()));
                    auto lv = string_member(*body, "level", 16);
                    if (!lv) return keel::fail(std::move(lv.error()));
                    const auto level = keel::log::parse_level(*lv);
                    if (!level) {
                      return keel::fail(
                          keel::error(keel::codes::field_validation_error,
                                      "level: trace, debug, info, warn, error or critical")
                              .with_detail("field", "level"));
                    }
                    const std::string logger = *name == "root" ? "" : std::string(*name);
                    keel::log::set_level(logger, *level);
                    svc.audit("logger.set_level", "logger:" + std::string(*name), {{"level", *lv}});
                    res.set_json({{"name", *name}, {"level", keel::log::to_string(*level)}});
                    return {};
                  }),
        kAdmin);
}

}  // namespace

void add_admin_routes(http::router& r, service& svc) {
  add_monitoring_routes(r, svc);
  add_audit_routes(r, svc);
  add_logger_routes(r, svc);
}

}  // namespace keeld::routes
