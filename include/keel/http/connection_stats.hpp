// keel/http/connection_stats.hpp
//
// What a server does with its connections, made visible: a metrics
// collector over server::stats() and a health check that warns while
// connections are being turned away.
//
//   metrics.add_collector(
//       std::make_shared<keel::http::connection_collector>(srv->counters())).value();
//   health.add({.name = "connections", .critical = false},
//              keel::http::connection_check(srv->counters())).value();
//
// Exposed at scrape time (counters end in _total):
//   keel_http_connections_open            open now
//   keel_http_connections_max             the cap in force (after the open-file limit)
//   keel_http_connections_accepted_total
//   keel_http_connections_shed_total      idle keep-alive connections closed to admit another
//   keel_http_connections_rejected_total  503 at the cap, none idle to close
//   keel_http_accept_failures_total       accept() failed (EMFILE, ENFILE...)
//
// The check passes (its value: open connections) unless a connection was
// rejected or an accept failed within `window`: then it warns, saying how
// many and why. Shedding idle connections alone is normal keep-alive
// behaviour at the cap and does not warn.
//
// Thread safety: collect() and the check may run on any thread; they share
// the server's counters, so either may outlive the server.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "keel/health/check.hpp"
#include "keel/http/server.hpp"
#include "keel/metrics/collector.hpp"

namespace keel::http {

class connection_collector final : public keel::metrics::collector {
 public:
  explicit connection_collector(std::shared_ptr<const connection_counters> counters) noexcept
      : counters_(std::move(counters)) {}
  std::vector<std::string> describe() const override;
  void collect(keel::metrics::metric_sink& out) const override;

 private:
  std::shared_ptr<const connection_counters> counters_;
};

keel::health::check_fn connection_check(std::shared_ptr<const connection_counters> counters,
                                        std::chrono::milliseconds window = std::chrono::minutes(1));

}  // namespace keel::http
