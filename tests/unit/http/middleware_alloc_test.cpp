// access_log and http_metrics allocate nothing per request in steady state —
// proved by counting every call of the global allocation functions, which
// this executable replaces. The layers run on a prepared exchange as the
// server calls them, with a real log backend (manual mode) and registry.
// Not run under ASan (label no_asan): ASan provides its own allocator.
#include <gtest/gtest.h>

#include <atomic>
#include <cstddef>
#include <cstdlib>
#include <memory>
#include <new>
#include <span>
#include <vector>

#include "../log/log_test_support.hpp"
#include "keel/core/context.hpp"
#include "keel/core/ids.hpp"
#include "keel/http/access_log.hpp"
#include "keel/http/http_metrics.hpp"
#include "keel/log/log.hpp"
#include "keel/metrics/exposition.hpp"

namespace {
thread_local std::uint64_t t_allocations = 0;

void* counted(std::size_t n, std::size_t align = 0) {
  ++t_allocations;
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

// The request type's test friend (see router_test.cpp), here filling a
// request as the connection would.
class router_test_access {
 public:
  static void set(request& r, method m, std::string_view method_name, std::string_view path,
                  std::span<const header_field> headers) {
    r.verb_ = m;
    r.method_name_ = method_name;
    r.path_ = path;
    r.target_ = path;
    r.decoded_.clear();
    r.decoded_.reserve(path.size());
    r.headers_.assign(headers.begin(), headers.end());
    r.client_ip_ = "10.1.2.3";
  }
};

namespace {

void serve(const std::vector<middleware_ptr>& chain, request& req, response& res) {
  exchange ex(req, res);
  for (const auto& layer : chain)
    ASSERT_TRUE(layer->before(ex));
  for (auto it = chain.rbegin(); it != chain.rend(); ++it)
    (*it)->after(ex);
}

TEST(MiddlewareAlloc, AccessLogAndMetricsAllocateNothingPerRequestInSteadyState) {
  auto sink = std::make_shared<log::testing::memory_sink>();
  ASSERT_TRUE(
      log::configure(
          {.sinks = {sink}, .mode = log::backend_mode::manual, .install_signal_handlers = false})
          .has_value());
  router routes;
  routes.get("/health", [](request&, response&) {});
  routes.get("/items/{id}", [](request&, response&) {});
  metrics::registry registry;
  // Every 4xx logged (no per-client summarising), so each request takes the log path.
  const std::vector<middleware_ptr> chain{
      std::make_shared<access_log>(access_log_options{.client_error_lines = 0}),
      http_metrics::create(registry, routes).value()};

  const header_field headers[] = {{"Host", "t"}, {"User-Agent", "test/1"}};
  request ok_req;
  router_test_access::set(ok_req, method::get, "GET", "/items/42", headers);
  ASSERT_EQ(routes.find(ok_req).outcome, match::kind::found);
  request missing_req;
  router_test_access::set(missing_req, method::get, "GET", "/nope", headers);
  ASSERT_EQ(routes.find(missing_req).outcome, match::kind::not_found);
  response ok;
  ok.set_json({{"id", "42"}});
  response missing;
  missing.set_status(404);

  auto ctx = std::make_shared<request_context>();
  ctx->request_id = new_request_id();
  const context_scope scope(ctx);

  // Warm-up: the thread's log buffer, the metric cells' page, each series.
  for (int i = 0; i < 3; ++i) {
    serve(chain, ok_req, ok);
    serve(chain, missing_req, missing);
  }
  log::flush();
  const std::size_t lines_before = sink->lines.size();

  const std::uint64_t before = t_allocations;
  for (int i = 0; i < 500; ++i) {
    serve(chain, ok_req, ok);
    serve(chain, missing_req, missing);
  }
  const std::uint64_t allocations = t_allocations - before;
  EXPECT_EQ(allocations, 0u);

  log::flush();
  EXPECT_EQ(sink->lines.size() - lines_before, 1000u);  // every request was logged
  const std::string text = metrics::expose(registry);
  EXPECT_NE(text.find(R"(http_requests_total{method="GET",route="/items/{id}",status="200"} 503)"),
            std::string::npos);
  EXPECT_NE(text.find(R"(http_requests_total{method="GET",route="unmatched",status="404"} 503)"),
            std::string::npos);
  ASSERT_TRUE(log::configure({.mode = log::backend_mode::manual}).has_value());
}

}  // namespace
}  // namespace keel::http
