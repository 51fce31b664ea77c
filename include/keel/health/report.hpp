// keel/health/report.hpp
//
// A report is the outcome of running one view of the health registry: each
// check's result and the aggregate, rendered as IETF health+json
// (draft-inadarei-api-health-check) and mapped to an HTTP status.
//
//   keel::health::report r = health.readiness();
//   response.status(r.http_status());                       // 200, or 503 when unhealthy
//   response.set("Content-Type", keel::health::kHealthJsonContentType);
//   response.body(r.to_health_json({.service_id = "keeld", .version = "1"}));
//
// Aggregation (the seeds' words): healthy when every check passes; degraded
// when a check warns or a non-critical check fails; unhealthy when a critical
// check fails. In health+json they are "pass", "warn" and "fail".
//
//   {"status":"warn","version":"1","serviceId":"keeld","output":"...",
//    "checks":{"db:responseTime":[{"componentType":"datastore","status":"pass",
//      "observedValue":1.8,"observedUnit":"ms","time":"2026-...Z",
//      "durationMs":1.9,"critical":true}], "cache":[{..."status":"fail",
//      "output":"connection refused","critical":false}]}}
//
// Check output is passed through keel::redactor before rendering, so a
// connection string in an error message does not leak a password.
//
// Thread safety: a report is a value.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "keel/core/redactor.hpp"
#include "keel/health/check.hpp"

namespace keel::health {

inline constexpr std::string_view kHealthJsonContentType = "application/health+json";

// health_status — the aggregate.
enum class health_status : std::uint8_t { healthy, degraded, unhealthy };

std::string_view to_string(health_status s) noexcept;
// "pass" / "warn" / "fail".
std::string_view to_draft_status(health_status s) noexcept;

// check_report — one check's outcome in a report.
struct check_report {
  std::string name{};
  std::string measurement{};
  std::string component_type{};
  std::string component_id{};
  check_status status = check_status::pass;
  std::string output{};
  std::optional<double> observed_value{};
  std::string observed_unit{};
  bool critical = true;
  bool timed_out = false;
  bool from_cache = false;
  std::chrono::nanoseconds duration{0};
  std::chrono::system_clock::time_point time{};
};

// service_info — the top-level fields of health+json.
struct service_info {
  std::string service_id{};
  std::string version{};
  std::string release_id{};
  std::string description{};
};

struct report {
  health_status status = health_status::healthy;
  std::vector<check_report> checks{};
  // Why the report is not healthy (failing check names), empty when healthy.
  std::string output{};

  // 503 when unhealthy, 200 otherwise (a degraded service still serves).
  int http_status() const noexcept { return status == health_status::unhealthy ? 503 : 200; }

  // The application/health+json document.
  std::string to_health_json(const service_info& service = {},
                             const keel::redactor& redactor = keel::redactor::standard()) const;
};

// aggregate — the rule above, over any set of check reports.
health_status aggregate(const std::vector<check_report>& checks) noexcept;

}  // namespace keel::health
