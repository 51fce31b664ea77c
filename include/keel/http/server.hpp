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
// max_connections are open.
//
// Connections and descriptors: each connection holds one descriptor, so
// create() caps max_connections to what RLIMIT_NOFILE leaves once the
// descriptors already open and `reserved_fds` (for what the process opens
// later: files, outbound requests) are set aside; max_connections() says
// what was kept (raise_open_file_limit() first lifts the soft limit to the
// hard one). A connection arriving at the cap closes the oldest idle
// keep-alive connection of its I/O thread and is served; when none is idle
// it gets 503 (Retry-After: 1) and is closed. If accept() still fails
// (EMFILE, ENFILE) the server closes an idle connection to free a
// descriptor, and otherwise backs off for 10 ms rather than spin. Each is
// counted in stats() and reported through `on_overload`.
// Deadlines are checked by one sweep per thread every timer_resolution
// against config.clock, so a request pays one clock read for them, and
// tests drive them with a keel::manual_clock.
//
// Stopping: begin_stop() closes the listener and the idle connections;
// requests in flight finish and their connections close after the
// response. stop(grace) waits up to `grace` for that, then closes what is
// left, waits for handlers to return and joins the threads.
//
// Thread safety: create/start/stop from one controlling thread; port(),
// connections(), max_connections() and stats() from any.
// Cost: per request, no allocation in steady state beyond what the handler
// and the middleware do (bench/run_http_bench.sh: GET /health through the
// full chain against nginx).
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
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
  // Descriptors kept free of connections beyond those open at create().
  std::size_t reserved_fds = 64;

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
  // Told when connections are turned away: SERVICE_UNAVAILABLE at the cap
  // with nothing idle to close, RESOURCE_EXHAUSTED when accept() fails
  // (details: errno, the counts so far). At most once per second, on an
  // I/O thread: keep it short (a log line).
  std::function<void(const keel::error&)> on_overload{};
};

// server_stats
//
// What the server did with connections since create().
struct server_stats {
  std::size_t open_connections = 0;
  std::size_t max_connections = 0;  // after the descriptor cap
  std::uint64_t accepted = 0;
  std::uint64_t shed_idle = 0;        // idle keep-alive connections closed to admit another
  std::uint64_t rejected_busy = 0;    // 503 at the cap, nothing idle
  std::uint64_t accept_failures = 0;  // accept() errors: EMFILE, ENFILE, ENOBUFS...
};

// connection_counters
//
// The numbers behind server::stats(), shared so that what reads them (a
// metrics collector, a health check) may outlive the server.
struct connection_counters {
  server_stats load() const noexcept;

  // Written by the server only (readers get a pointer to const).
  std::atomic<std::size_t> max_connections{0};
  std::atomic<std::size_t> open{0};
  std::atomic<std::uint64_t> accepted{0};
  std::atomic<std::uint64_t> shed_idle{0};
  std::atomic<std::uint64_t> rejected_busy{0};
  std::atomic<std::uint64_t> accept_failures{0};
};

// open_file_limit
//
// RLIMIT_NOFILE as raise_open_file_limit() left it.
struct open_file_limit {
  std::uint64_t soft = 0;      // 0: unlimited
  std::uint64_t hard = 0;      // 0: unlimited
  std::uint64_t was_soft = 0;  // before the call
};

// Raises the soft RLIMIT_NOFILE of the process to its hard limit (what an
// unprivileged process may do), so that a server is not held to a shell's
// default of 1024 or lower. Process-wide: call it once, at start.
open_file_limit raise_open_file_limit() noexcept;

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
  // The connection cap in force: server_config::max_connections, or less
  // when the open-file limit leaves less.
  std::size_t max_connections() const noexcept;
  server_stats stats() const noexcept;
  std::shared_ptr<const connection_counters> counters() const noexcept;

 private:
  struct impl;
  explicit server(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

}  // namespace keel::http
