// keel/alert/pipeline_checks.hpp
//
// The alert pipeline's own health checks, added to a keel::health registry
// so /health says where the pipeline degrades service:
//
//   store       fail: the store is not open, or refuses writes (non-critical:
//               the API still answers, ingest answers 503)
//   receivers   warn, naming each receiver whose deliveries fail, until one
//               to it succeeds (its notifications wait in the outbox)
//   rules       warn, naming each rule the last cycle could not evaluate in
//               full (rule_failure: series over the limit, of the wrong kind)
//   alert_loop  fail, in liveness and readiness too, once the pipeline was
//               started and its loop is not running
//
//   keel::alert::add_pipeline_checks(health, *pipeline).value();
//
// Thread safety: as keel::health::registry::add. `p` must outlive `reg`'s
// runs of these checks.
#pragma once

#include "keel/alert/pipeline.hpp"
#include "keel/core/result.hpp"
#include "keel/health/registry.hpp"

namespace keel::alert {

[[nodiscard]] result<void> add_pipeline_checks(keel::health::registry& reg, const pipeline& p);

}  // namespace keel::alert
