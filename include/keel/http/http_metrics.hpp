// keel/http/http_metrics.hpp
//
// http_metrics counts and times every request in a keel::metrics registry:
//
//   http_requests_total{method,route,status}          counter
//   http_request_duration_seconds{route}              histogram (default latency buckets)
//   http_requests_in_flight                           gauge
//
//   keel::http::router routes = build_routes();
//   auto metrics = keel::http::http_metrics::create(registry, routes).value();
//   auto srv = keel::http::server::create(cfg, std::move(routes),
//       {context, access, metrics, boundary, ...});
//
// route is the matched pattern ("/api/v1/issues/{id}"), never the raw path,
// so the number of series is bounded by the router, not by clients; a
// request no pattern matched (404, a path the parser refused, 400 bad
// escapes) is labelled route="unmatched" (unmatched_route), a value no
// pattern can take since patterns start with '/'. A 405 or OPTIONS on a
// known pattern keeps that pattern. method is the routed method name
// ("GET", "HEAD"...), "OTHER" for any other, so a client cannot invent
// label values. status is the final status (final_status(): a failure
// still travelling outwards counts with its own status, one outside
// 100..599 as the 500 the server sends), so place the layer outside the
// error boundary.
//
// Hot path: create() resolves, once per route pattern of the router it is
// given, the duration histogram child, and gives each pattern a small
// lock-free table from (method, status) to its counter child, filled on the
// first request with that pair (the only time the family's lock is taken
// and a series allocated). In steady state a request costs no map lookup,
// no lock and no allocation: an index (request::route_index), a short probe,
// the counter and histogram cell updates and two gauge CASes.
// The router given to create() must be the one the server routes with
// (moving it into the server is fine); a request whose route index does not
// name the same pattern here takes the family's lookup (correct, slower).
//
// Thread safety: hooks are safe on every I/O thread at once.
// Cost: bench/bench_http.cpp, BM_Middleware_AccessLogAndMetrics.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "keel/core/result.hpp"
#include "keel/http/middleware.hpp"
#include "keel/http/router.hpp"
#include "keel/metrics/registry.hpp"

namespace keel::http {

// http_metrics_options
//
// Family names and buckets; the defaults are the conventional ones.
struct http_metrics_options {
  std::string requests_name = "http_requests_total";
  std::string duration_name = "http_request_duration_seconds";
  std::string in_flight_name = "http_requests_in_flight";
  std::vector<double> buckets = metrics::default_buckets();
};

// http_metrics
//
// The middleware layer. Not movable: it hands out pointers into itself.
class http_metrics final : public middleware {
 public:
  // The route label of requests no pattern matched.
  static constexpr std::string_view unmatched_route = "unmatched";

  // Registers the three families in `registry` (which must outlive the
  // layer) and resolves one duration child per pattern of `routes`.
  // VALIDATION_ERROR / CONFLICT from the registry (e.g. the names taken
  // with other labels).
  static result<std::shared_ptr<http_metrics>> create(metrics::registry& registry,
                                                      const router& routes,
                                                      http_metrics_options options = {});

  result<next_step> before(exchange& ex) override;
  void after(exchange& ex) override;

  // Number of (route, method, status) counters resolved through the slow
  // path (a full per-route table or a foreign router); 0 in the expected
  // steady state. For tests and diagnostics.
  std::uint64_t slow_lookups() const noexcept {
    return slow_lookups_.load(std::memory_order_relaxed);
  }

 private:
  struct tag {};

 public:
  http_metrics(tag, metrics::counter_family* requests, metrics::histogram_family* duration,
               metrics::gauge* in_flight);

 private:
  // (method, status) → counter child. key 0 is an empty slot; a non-zero
  // key is claimed once by CAS and its counter published after it.
  struct slot {
    std::atomic<std::uint32_t> key{0};
    std::atomic<metrics::counter*> counter{nullptr};
  };
  static constexpr std::size_t table_size = 32;
  struct route_entry {
    std::string label{};
    metrics::histogram* duration = nullptr;
    std::array<slot, table_size> counters{};
  };

  route_entry& entry_for(const request& req) noexcept;
  metrics::counter* counter_for(route_entry& e, std::string_view route, method m, int status);

  metrics::counter_family* requests_;
  metrics::histogram_family* duration_;
  metrics::gauge* in_flight_;
  // One per router pattern, then the unmatched entry last.
  std::unique_ptr<route_entry[]> entries_{};
  std::size_t pattern_count_ = 0;
  std::atomic<std::uint64_t> slow_lookups_{0};
};

}  // namespace keel::http
