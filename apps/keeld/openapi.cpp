// The OpenAPI 3 document served at /openapi.json. One table lists every
// route (Keeld.OpenApiListsEveryRoute checks a sample of them; docs/api.md
// is the prose reference).
#include <string_view>

#include "keel/core/version.hpp"
#include "routes.hpp"

namespace keeld {

namespace {

struct endpoint {
  std::string_view method;
  std::string_view path;
  std::string_view summary;
  bool admin;
  int success;
};

constexpr endpoint kEndpoints[] = {
    {"get", "/", "Service information", false, 200},
    {"get", "/health", "Aggregate health (application/health+json); 503 when unhealthy", false,
     200},
    {"get", "/health/live", "Liveness checks", false, 200},
    {"get", "/health/ready", "Readiness checks", false, 200},
    {"get", "/metrics", "Prometheus text 0.0.4 or OpenMetrics 1.0, by Accept", false, 200},
    {"get", "/openapi.json", "This document", false, 200},
    {"get", "/simulate/error", "Fails with the configured probability (seed: 80 %)", false, 200},
    {"get", "/simulate/slow", "Answers after a random delay (seed: 1-5 s)", false, 200},
    {"post", "/alerts/test", "Sends a test notification to every receiver", false, 200},
    {"post", "/api/v1/events",
     "Ingests one error event or a batch; durable before 202; an Idempotency-Key header or "
     "per-event event_id makes a retry a duplicate",
     false, 202},
    {"get", "/api/v1/issues", "Error groups, top first", true, 200},
    {"get", "/api/v1/issues/{id}", "One error group with its recent events", true, 200},
    {"post", "/api/v1/issues/{id}/resolve", "Resolves an error group", true, 200},
    {"post", "/api/v1/issues/{id}/ignore", "Ignores an error group (optionally ?count=N)", true,
     200},
    {"post", "/api/v1/issues/{id}/reopen", "Reopens an error group", true, 200},
    {"get", "/api/v1/rules", "Alert rules", true, 200},
    {"post", "/api/v1/rules", "Adds or replaces rules (YAML or JSON)", true, 201},
    {"get", "/api/v1/rules/{name}", "One alert rule", true, 200},
    {"put", "/api/v1/rules/{name}", "Replaces one alert rule", true, 200},
    {"delete", "/api/v1/rules/{name}", "Removes one alert rule", true, 204},
    {"get", "/api/v1/alerts", "Pending and firing alerts", true, 200},
    {"get", "/api/v1/silences", "Silences", true, 200},
    {"post", "/api/v1/silences", "Creates a silence", true, 201},
    {"delete", "/api/v1/silences/{id}", "Expires a silence", true, 204},
    {"get", "/api/v1/incidents", "Open incidents (?state=all for every one)", true, 200},
    {"get", "/api/v1/incidents/{id}", "One incident with its timeline", true, 200},
    {"post", "/api/v1/incidents/{id}/acknowledge", "Acknowledges an incident", true, 200},
    {"post", "/api/v1/incidents/{id}/resolve", "Resolves an incident", true, 200},
    {"get", "/api/v1/notifications", "The notification log, newest first", true, 200},
    {"post", "/api/v1/dead-letters/{id}/requeue", "Puts a dead letter back in its queue", true,
     200},
    {"get", "/admin/api/monitoring/health/services", "Monitored targets and circuit breakers", true,
     200},
    {"get", "/admin/api/monitoring/errors/stats", "Error statistics by code, service, category",
     true, 200},
    {"post", "/admin/api/monitoring/circuit-breakers/reset/{service}", "Resets one breaker", true,
     200},
    {"post", "/admin/api/monitoring/circuit-breakers/reset-all", "Resets every breaker", true, 200},
    {"get", "/admin/api/monitoring/logs/recent-errors", "The most recent error events", true, 200},
    {"post", "/admin/api/monitoring/alerts/configure",
     "Replaces rules, routes and receivers (alerting YAML or JSON)", true, 200},
    {"get", "/admin/api/monitoring/health/check", "Runs every health check", true, 200},
    {"get", "/admin/api/audit", "The audit trail, oldest first (?after=SEQ&limit=N)", true, 200},
    {"get", "/admin/api/audit/verify", "Verifies the audit hash chain (409 when broken)", true,
     200},
    {"get", "/admin/api/loggers", "Loggers and their levels", true, 200},
    {"put", "/admin/api/loggers/{name}", "Sets a logger's level ({\"level\": \"debug\"})", true,
     200},
};

nlohmann::json build() {
  nlohmann::json paths = nlohmann::json::object();
  const nlohmann::json problem = {
      {"description", "RFC 9457 problem details"},
      {"content", {{"application/problem+json", {{"schema", {{"type", "object"}}}}}}}};
  for (const auto& e : kEndpoints) {
    nlohmann::json op = {
        {"summary", e.summary},
        {"responses",
         {{std::to_string(e.success), {{"description", "Success"}}}, {"default", problem}}}};
    if (e.admin)
      op["security"] = nlohmann::json::array({{{"adminToken", nlohmann::json::array()}}});
    nlohmann::json params = nlohmann::json::array();
    for (std::size_t i = e.path.find('{'); i != std::string_view::npos;
         i = e.path.find('{', i + 1)) {
      const auto end = e.path.find('}', i);
      params.push_back({{"name", std::string(e.path.substr(i + 1, end - i - 1))},
                        {"in", "path"},
                        {"required", true},
                        {"schema", {{"type", "string"}}}});
    }
    if (!params.empty()) op["parameters"] = params;
    paths[std::string(e.path)][std::string(e.method)] = std::move(op);
  }
  return {{"openapi", "3.0.3"},
          {"info",
           {{"title", "keeld"},
            {"version", std::string(keel::version())},
            {"description", "keel's monitoring and alerting service (docs/api.md)"}}},
          {"paths", paths},
          {"components",
           {{"securitySchemes", {{"adminToken", {{"type", "http"}, {"scheme", "bearer"}}}}}}}};
}

}  // namespace

const nlohmann::json& openapi_document() {
  static const nlohmann::json doc = build();
  return doc;
}

}  // namespace keeld
