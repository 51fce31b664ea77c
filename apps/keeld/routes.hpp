// apps/keeld/routes.hpp
//
// keeld's HTTP API (docs/api.md is the reference; /openapi.json serves it as
// OpenAPI 3), one file per resource under routes/: the seed exercise's
// endpoints (exercise.cpp), error ingest and issues (issues.cpp),
// rules/alerts/silences/incidents under /api/v1/ (alerting.cpp), and the
// admin API under /admin/api/ (admin.cpp). Views and body parsers of
// keel::alert's types are the library's (to_json, *_from_json).
//
// Access: routes tagged admin need `Authorization: Bearer <admin token>`
// (keel::http::bearer_auth, which service.cpp puts in the chain). Public
// API routes (ingest, test alerts) are rate limited per client. Every admin
// change is written to the audit trail.
#pragma once

#include <nlohmann/json.hpp>

#include "keel/http/router.hpp"

namespace keeld {

class service;

// Registers every route on `r`.
void add_routes(keel::http::router& r, service& svc);

// The OpenAPI 3 document describing the routes.
const nlohmann::json& openapi_document();

}  // namespace keeld
