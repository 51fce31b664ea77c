#include "keel/resilience/asio.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include <stdexcept>

namespace keel::resilience {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

// Runs a coroutine to completion on a fresh io_context and returns its value.
template <class T>
T run(std::function<asio::awaitable<T>()> body) {
  asio::io_context io;
  std::optional<T> out;
  asio::co_spawn(
      io, [&]() -> asio::awaitable<void> { out.emplace(co_await body()); }, asio::detached);
  io.run();
  return std::move(*out);
}

TEST(AsioTimeout, CancelsTheAwaitedOperationForReal) {
  timeout t({.name = "gw", .timeout = 20ms});
  bool aborted = false;
  const auto started = std::chrono::steady_clock::now();
  auto r = run<result<int>>([&]() -> asio::awaitable<result<int>> {
    co_return co_await co_call(t, [&]() -> asio::awaitable<int> {
      // An operation that would take an hour: only cancellation ends it.
      asio::steady_timer never(co_await asio::this_coro::executor, 1h);
      auto [ec] = co_await never.async_wait(asio::as_tuple(asio::use_awaitable));
      aborted = ec == asio::error::operation_aborted;
      co_return 1;
    });
  });
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), codes::timeout);
  EXPECT_TRUE(aborted);  // the operation completed with operation_aborted before co_call returned
  EXPECT_LT(std::chrono::steady_clock::now() - started, 10min);
}

TEST(AsioTimeout, PassesAnOperationThatFinishesInTime) {
  timeout t({.name = "gw", .timeout = 10s});
  auto r = run<result<int>>([&]() -> asio::awaitable<result<int>> {
    co_return co_await co_call(t, []() -> asio::awaitable<int> { co_return 5; });
  });
  EXPECT_EQ(r.value(), 5);
}

TEST(AsioRetry, RetriesFailedAwaitablesOnThePolicysClock) {
  manual_clock clk;
  seeded_random rng(1);
  retry rt(
      {.name = "svc",
       .max_attempts = 3,
       .wait = {.kind = backoff_kind::constant, .initial = 100ms, .jitter = jitter_kind::none}},
      clk, rng);
  int attempts = 0;
  auto r = run<result<int>>([&]() -> asio::awaitable<result<int>> {
    co_return co_await co_call(rt, [&]() -> asio::awaitable<result<int>> {
      if (++attempts < 3) co_return fail(codes::network_error);
      co_return 8;
    });
  });
  EXPECT_EQ(r.value(), 8);
  EXPECT_EQ(attempts, 3);
  EXPECT_EQ(clk.slept(), 200ms);
}

TEST(AsioBreaker, CountsAwaitedOutcomesAndRejectsWhenOpen) {
  manual_clock clk;
  circuit_breaker b({.name = "svc", .window_size = 2, .minimum_calls = 2}, clk);
  int ran = 0;
  auto failing = [&]() -> asio::awaitable<int> {
    ++ran;
    throw std::runtime_error("connection reset");
    co_return 0;
  };
  for (int i = 0; i < 3; ++i) {
    auto r = run<result<int>>(
        [&]() -> asio::awaitable<result<int>> { co_return co_await co_call(b, failing); });
    EXPECT_FALSE(r);
  }
  EXPECT_EQ(b.state(), breaker_state::open);
  EXPECT_EQ(ran, 2);
}

TEST(AsioBulkhead, RejectsAtOnceWhenFull) {
  bulkhead bh({.name = "db", .max_concurrent = 1});
  ASSERT_TRUE(bh.acquire());
  auto r = run<result<int>>([&]() -> asio::awaitable<result<int>> {
    co_return co_await co_call(bh, []() -> asio::awaitable<int> { co_return 1; });
  });
  EXPECT_EQ(r.error(), codes::bulkhead_full);
  bh.release();
}

TEST(AsioPipeline, RunsTheSamePipelineObjectAsSynchronousCode) {
  manual_clock clk;
  seeded_random rng(1);
  auto fb = fallback<std::string>::value("queued");
  retry rt({.name = "payments",
            .max_attempts = 2,
            .wait = {.kind = backoff_kind::constant, .initial = 10ms, .jitter = jitter_kind::none}},
           clk, rng);
  circuit_breaker b({.name = "payments", .window_size = 10, .minimum_calls = 10}, clk);
  timeout t({.name = "payments", .timeout = 5s});
  bulkhead bh({.name = "payments", .max_concurrent = 4});
  pipeline p(fb, rt, b, t, bh);

  // Synchronous use...
  EXPECT_EQ(p.call([] { return std::string("sync"); }).value(), "sync");
  // ...and from a coroutine, through the same objects.
  int attempts = 0;
  auto r = run<result<std::string>>([&]() -> asio::awaitable<result<std::string>> {
    co_return co_await co_call(p, [&]() -> asio::awaitable<result<std::string>> {
      ++attempts;
      co_return fail(codes::external_service_error);
    });
  });
  EXPECT_EQ(r.value(), "queued");
  EXPECT_EQ(attempts, 2);
  EXPECT_EQ(b.snapshot().failed_calls, 2u);
  EXPECT_EQ(bh.in_flight(), 0u);
}

}  // namespace
}  // namespace keel::resilience

namespace keel::resilience {
namespace {

TEST(AsioHedging, AHedgeWinsOverASlowFirstAttemptWhichIsCancelled) {
  auto events = std::make_shared<recording_listener>();
  hedging h({.name = "catalog", .delay = 10ms, .listener = events});
  int started = 0;
  bool first_aborted = false;
  auto r = run<result<int>>([&]() -> asio::awaitable<result<int>> {
    co_return co_await co_call(h, [&]() -> asio::awaitable<int> {
      if (++started == 1) {
        asio::steady_timer slow(co_await asio::this_coro::executor, 1h);
        auto [ec] = co_await slow.async_wait(asio::as_tuple(asio::use_awaitable));
        first_aborted = ec == asio::error::operation_aborted;
        co_return 1;
      }
      co_return 2;
    });
  });
  EXPECT_EQ(r.value(), 2);
  EXPECT_EQ(started, 2);
  EXPECT_TRUE(first_aborted);
  EXPECT_EQ(events->count(event_kind::hedge_started), 1u);
}

TEST(AsioHedging, AFastFirstAttemptStartsNoHedge) {
  auto events = std::make_shared<recording_listener>();
  hedging h({.name = "catalog", .delay = 1h, .listener = events});
  int started = 0;
  auto r = run<result<int>>([&]() -> asio::awaitable<result<int>> {
    co_return co_await co_call(h, [&]() -> asio::awaitable<int> {
      ++started;
      co_return 7;
    });
  });
  EXPECT_EQ(r.value(), 7);
  EXPECT_EQ(started, 1);
  EXPECT_EQ(events->count(event_kind::hedge_started), 0u);
}

TEST(AsioHedging, WhenBothAttemptsFailTheFirstErrorIsReturned) {
  hedging h({.name = "catalog", .delay = 1ms});
  int started = 0;
  auto r = run<result<int>>([&]() -> asio::awaitable<result<int>> {
    co_return co_await co_call(h, [&]() -> asio::awaitable<result<int>> {
      co_return fail(++started == 1 ? codes::timeout : codes::network_error);
    });
  });
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), codes::timeout);
  EXPECT_EQ(started, 2);
}

TEST(Hedging, InvalidConfigIsRejected) {
  EXPECT_FALSE((hedging_config{.delay = 0ms}.validate()));
  EXPECT_THROW(hedging({.delay = 2h}), keel::exception);
}

}  // namespace
}  // namespace keel::resilience
