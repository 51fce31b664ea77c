// keel/http/health_endpoint.hpp
//
// The handler of a health probe: one view of a keel::health registry as
// health+json (draft-inadarei-api-health-check), 200 while it passes or
// warns, 503 when it fails.
//
//   router.get("/health/ready",
//              keel::http::health_endpoint(health, keel::health::view::readiness,
//                                          {.service = {.service_id = "keeld"}}));
//
// A rendered report is shared by every request for `render_interval` (by
// `clock`), so a probe flood costs a pointer copy, not a report; the checks
// themselves are cached by the registry. Concurrent misses may each render
// once: the hit path takes no lock.
//
// Thread safety: the handler may run on any number of threads at once.
#pragma once

#include <chrono>
#include <functional>

#include "keel/core/clock.hpp"
#include "keel/health/registry.hpp"
#include "keel/health/report.hpp"
#include "keel/http/request.hpp"
#include "keel/http/response.hpp"

namespace keel::http {

struct health_endpoint_options {
  keel::health::service_info service{};
  std::chrono::milliseconds render_interval{1'000};
  const keel::clock* clock = &keel::clock::real();  // must outlive the handler
};

// `registry` must outlive the handler.
std::function<void(request&, response&)> health_endpoint(keel::health::registry& registry,
                                                         keel::health::view v,
                                                         health_endpoint_options o = {});

}  // namespace keel::http
