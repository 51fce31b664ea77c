// Error ingest (POST /api/v1/events) and the issues (error groups) it feeds.
#include "keel/alert/event.hpp"
#include "routes/common.hpp"

namespace keeld::routes {

namespace {

result<keel::alert::top_order> order_of(const request& req) {
  const auto q = req.query("order").value_or("count");
  if (q == "count") return keel::alert::top_order::count;
  if (q == "last_seen") return keel::alert::top_order::last_seen;
  if (q == "events_1h") return keel::alert::top_order::events_1h;
  return keel::fail(
      keel::error(keel::codes::validation_error, "order must be count, last_seen or events_1h")
          .with_detail("parameter", "order"));
}

// POST /api/v1/issues/{id}/{resolve,ignore,reopen}.
result<void> transition(service& svc, std::string_view action, request& req, response& res) {
  auto id = http::id_param(req, "id");
  if (!id) return keel::fail(std::move(id.error()));
  using action_t = keel::alert::pipeline::issue_action;
  keel::alert::ignore_options o;
  action_t act = action == "resolve"  ? action_t::resolve
                 : action == "reopen" ? action_t::reopen
                                      : action_t::ignore;
  if (act == action_t::ignore) {
    auto count = http::count_query(req, "count", {.dflt = 0, .min = 1});
    if (!count) return keel::fail(std::move(count.error()));
    if (*count > 0) o.for_count = *count;
  }
  auto done = svc.alerting().set_issue_status(*id, act, o);
  if (!done) return done;
  svc.audit("issue." + std::string(action), "issue:" + std::string(*id));
  res.set_json(to_json(*svc.alerting().tracker().group(*id), false));
  return {};
}

}  // namespace

// 1000 events of 100 values each: a 1 MiB body of ordinary events stays
// well within it, and a body of tiny values past it costs one scan.
constexpr std::size_t kIngestMaxValues = 100'000;

void add_issue_routes(http::router& r, service& svc) {
  r.post(
      "/api/v1/events",
      [&svc](request& req, response& res) -> task<result<void>> {
        if (!svc.alerting().store()) co_return keel::fail(svc.alerting().store_unavailable());
        // Everything that costs CPU in proportion to the body runs on a
        // worker thread, never on an I/O thread (which serves /health), and
        // the body's shape is bounded before a tree is built: a batch holds
        // at most 1000 events, an object 1000 members, the whole body
        // kIngestMaxValues values.
        // Durable before the 202: stored (events and their groups in one
        // transaction, shared with concurrent requests) and only then
        // counted. 503 + Retry-After when the store cannot take them:
        // nothing of them is kept. A retried batch (same Idempotency-Key
        // and body) or event (same event_id) is answered again without
        // being stored again.
        const std::string_view key = req.header("idempotency-key").value_or("");
        auto out = co_await svc.workers().run(
            [&svc, key, &req]() -> keel::result<std::vector<keel::alert::ingest_outcome>> {
              auto body = req.json({.max_depth = 32,
                                    .max_array_items = 1000,
                                    .max_object_members = 1000,
                                    .max_values = kIngestMaxValues});
              if (!body) return keel::fail(std::move(body.error()));
              auto events = keel::alert::events_from_json(*body, svc.clock().system_now());
              if (!events) return keel::fail(std::move(events.error()));
              return svc.alerting().ingest(std::move(*events), key, req.body());
            });
        if (!out) co_return keel::fail(std::move(out.error()));
        auto accepted = json::array();
        std::size_t duplicates = 0;
        for (const auto& o : *out) {
          json one = {{"issue", o.fingerprint},
                      {"count", o.count},
                      {"new_issue", o.new_group},
                      {"regression", o.regression}};
          if (o.duplicate) {
            one["duplicate"] = true;
            ++duplicates;
          }
          accepted.push_back(std::move(one));
        }
        res.set_json({{"accepted", accepted.size()},
                      {"duplicates", duplicates},
                      {"events", std::move(accepted)}},
                     202);
        co_return result<void>{};
      },
      kPublic);

  r.get(
      "/api/v1/issues",
      [&svc](request& req, response& res) -> result<void> {
        auto n = limit_of(req, 50);
        if (!n) return keel::fail(std::move(n.error()));
        auto order = order_of(req);
        if (!order) return keel::fail(std::move(order.error()));
        const bool all = req.query("status").value_or("open") == "all";
        json items = json::array();
        for (const auto& g : svc.alerting().tracker().top_groups(*n, *order, all))
          items.push_back(to_json(g, false));
        res.set_json({{"issues", items}});
        return {};
      },
      kAdmin);
  r.get(
      "/api/v1/issues/{id}",
      [&svc](request& req, response& res) -> result<void> {
        auto id = http::id_param(req, "id");
        if (!id) return keel::fail(std::move(id.error()));
        auto g = svc.alerting().tracker().group(*id);
        if (!g) return keel::fail(not_found("issue", *id));
        res.set_json(to_json(*g, true));
        return {};
      },
      kAdmin);
  for (const std::string_view action : {"resolve", "ignore", "reopen"}) {
    r.post(
        "/api/v1/issues/{id}/" + std::string(action),
        on_worker(svc, [&svc, action](request& req,
                                      response& res) { return transition(svc, action, req, res); }),
        kAdmin);
  }
}

}  // namespace keeld::routes
