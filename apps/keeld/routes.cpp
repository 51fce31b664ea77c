#include "routes.hpp"

#include "routes/common.hpp"

namespace keeld {

// Each resource in its own file under routes/: the seed exercise's
// endpoints, error ingest and issues, alerting, and the admin API.
void add_routes(keel::http::router& r, service& svc) {
  routes::add_exercise_routes(r, svc);
  routes::add_issue_routes(r, svc);
  routes::add_alerting_routes(r, svc);
  routes::add_admin_routes(r, svc);
}

namespace routes {

result<json> object_body(const request& req) {
  auto body = req.json();
  if (!body) return keel::fail(std::move(body.error()));
  if (!body->is_object()) return keel::fail(keel::codes::validation_error, "expected an object");
  return body;
}

}  // namespace routes
}  // namespace keeld
