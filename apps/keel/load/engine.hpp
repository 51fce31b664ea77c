// apps/keel/load/engine.hpp
//
// The load generator behind `keel load`: N keep-alive HTTP/1.1 connections
// spread over T threads (one io_context each), sending a scenario's weighted
// endpoints until a request count or a duration is reached.
//
//   auto s = seed_scenario("http://127.0.0.1:8000", 0.2).value();
//   load_options o{.concurrency = 20, .requests = 500};
//   auto report = run_load(s, o, stop_flag);            // result<load_report>
//   fmt::print("{}", render_text(*report));               // report.hpp
//
// Closed loop (default): each connection sends its next request as soon as
// the previous response is in. Open loop (`rate` > 0): request i is due at
// start + i / rate whatever happened before, and its latency is measured
// from that due time, so a stalled server shows up as latency instead of
// quietly lowering the send rate (coordinated omission).
//
// Every request carries a fresh X-Request-ID (keel::new_request_id). A request
// succeeds when a complete response with status < 400 arrives; connection,
// write, read and timeout failures count as status 0. A request that fails on
// a reused keep-alive connection before any response byte arrived (the
// server closed it while idle) is retried once on a new connection.
//
// Bounded: targets must resolve to loopback unless allow_remote; the run
// ends at its request count, its duration (in-flight requests are then
// abandoned and not counted), or when `stop` becomes true.
//
// Thread safety: run_load blocks its caller; progress counters may be read
// from another thread while it runs.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "keel/core/result.hpp"
#include "load/histogram.hpp"
#include "load/scenario.hpp"

namespace keel::cli::load {

struct load_options {
  std::uint32_t concurrency = 10;
  std::uint32_t threads = 1;
  std::uint64_t requests = 0;            // 0: run for `duration`
  std::chrono::nanoseconds duration{0};  // 0: run until `requests`
  double rate = 0;                       // requests/s over all connections; 0: closed loop
  std::chrono::milliseconds timeout{10'000};
  bool allow_remote = false;
  std::uint64_t max_response_bytes = 64ull << 20;
  std::uint64_t seed = 0;  // endpoint choice; 0: from the OS
};

// Validates the options (sizes, exactly one of requests/duration...).
result<void> validate(const load_options& o);

struct endpoint_report {
  std::string name{};
  std::uint64_t requests = 0;
  std::uint64_t successful = 0;
  std::uint64_t failed = 0;
  latency_histogram latency{};
};

struct load_report {
  std::string target{};
  std::uint32_t concurrency = 0;
  std::uint32_t threads = 0;
  double rate = 0;
  std::uint64_t total = 0;
  std::uint64_t successful = 0;
  std::uint64_t failed = 0;
  std::chrono::nanoseconds elapsed{0};
  latency_histogram latency{};
  std::map<int, std::uint64_t> status_counts{};   // 0: no response
  std::map<std::string, std::uint64_t> errors{};  // connect, write, read, timeout
  std::vector<endpoint_report> endpoints{};
  std::uint64_t retried_idle_closes = 0;

  double success_rate() const noexcept {
    return total ? static_cast<double>(successful) / static_cast<double>(total) : 0.0;
  }
  double requests_per_second() const noexcept {
    const double s = std::chrono::duration<double>(elapsed).count();
    return s > 0 ? static_cast<double>(total) / s : 0.0;
  }
};

// Live counters for a progress line, updated by the workers as they go.
struct load_progress {
  std::atomic<std::uint64_t> done{0};
  std::atomic<std::uint64_t> failed{0};
};

result<load_report> run_load(const scenario& s, const load_options& o,
                             const std::atomic<bool>& stop, load_progress* progress = nullptr);

}  // namespace keel::cli::load
