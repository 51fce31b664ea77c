// bench_resilience — keel::resilience hot paths: a guarded call that succeeds.
//
//   build/rel/bench/bench_resilience --benchmark_filter=Breaker --benchmark_min_time=0.2
//
// Targets (issue 5):
//   BM_Pipeline_SuccessPath  retry + circuit breaker + cooperative timeout (not
//                            triggered) + bulkhead around a function returning a
//                            value: <= 60 ns per call, allocs_per_call == 0.
//   BM_Breaker_Call          <= 15 ns per call on one thread; 2 threads >= 1.5x
//                            the throughput of one (items_per_second).
// Peer: BM_MutexBreaker_Call, the textbook breaker (a mutex around a counter
// and a state), to show what the lock costs and how it does not scale.
//
// Allocations are counted by replacing the global operator new in this
// program (a relaxed atomic increment per allocation).
#include <benchmark/benchmark.h>

#include <atomic>
#include <cstdlib>
#include <mutex>
#include <new>

#include "keel/resilience/bulkhead.hpp"
#include "keel/resilience/circuit_breaker.hpp"
#include "keel/resilience/pipeline.hpp"
#include "keel/resilience/rate_limiter.hpp"
#include "keel/resilience/retry.hpp"
#include "keel/resilience/timeout.hpp"

namespace {
std::atomic<std::uint64_t> g_allocs{0};
}  // namespace

// g++ 12 pairs the inlined replacement operators with malloc/free and warns
// that they mismatch; they are this program's own matched pair.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

void* operator new(std::size_t n) {
  g_allocs.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) {
  g_allocs.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void* operator new(std::size_t n, std::align_val_t a) {
  g_allocs.fetch_add(1, std::memory_order_relaxed);
  const std::size_t al = static_cast<std::size_t>(a);
  if (void* p = std::aligned_alloc(al, (n + al - 1) / al * al)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n, std::align_val_t a) { return operator new(n, a); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }

namespace {

namespace kr = keel::resilience;
using namespace std::chrono_literals;

int work(int x) {
  benchmark::DoNotOptimize(x);
  return x + 1;
}

void BM_Pipeline_SuccessPath(benchmark::State& state) {
  kr::retry retries({.name = "payments", .max_attempts = 3});
  kr::circuit_breaker breaker({.name = "payments"});
  kr::timeout per_attempt({.name = "payments", .timeout = 2s});
  kr::bulkhead slots({.name = "payments", .max_concurrent = 64});
  kr::pipeline p(retries, breaker, per_attempt, slots);
  int x = 0;
  const std::uint64_t before = g_allocs.load(std::memory_order_relaxed);
  for (auto _ : state) {
    auto r = p.call([&] { return work(x); });
    benchmark::DoNotOptimize(r);
  }
  const std::uint64_t allocs = g_allocs.load(std::memory_order_relaxed) - before;
  state.counters["allocs_per_call"] =
      static_cast<double>(allocs) /
      static_cast<double>(std::max<std::int64_t>(1, state.iterations()));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Pipeline_SuccessPath);

// The pipeline's parts alone, to see where the nanoseconds go. A cooperative
// timeout reads the clock twice (deadline, overrun check): this is the floor.
void BM_Clock_SteadyNow(benchmark::State& state) {
  const keel::clock& c = keel::clock::real();
  for (auto _ : state) {
    auto t = c.steady_now();
    benchmark::DoNotOptimize(t);
  }
}
BENCHMARK(BM_Clock_SteadyNow);

void BM_Retry_SuccessPath(benchmark::State& state) {
  kr::retry retries({.name = "payments"});
  int x = 0;
  for (auto _ : state) {
    auto r = retries.call([&] { return work(x); });
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_Retry_SuccessPath);

void BM_Timeout_SuccessPath(benchmark::State& state) {
  kr::timeout t({.name = "payments", .timeout = 2s});
  int x = 0;
  for (auto _ : state) {
    auto r = t.call([&] { return work(x); });
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_Timeout_SuccessPath);

void BM_Bulkhead_Call(benchmark::State& state) {
  static kr::bulkhead slots({.name = "payments", .max_concurrent = 64});
  int x = 0;
  for (auto _ : state) {
    auto r = slots.call([&] { return work(x); });
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Bulkhead_Call)->Threads(1)->Threads(2)->UseRealTime();

void BM_Breaker_Call(benchmark::State& state) {
  // One breaker shared by every benchmark thread, as one per downstream service is.
  static kr::circuit_breaker breaker({.name = "payments"});
  int x = 0;
  for (auto _ : state) {
    auto r = breaker.call([&] { return work(x); });
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Breaker_Call)->Threads(1)->Threads(2)->UseRealTime();

void BM_Breaker_Call_TimeWindow(benchmark::State& state) {
  static kr::circuit_breaker breaker(
      {.name = "payments", .window = kr::window_kind::time_based, .window_size = 60});
  int x = 0;
  for (auto _ : state) {
    auto r = breaker.call([&] { return work(x); });
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Breaker_Call_TimeWindow)->Threads(1)->Threads(2)->UseRealTime();

// The peer: a breaker whose every call takes one mutex to check the state and
// one to record the outcome (the seeds' and most hand-written breakers).
class mutex_breaker {
 public:
  template <class F>
  keel::result<int> call(F&& f) {
    {
      std::lock_guard lock(mu_);
      if (open_) return keel::fail(keel::codes::circuit_open);
    }
    keel::result<int> r = keel::try_call(f);
    std::lock_guard lock(mu_);
    if (r) {
      failures_ = 0;
    } else if (++failures_ >= 5) {
      open_ = true;
    }
    return r;
  }

 private:
  std::mutex mu_;
  int failures_ = 0;
  bool open_ = false;
};

void BM_MutexBreaker_Call(benchmark::State& state) {
  static mutex_breaker breaker;
  int x = 0;
  for (auto _ : state) {
    auto r = breaker.call([&] { return work(x); });
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_MutexBreaker_Call)->Threads(1)->Threads(2)->UseRealTime();

void BM_RateLimiter_Acquire(benchmark::State& state) {
  kr::rate_limiter rl({.name = "api", .rate_per_second = 1e9, .burst = 1'000'000});
  for (auto _ : state) {
    auto r = rl.try_acquire();
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_RateLimiter_Acquire);

void BM_KeyedRateLimiter_Acquire(benchmark::State& state) {
  kr::keyed_rate_limiter rl({.name = "api", .rate_per_second = 1e9, .burst = 1'000'000});
  const std::string key = "203.0.113.7";
  for (auto _ : state) {
    auto r = rl.try_acquire(key);
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_KeyedRateLimiter_Acquire);

}  // namespace

BENCHMARK_MAIN();
