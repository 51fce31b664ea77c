// bench_http — per-request cost of keel::http's middleware layers, without
// sockets: the layers' before()/after() on one prepared exchange, as the
// server calls them, with a real keel::log backend and a real
// keel::metrics registry.
//
//   BM_Middleware_AccessLogAndMetrics   access_log + http_metrics (keeld's pair)
//   BM_Middleware_AccessLog             access_log alone
//   BM_Middleware_Metrics               http_metrics alone
//
// The log backend runs in manual mode: each iteration serves kChunk requests
// (timed), then the backend drains them with the timer paused, so the
// figure is the request thread's cost (the asynchronous logger's formatting
// happens on its own thread in production; BM_Log_KeelBackendFormat in
// bench_log measures it). Counters: seconds_per_request, allocs_per_request
// (a replaced global operator new counts heap allocations in the timed part).
#include <benchmark/benchmark.h>

#include <atomic>
#include <cstddef>
#include <cstdlib>
#include <memory>
#include <new>
#include <string_view>
#include <vector>

#include "keel/core/context.hpp"
#include "keel/core/ids.hpp"
#include "keel/http/access_log.hpp"
#include "keel/http/http_metrics.hpp"
#include "keel/log/log.hpp"
#include "keel/metrics/registry.hpp"

namespace {
std::atomic<std::uint64_t> g_allocs{0};

void* counted(std::size_t n, std::size_t align = 0) {
  g_allocs.fetch_add(1, std::memory_order_relaxed);
  void* p = align > alignof(std::max_align_t)
                ? std::aligned_alloc(align, (n + align - 1) / align * align)
                : std::malloc(n == 0 ? 1 : n);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}
}  // namespace

void* operator new(std::size_t n) { return counted(n); }
void* operator new[](std::size_t n) { return counted(n); }
void* operator new(std::size_t n, std::align_val_t a) {
  return counted(n, static_cast<std::size_t>(a));
}
void* operator new[](std::size_t n, std::align_val_t a) {
  return counted(n, static_cast<std::size_t>(a));
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }

namespace keel::http {

// request's fields are private; the request type names this class its
// friend for tests (tests/unit/http/router_test.cpp), which the benchmark
// program reuses to fill a request as the connection would.
class router_test_access {
 public:
  static void set(request& r, method m, std::string_view method_name, std::string_view path,
                  std::span<const header_field> headers, std::string_view client_ip) {
    r.verb_ = m;
    r.method_name_ = method_name;
    r.path_ = path;
    r.target_ = path;
    r.decoded_.clear();
    r.decoded_.reserve(path.size());
    r.headers_.assign(headers.begin(), headers.end());
    r.client_ip_ = client_ip;
  }
};

}  // namespace keel::http

namespace {

using namespace keel;

class null_sink final : public log::sink {
 public:
  null_sink() : sink({.name = "null"}) {}

 protected:
  int write_out(std::string_view) override { return 0; }
};

constexpr int kChunk = 1000;  // lines of one chunk fit the thread's ring buffer

void run(benchmark::State& state, bool with_log, bool with_metrics) {
  if (!log::configure({.service = "bench",
                       .sinks = {std::make_shared<null_sink>()},
                       .mode = log::backend_mode::manual,
                       .install_signal_handlers = false})) {
    state.SkipWithError("log configure failed");
    return;
  }
  http::router routes;
  routes.get("/health", [](http::request&, http::response&) {});
  routes.get("/api/v1/issues", [](http::request&, http::response&) {});
  routes.get("/api/v1/issues/{id}", [](http::request&, http::response&) {});
  routes.post("/api/v1/events", [](http::request&, http::response&) {});

  metrics::registry registry;
  std::vector<http::middleware_ptr> chain;
  if (with_log) chain.push_back(std::make_shared<http::access_log>());
  if (with_metrics) chain.push_back(http::http_metrics::create(registry, routes).value());

  const http::header_field headers[] = {
      {"Host", "bench"}, {"User-Agent", "wrk/4.2.0"}, {"Accept", "application/json"}};
  http::request req;
  http::router_test_access::set(req, http::method::get, "GET", "/api/v1/issues/42", headers,
                                "127.0.0.1");
  if (routes.find(req).outcome != http::match::kind::found) {
    state.SkipWithError("route not found");
    return;
  }
  http::response res;
  res.set_body(R"({"id":"42","state":"open"})", "application/json");

  auto ctx = std::make_shared<request_context>();
  ctx->request_id = new_request_id();
  const context_scope scope(ctx);

  std::uint64_t allocs = 0;
  for (auto _ : state) {
    const std::uint64_t a0 = g_allocs.load(std::memory_order_relaxed);
    for (int i = 0; i < kChunk; ++i) {
      http::exchange ex(req, res);
      for (const auto& layer : chain)
        benchmark::DoNotOptimize(layer->before(ex));
      for (auto it = chain.rbegin(); it != chain.rend(); ++it)
        (*it)->after(ex);
    }
    allocs += g_allocs.load(std::memory_order_relaxed) - a0;
    state.PauseTiming();
    log::poll();
    state.ResumeTiming();
  }
  const double requests = static_cast<double>(state.iterations()) * kChunk;
  state.SetItemsProcessed(static_cast<std::int64_t>(requests));
  state.counters["seconds_per_request"] =
      benchmark::Counter(requests, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  state.counters["allocs_per_request"] = static_cast<double>(allocs) / requests;
  log::shutdown();
}

void BM_Middleware_AccessLogAndMetrics(benchmark::State& state) { run(state, true, true); }
void BM_Middleware_AccessLog(benchmark::State& state) { run(state, true, false); }
void BM_Middleware_Metrics(benchmark::State& state) { run(state, false, true); }

BENCHMARK(BM_Middleware_AccessLogAndMetrics)->UseRealTime();
BENCHMARK(BM_Middleware_AccessLog)->UseRealTime();
BENCHMARK(BM_Middleware_Metrics)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
