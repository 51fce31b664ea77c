// keel/http/access_log.hpp
//
// access_log writes one JSON line per request through a keel::log logger:
//
//   {"level":"info","logger":"http.access","msg":"http request",
//    "request_id":"…","method":"GET","path":"/api/v1/issues/42",
//    "route":"/api/v1/issues/{id}","status":200,"duration_ms":0.412,
//    "bytes_in":112,"bytes_out":87,"client_ip":"10.0.0.7","user_agent":"curl/8.1"}
//
//   auto access = std::make_shared<keel::http::access_log>(keel::http::access_log_options{
//       .quiet_routes = {"/health", "/metrics"},   // successes at debug
//       .sample_successes = 1});                   // every success (10: one in ten)
//
// Place it right inside request_context_middleware (docs/http.md, Middleware):
// the request's context is then current when the line is written, so the
// logger adds request_id (and trace_id, span_id) by itself; and outside the
// error boundary, so 404s, 413s and 500s are logged with their final status.
//
// Level by status: info below 400, warn for 4xx, error for 5xx. Successes on
// a quiet route go at `quiet_level` instead (level::off: not at all), and
// with sample_successes = N only one success in N is written; 5xx are
// always written.
//
// Client errors are summarised per client: each client IP gets at most
// `client_error_lines` 4xx lines per `client_error_interval`; the rest are
// counted, and the client's first 4xx after the interval writes one line
// "http client errors summarised" with `client_ip`, `suppressed` and
// `interval_s` before its own. So a client flooding 429s or 404s costs a
// few lines per interval and cannot rotate the rest of the log away (one
// did, 50 MB in 30 s); every request is still counted in http_requests_total.
// Clients share a fixed table of slots (a collision starts the newcomer's
// interval afresh), touched with relaxed atomics only. route is the matched pattern, empty when
// none matched; path is without the query string (which may carry tokens); client_ip is the peer
// address (X-Forwarded-For comes from the client: not trusted); path, method and user_agent come
// from the client and are cut to their bounds (at a UTF-8 character boundary); the logger escapes
// them. duration_ms runs from the request's first byte (exchange::start) to this layer's after(),
// on the server's clock. status is final_status(ex) (middleware.hpp). bytes_out is the response
// body's size (0 for HEAD, whose body the server does not send).
//
// Thread safety: one object serves every I/O thread; after() touches only
// the exchange and, when sampling, one relaxed atomic counter.
// Cost: a level check, a few compares and one keel::log call (copying the
// fields into the thread's ring buffer; no lock, no allocation — the
// backend thread formats the JSON). bench/bench_http.cpp,
// BM_Middleware_AccessLogAndMetrics.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "keel/core/clock.hpp"

#include "keel/http/middleware.hpp"
#include "keel/log/level.hpp"
#include "keel/log/logger.hpp"

namespace keel::http {

// access_log_options
//
// Where the lines go and which successes are worth a line.
struct access_log_options {
  // The logger the lines are written through (its level and sinks apply).
  log::logger logger = log::logger("http.access");
  // Route patterns (as registered) whose successes are logged at quiet_level.
  std::vector<std::string> quiet_routes{};
  log::level quiet_level = log::level::debug;
  // Write one success (status < 400) in every N; 0 and 1 write all.
  std::uint32_t sample_successes = 1;
  // Per client IP: at most this many 4xx lines an interval (0: no limit).
  std::uint32_t client_error_lines = 5;
  std::chrono::milliseconds client_error_interval{10'000};
  // Bounds on client-supplied fields, in bytes.
  std::size_t max_path_bytes = 1024;
  std::size_t max_user_agent_bytes = 256;
  std::size_t max_method_bytes = 16;
};

// access_log
//
// The middleware layer; stateless but for the sampling counter.
class access_log final : public middleware {
 public:
  explicit access_log(access_log_options options = {});
  void after(exchange& ex) override;

  // The level a request with this status on this route is logged at
  // (before sampling); level::off when it is not logged.
  log::level level_for(int status, std::string_view route) const noexcept;

 private:
  // One client's 4xx lines in its current interval.
  struct client_slot {
    std::atomic<std::uint64_t> key{0};  // hash of the client IP, 0: free
    std::atomic<std::int64_t> interval_start_ms{0};
    std::atomic<std::uint32_t> written{0};
    std::atomic<std::uint64_t> suppressed{0};
  };
  static constexpr std::size_t kClientSlots = 4096;
  // Whether this 4xx gets a line; `summary` is the count suppressed in the
  // client's previous interval, to be written first (0: none).
  bool admit_client_error(std::string_view client_ip, keel::clock::steady_time now,
                          std::uint64_t& summary) noexcept;

  access_log_options options_;
  std::atomic<std::uint64_t> successes_{0};
  std::unique_ptr<client_slot[]> clients_;
};

}  // namespace keel::http
