// apps/keeld/routes.hpp
//
// keeld's HTTP API (docs/api.md is the reference; /openapi.json serves it as
// OpenAPI 3): the seed exercise's endpoints, error ingest and issues,
// rules/alerts/silences/incidents under /api/v1/, and the admin API under
// /admin/api/.
//
// Access: routes tagged admin need `Authorization: Bearer <admin token>`
// (compared in constant time): missing → 401, wrong → 403, both
// problem+json. Public API routes (ingest, test alerts) are rate limited
// per client. Every admin change is written to the audit trail.
#pragma once

#include <nlohmann/json.hpp>

#include "keel/http/middleware.hpp"
#include "keel/http/router.hpp"

namespace keeld {

class service;

// Registers every route on `r`.
void add_routes(keel::http::router& r, service& svc);

// The bearer-token check for routes tagged route_tags::admin.
keel::http::middleware_ptr make_admin_auth(service& svc);

// The OpenAPI 3 document describing the routes.
const nlohmann::json& openapi_document();

// True when a and b are equal, in time independent of where they differ.
bool constant_time_equal(std::string_view a, std::string_view b) noexcept;

}  // namespace keeld
