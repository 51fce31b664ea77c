// bench_core — keel::core hot paths: id generation, request-id validation,
// traceparent parsing, redaction and problem+json rendering.
//
//   build/release/bench/bench_core --benchmark_filter=NewRequestId
//
// Targets (issue 2): BM_NewRequestId at 1 and 2 threads ≤ 50 ns per id.
#include <benchmark/benchmark.h>

#include <string>

#include "keel/core/context.hpp"
#include "keel/core/ids.hpp"
#include "keel/core/problem_json.hpp"
#include "keel/core/redactor.hpp"
#include "keel/core/trace_context.hpp"

namespace {

void BM_NewRequestId(benchmark::State& state) {
  for (auto _ : state) {
    keel::request_id id = keel::new_request_id();
    benchmark::DoNotOptimize(id);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_NewRequestId)->Threads(1)->Threads(2)->UseRealTime();

void BM_NewTraceContext(benchmark::State& state) {
  for (auto _ : state) {
    auto tc = keel::trace_context::generate();
    benchmark::DoNotOptimize(tc);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_NewTraceContext)->Threads(1)->Threads(2)->UseRealTime();

void BM_AcceptRequestId(benchmark::State& state) {
  const std::string incoming = "7f3d2c1a-9b8e-4f6d-a5c4-3b2a1f0e9d8c";
  for (auto _ : state) {
    auto id = keel::accept_request_id(incoming);
    benchmark::DoNotOptimize(id);
  }
}
BENCHMARK(BM_AcceptRequestId);

void BM_ParseTraceparent(benchmark::State& state) {
  const std::string h = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  for (auto _ : state) {
    auto tc = keel::trace_context::parse(h);
    benchmark::DoNotOptimize(tc);
  }
}
BENCHMARK(BM_ParseTraceparent);

void BM_ContextScope(benchmark::State& state) {
  auto ctx = std::make_shared<keel::request_context>();
  ctx->request_id = keel::new_request_id();
  keel::context_ptr p = ctx;
  for (auto _ : state) {
    keel::context_scope scope(p);
    benchmark::DoNotOptimize(keel::current_context());
  }
}
BENCHMARK(BM_ContextScope);

void BM_Redact_Clean(benchmark::State& state) {
  const std::string text =
      "HTTP request completed method=GET path=/api/v1/orders status_code=200 duration_ms=12.5";
  const auto& r = keel::redactor::standard();
  std::string out;
  for (auto _ : state) {
    out.clear();
    r.redact_into(text, out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(text.size()));
}
BENCHMARK(BM_Redact_Clean);

void BM_Redact_Secrets(benchmark::State& state) {
  const std::string text =
      "login failed password=hunter2 card 4111 1111 1111 1111 Authorization: Bearer abc.def";
  const auto& r = keel::redactor::standard();
  std::string out;
  for (auto _ : state) {
    out.clear();
    r.redact_into(text, out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(text.size()));
}
BENCHMARK(BM_Redact_Secrets);

void BM_RenderProblem(benchmark::State& state) {
  keel::error e(keel::codes::resource_not_found, "no order 42 in table orders");
  for (auto _ : state) {
    auto body = keel::render_problem(e, {}, "/api/v1/orders/42", "7f3d");
    benchmark::DoNotOptimize(body.data());
  }
}
BENCHMARK(BM_RenderProblem);

}  // namespace

BENCHMARK_MAIN();
