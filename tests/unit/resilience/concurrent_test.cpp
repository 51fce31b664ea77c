// Breakers, bulkheads, limiters and retry budgets used from several threads.
// Run under TSan by `make test`.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "keel/resilience/breaker_registry.hpp"
#include "keel/resilience/bulkhead.hpp"
#include "keel/resilience/circuit_breaker.hpp"
#include "keel/resilience/rate_limiter.hpp"
#include "keel/resilience/retry.hpp"
#include "keel/resilience/retry_budget.hpp"

namespace keel::resilience {
namespace {

using namespace std::chrono_literals;

template <class F>
void on_threads(int n, F f) {
  std::vector<std::thread> ts;
  for (int i = 0; i < n; ++i)
    ts.emplace_back(f, i);
  for (auto& t : ts)
    t.join();
}

TEST(ConcurrentBreaker, AllSuccessesFromManyThreadsKeepItClosedAndCounted) {
  manual_clock clk;
  circuit_breaker b({.name = "x", .window_size = 1000, .minimum_calls = 10}, clk);
  on_threads(4, [&](int) {
    for (int i = 0; i < 20'000; ++i)
      ASSERT_TRUE(b.call([] { return 1; }));
  });
  const auto s = b.snapshot();
  EXPECT_EQ(s.state, breaker_state::closed);
  EXPECT_EQ(s.failed_calls, 0u);
  EXPECT_GE(s.buffered_calls, 1000u);
}

TEST(ConcurrentBreaker, FailuresFromManyThreadsOpenItOnce) {
  manual_clock clk;
  auto events = std::make_shared<recording_listener>(100'000);
  circuit_breaker b({.name = "x", .window_size = 100, .minimum_calls = 50, .listener = events},
                    clk);
  std::atomic<int> rejected{0};
  on_threads(4, [&](int) {
    for (int i = 0; i < 5'000; ++i) {
      auto r = b.call([]() -> result<int> { return fail(codes::timeout); });
      if (r.error() == codes::circuit_open) rejected.fetch_add(1);
    }
  });
  EXPECT_EQ(b.state(), breaker_state::open);
  EXPECT_EQ(events->count(event_kind::breaker_state_changed), 1u);
  EXPECT_GT(rejected.load(), 0);
}

TEST(ConcurrentBreaker, HalfOpenNeverAdmitsMoreThanThePermittedTrialsAtOnce) {
  manual_clock clk;
  circuit_breaker b({.name = "x",
                     .window_size = 2,
                     .minimum_calls = 2,
                     .wait_in_open = 1s,
                     .permitted_calls_in_half_open = 3},
                    clk);
  (void)b.call([]() -> result<int> { return fail(codes::timeout); });
  (void)b.call([]() -> result<int> { return fail(codes::timeout); });
  clk.advance(1s);
  std::atomic<int> inside{0};
  std::atomic<int> max_inside{0};
  on_threads(8, [&](int) {
    for (int i = 0; i < 200; ++i) {
      auto p = b.acquire();
      if (!p) continue;
      const int now = inside.fetch_add(1) + 1;
      int seen = max_inside.load();
      while (now > seen && !max_inside.compare_exchange_weak(seen, now)) {
      }
      inside.fetch_sub(1);
      b.on_error(*p, keel::error(codes::cancelled));  // ignored: the trial slot is given back
    }
  });
  EXPECT_LE(max_inside.load(), 3);
  EXPECT_EQ(b.state(), breaker_state::half_open);
}

TEST(ConcurrentBreaker, TransitionsRacingWithCallsStayConsistent) {
  manual_clock clk;
  circuit_breaker b({.name = "x",
                     .window_size = 50,
                     .minimum_calls = 10,
                     .wait_in_open = 1ms,
                     .permitted_calls_in_half_open = 2},
                    clk);
  std::atomic<bool> stop{false};
  std::thread admin([&] {
    for (int i = 0; i < 500; ++i) {
      if (i % 3 == 0) b.reset();
      if (i % 3 == 1) b.force_open();
      clk.advance(1ms);
      (void)b.snapshot();
    }
    stop = true;
  });
  on_threads(3, [&](int t) {
    int i = 0;
    while (!stop.load()) {
      ++i;
      (void)b.call([&]() -> result<int> {
        if ((i + t) % 3 == 0) return fail(codes::timeout);
        return 1;
      });
    }
  });
  admin.join();
  b.reset();
  EXPECT_TRUE(b.call([] { return 1; }));
}

TEST(ConcurrentBulkhead, NeverRunsMoreThanMaxConcurrent) {
  bulkhead bh({.name = "db", .max_concurrent = 3, .max_queue = 8, .max_wait = 1s});
  std::atomic<int> inside{0};
  std::atomic<int> max_inside{0};
  std::atomic<int> ok{0};
  on_threads(6, [&](int) {
    for (int i = 0; i < 2'000; ++i) {
      auto r = bh.call([&] {
        const int now = inside.fetch_add(1) + 1;
        int seen = max_inside.load();
        while (now > seen && !max_inside.compare_exchange_weak(seen, now)) {
        }
        inside.fetch_sub(1);
        return 1;
      });
      if (r) ok.fetch_add(1);
    }
  });
  EXPECT_LE(max_inside.load(), 3);
  EXPECT_GT(ok.load(), 0);
  EXPECT_EQ(bh.in_flight(), 0u);
  EXPECT_EQ(bh.waiting(), 0u);
}

TEST(ConcurrentRateLimiter, HandsOutNoMoreThanTheBurstAtOneInstant) {
  manual_clock clk;
  rate_limiter rl({.rate_per_second = 1, .burst = 100}, clk);
  std::atomic<int> granted{0};
  on_threads(4, [&](int) {
    for (int i = 0; i < 1'000; ++i)
      if (rl.try_acquire()) granted.fetch_add(1);
  });
  EXPECT_EQ(granted.load(), 100);
}

TEST(ConcurrentRateLimiter, KeyedLimiterStaysBoundedUnderManyThreads) {
  manual_clock clk;
  keyed_rate_limiter rl({.rate_per_second = 10, .burst = 1, .max_keys = 128}, clk);
  on_threads(4, [&](int t) {
    for (int i = 0; i < 5'000; ++i)
      (void)rl.try_acquire(std::to_string((i * 7 + t) % 1000));
  });
  EXPECT_LE(rl.size(), 128u);
}

TEST(ConcurrentRetry, ASharedBudgetBoundsRetriesAcrossThreads) {
  manual_clock clk;
  auto budget = std::make_shared<retry_budget>(
      retry_budget_config{.ratio = 0.0, .min_retries_per_second = 5, .window = 10s}, clk);
  retry r({.name = "x",
           .max_attempts = 5,
           .wait = {.kind = backoff_kind::constant, .initial = 1ns, .jitter = jitter_kind::none},
           .budget = budget},
          clk);
  std::atomic<int> attempts{0};
  on_threads(4, [&](int) {
    for (int i = 0; i < 100; ++i)
      (void)r.call([&]() -> result<int> {
        attempts.fetch_add(1);
        return fail(codes::timeout);
      });
  });
  // 400 first attempts plus about 50 retries (5/s over 10 s); a race may let
  // a few more through, never hundreds.
  EXPECT_GE(attempts.load(), 400 + 50);
  EXPECT_LE(attempts.load(), 400 + 60);
}

}  // namespace
}  // namespace keel::resilience
