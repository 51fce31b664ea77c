// The seed exercise's endpoints: /, health, metrics, the OpenAPI document,
// the simulated failures and the test alert.
#include "keel/core/version.hpp"
#include "keel/http/health_endpoint.hpp"
#include "keel/http/metrics_endpoint.hpp"
#include "routes.hpp"
#include "routes/common.hpp"

namespace keeld::routes {

void add_exercise_routes(http::router& r, service& svc) {
  r.get("/", [&svc](request&, response& res) {
    res.set_json({{"service", svc.cfg().service_name},
                  {"version", std::string(keel::version())},
                  {"status", "running"},
                  {"docs", "/openapi.json"},
                  {"endpoints",
                   {"/health", "/health/live", "/health/ready", "/metrics", "/simulate/error",
                    "/simulate/slow", "/alerts/test", "/api/v1/", "/admin/api/"}}});
  });
  const http::health_endpoint_options health{
      .service = {.service_id = svc.cfg().service_name, .version = std::string(keel::version())},
      .clock = &svc.clock()};
  r.get("/health", http::health_endpoint(svc.health(), keel::health::view::all, health));
  r.get("/health/live", http::health_endpoint(svc.health(), keel::health::view::liveness, health));
  r.get("/health/ready",
        http::health_endpoint(svc.health(), keel::health::view::readiness, health));
  r.get("/metrics", http::metrics_endpoint(svc.metrics()));
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
          auto body = object_body(req);
          if (!body) co_return keel::fail(std::move(body.error()));
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

}  // namespace keeld::routes
