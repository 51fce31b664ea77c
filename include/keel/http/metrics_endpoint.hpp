// keel/http/metrics_endpoint.hpp
//
// The handler of a Prometheus scrape: the collector's samples in the format
// the Accept header asks for (OpenMetrics 1.0 or text 0.0.4,
// keel::metrics::negotiate), rendered into the response's own buffer.
//
//   router.get("/metrics", keel::http::metrics_endpoint(registry));
//
// Thread safety: as the collector's collect(). Cost: one exposition; the
// body's buffer is reused.
#pragma once

#include <functional>

#include "keel/http/request.hpp"
#include "keel/http/response.hpp"
#include "keel/metrics/collector.hpp"

namespace keel::http {

// `c` must outlive the handler.
std::function<void(request&, response&)> metrics_endpoint(const keel::metrics::collector& c);

}  // namespace keel::http
