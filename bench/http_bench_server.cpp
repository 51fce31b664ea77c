// http_bench_server — GET /health through keel::http's full middleware
// chain (request context, access log, metrics, error boundary,
// X-Response-Time, security headers, rate limit on public routes), for
// bench/run_http_bench.sh to measure with wrk beside nginx.
//
//   http_bench_server --port 0 --io-threads 1     # prints "listening <port>"
//   http_bench_server --log-health /tmp/access.log  # also log every /health line
//   http_bench_server --without access-log,metrics  # the chain without those two (A/B)
//
// /health is a quiet route of the access log by default, as in keeld (and
// nginx runs with access_log off); --log-health PATH writes a line for
// each request to PATH instead, to measure the logging itself.
//
// Runs until SIGINT or SIGTERM, then stops gracefully.
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "keel/http/access_log.hpp"
#include "keel/http/error_boundary.hpp"
#include "keel/http/http_metrics.hpp"
#include "keel/http/rate_limit.hpp"
#include "keel/http/request_context_middleware.hpp"
#include "keel/http/response_time.hpp"
#include "keel/http/security_headers.hpp"
#include "keel/http/server.hpp"
#include "keel/log/backend.hpp"
#include "keel/log/file_sink.hpp"
#include "keel/metrics/registry.hpp"

int main(int argc, char** argv) {
  unsigned port = 0;
  unsigned threads = 1;
  std::string log_health;
  std::string without;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string_view flag = argv[i];
    if (flag == "--port") {
      port = static_cast<unsigned>(std::strtoul(argv[i + 1], nullptr, 10));
    } else if (flag == "--io-threads") {
      threads = static_cast<unsigned>(std::strtoul(argv[i + 1], nullptr, 10));
    } else if (flag == "--log-health") {
      log_health = argv[i + 1];
    } else if (flag == "--without") {
      without = argv[i + 1];
    } else {
      std::fprintf(stderr,
                   "usage: %s [--port N] [--io-threads N] [--log-health PATH] [--without "
                   "access-log,metrics]\n",
                   argv[0]);
      return 2;
    }
  }

  // Block the stop signals before any thread starts, then wait for them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  auto sink = keel::log::file_sink::create({.path = log_health.empty() ? "/dev/null" : log_health});
  if (!sink || !keel::log::configure({.service = "http_bench_server", .sinks = {*sink}})) {
    std::fprintf(stderr, "http_bench_server: cannot configure logging\n");
    return 1;
  }
  keel::metrics::registry registry;

  keel::http::router routes;
  routes.get("/health", [](keel::http::request&, keel::http::response& res) {
    res.set_body(R"({"status":"ok"})", "application/json");
  });
  auto metrics = keel::http::http_metrics::create(registry, routes);
  if (!metrics) {
    std::fprintf(stderr, "http_bench_server: %s\n", metrics.error().to_string().c_str());
    return 1;
  }
  keel::http::access_log_options access{};
  if (log_health.empty()) access.quiet_routes = {"/health"};
  std::vector<keel::http::middleware_ptr> chain{
      std::make_shared<keel::http::request_context_middleware>()};
  if (without.find("access-log") == std::string::npos) {
    chain.push_back(std::make_shared<keel::http::access_log>(std::move(access)));
  }
  if (without.find("metrics") == std::string::npos) chain.push_back(*metrics);
  chain.push_back(std::make_shared<keel::http::error_boundary>());
  chain.push_back(std::make_shared<keel::http::response_time>());
  chain.push_back(std::make_shared<keel::http::security_headers>());
  chain.push_back(std::make_shared<keel::http::rate_limit>(keel::http::rate_limit_options{}));
  auto srv = keel::http::server::create(
      {.host = "127.0.0.1", .port = static_cast<std::uint16_t>(port), .io_threads = threads},
      std::move(routes), std::move(chain));
  if (!srv) {
    std::fprintf(stderr, "http_bench_server: %s\n", srv.error().to_string().c_str());
    return 1;
  }
  (*srv)->start();
  std::printf("listening %u\n", static_cast<unsigned>((*srv)->port()));
  std::fflush(stdout);
  int sig = 0;
  sigwait(&stop_signals, &sig);
  (*srv)->stop(std::chrono::seconds(5));
  return 0;
}
