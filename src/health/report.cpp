#include "keel/health/report.hpp"

#include "keel/core/json_writer.hpp"
#include "keel/core/rfc3339.hpp"

namespace keel::health {

std::string_view to_string(check_status s) noexcept {
  switch (s) {
    case check_status::pass:
      return "pass";
    case check_status::warn:
      return "warn";
    case check_status::fail:
      return "fail";
  }
  return "fail";
}

std::string_view to_string(health_status s) noexcept {
  switch (s) {
    case health_status::healthy:
      return "healthy";
    case health_status::degraded:
      return "degraded";
    case health_status::unhealthy:
      return "unhealthy";
  }
  return "unhealthy";
}

std::string_view to_draft_status(health_status s) noexcept {
  switch (s) {
    case health_status::healthy:
      return "pass";
    case health_status::degraded:
      return "warn";
    case health_status::unhealthy:
      return "fail";
  }
  return "fail";
}

health_status aggregate(const std::vector<check_report>& checks) noexcept {
  health_status h = health_status::healthy;
  for (const auto& c : checks) {
    if (c.status == check_status::fail && c.critical) return health_status::unhealthy;
    if (c.status != check_status::pass) h = health_status::degraded;
  }
  return h;
}

std::string report::to_health_json(const service_info& service,
                                   const keel::redactor& redactor) const {
  std::string out;
  out.reserve(256 + checks.size() * 256);
  json_writer w(out);
  w.begin_object();
  w.key("status");
  w.value(to_draft_status(status));
  if (!service.version.empty()) {
    w.key("version");
    w.value(service.version);
  }
  if (!service.release_id.empty()) {
    w.key("releaseId");
    w.value(service.release_id);
  }
  if (!service.service_id.empty()) {
    w.key("serviceId");
    w.value(service.service_id);
  }
  if (!service.description.empty()) {
    w.key("description");
    w.value(service.description);
  }
  if (!output.empty()) {
    w.key("output");
    w.value(redactor.redact(output));
  }
  w.key("checks");
  w.begin_object();
  for (const auto& c : checks) {
    w.key(c.measurement.empty() ? c.name : c.name + ":" + c.measurement);
    w.begin_array();
    w.begin_object();
    if (!c.component_id.empty()) {
      w.key("componentId");
      w.value(c.component_id);
    }
    if (!c.component_type.empty()) {
      w.key("componentType");
      w.value(c.component_type);
    }
    if (c.observed_value) {
      w.key("observedValue");
      w.value(*c.observed_value);
    }
    if (!c.observed_unit.empty()) {
      w.key("observedUnit");
      w.value(c.observed_unit);
    }
    w.key("status");
    w.value(to_string(c.status));
    if (c.time != std::chrono::system_clock::time_point{}) {
      w.key("time");
      w.value(format_rfc3339(c.time));
    }
    if (!c.output.empty()) {
      w.key("output");
      w.value(redactor.redact(c.output));
    }
    // keel's additions (the draft allows extra fields).
    w.key("durationMs");
    w.value(std::chrono::duration<double, std::milli>(c.duration).count());
    w.key("critical");
    w.value(c.critical);
    if (c.from_cache) {
      w.key("cached");
      w.value(true);
    }
    w.end_object();
    w.end_array();
  }
  w.end_object();
  w.end_object();
  return out;
}

}  // namespace keel::health
