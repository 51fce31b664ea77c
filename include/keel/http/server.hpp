// keel/http/server.hpp
//
// server is keel's HTTP/1.1 server: Boost.Beast parsing on Asio with C++20
// coroutines, N I/O threads, keep-alive, optional TLS, hard limits on
// everything a client controls, a middleware chain and a router.
//
//   keel::http::router routes;
//   routes.get("/health", [](auto&, auto& res) { res.set_json({{"status", "ok"}}); });
//   auto srv = keel::http::server::create(
//       {.host = "127.0.0.1", .port = 8000, .io_threads = 2},
//       std::move(routes),
//       {std::make_shared<keel::http::request_context_middleware>(),
//        std::make_shared<keel::http::error_boundary>(),
//        std::make_shared<keel::http::response_time>(),
//        std::make_shared<keel::http::security_headers>()});
//   if (!srv) return fail(srv.error());
//   (*srv)->start();
//   ...
//   (*srv)->stop(std::chrono::seconds(10));   // graceful: in-flight requests finish
//
// Threads: io_threads event loops, each with its own io_context; the
// acceptor hands connections out round-robin, and a connection stays on its
// thread for life, so its state needs no lock.
//
// Limits (server_config): header bytes and count (431), body bytes (413,
// before the body is read when Content-Length says so), the whole request
// must arrive within request_read_timeout (a slow-loris client is cut off:
// 408, close), a keep-alive connection idle longer than idle_timeout is
// closed, a response must drain within write_timeout, and at most
// max_connections are open (the next one gets 503 and is closed).
// Deadlines are checked by one sweep per thread every timer_resolution
// against config.clock, so a request pays one clock read for them, and
// tests drive them with a keel::manual_clock.
//
// Stopping: begin_stop() closes the listener and the idle connections;
// requests in flight finish and their connections close after the
// response. stop(grace) waits up to `grace` for that, then closes what is
// left, waits for handlers to return and joins the threads.
//
// Thread safety: create/start/stop from one controlling thread; port() and
// connections() from any.
// Cost: per request, no allocation in steady state beyond what the handler
// and the middleware do (bench/run_http_bench.sh: GET /health through the
// full chain against nginx).
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "keel/core/clock.hpp"
#include "keel/core/result.hpp"
#include "keel/http/middleware.hpp"
#include "keel/http/router.hpp"

namespace keel::http {

// tls_config
//
// PEM files. Given both, the server speaks only TLS (1.2 and 1.3).
struct tls_config {
  std::string certificate_chain_file{};
  std::string private_key_file{};
};

struct server_config {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8000;  // 0: any free port (see server::port())
  unsigned io_threads = 0;    // 0: one per core
  int listen_backlog = 1024;

  std::size_t max_header_bytes = 16 * 1024;
  std::size_t max_header_count = 100;
  std::size_t max_body_bytes = 1024 * 1024;
  std::size_t max_connections = 10000;

  std::chrono::milliseconds request_read_timeout{10'000};
  std::chrono::milliseconds idle_timeout{60'000};
  std::chrono::milliseconds write_timeout{10'000};
  // How often deadlines are checked; a timeout fires up to this much late.
  std::chrono::milliseconds timer_resolution{250};

  std::optional<tls_config> tls{};
  // Production problem+json unless development (for failures no layer handled).
  render_mode error_mode = render_mode::production;
  // Time for deadlines and X-Response-Time; nullptr: keel::clock::real().
  // Must outlive the server.
  const keel::clock* clock = nullptr;
};

class server {
 public:
  // Validates the config, loads the TLS files and binds the listener (so
  // port() is known). CONFIGURATION_ERROR for bad values or TLS files,
  // IO_ERROR when the address cannot be bound.
  static result<std::unique_ptr<server>> create(server_config config, router routes,
                                                std::vector<middleware_ptr> chain = {});
  ~server();  // stop(0) if still running
  server(const server&) = delete;
  server& operator=(const server&) = delete;

  // Starts the I/O threads and accepting.
  void start();
  // Stops accepting and closes idle connections; returns once the listener
  // is closed. In-flight requests go on.
  void begin_stop();
  // begin_stop(), waits up to `grace` for in-flight requests, then answers
  // a request still in its handler with 503 (Retry-After, Connection:
  // close; plain TCP) and closes every other connection cleanly, lets them
  // end for 250 ms, stops the loops and joins the I/O threads: it returns
  // about grace + 250 ms after it was called even if a handler is still
  // waiting (on a timer, on a worker_pool job), whose frame is then
  // destroyed with the server. A worker_pool whose jobs resume handlers
  // must be joined before the server is destroyed. Idempotent.
  void stop(std::chrono::milliseconds grace);

  // The bound port.
  std::uint16_t port() const noexcept;
  // Connections open now.
  std::size_t connections() const noexcept;

 private:
  struct impl;
  explicit server(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

}  // namespace keel::http
