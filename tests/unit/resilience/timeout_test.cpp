#include "keel/resilience/timeout.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

namespace keel::resilience {
namespace {

using namespace std::chrono_literals;

struct TimeoutTest : ::testing::Test {
  manual_clock clk;
  std::shared_ptr<recording_listener> events = std::make_shared<recording_listener>();
  timeout make(clock::duration d, std::string name = "gw", bool discard = true) {
    return timeout({.name = std::move(name),
                    .timeout = d,
                    .discard_late_success = discard,
                    .listener = events},
                   clk);
  }
};

TEST_F(TimeoutTest, PassesACallThatFinishesInTime) {
  auto t = make(2s);
  EXPECT_EQ(t.call([&] {
               clk.advance(1s);
               return 3;
             }).value(),
            3);
  EXPECT_TRUE(events->events().empty());
}

TEST_F(TimeoutTest, TheDeadlineTravelsWithTheCall) {
  auto t = make(2s);
  (void)t.call([&] {
    EXPECT_TRUE(this_call::has_deadline());
    EXPECT_EQ(this_call::remaining(clk), 2s);
    return 0;
  });
  EXPECT_FALSE(this_call::has_deadline());
}

TEST_F(TimeoutTest, NestedTimeoutsOnlyShortenTheDeadline) {
  auto outer = make(1s, "outer");
  auto inner = make(5s, "inner");
  auto shorter = make(100ms, "shorter");
  (void)outer.call([&] {
    return inner.call([&] {
      EXPECT_EQ(this_call::remaining(clk), 1s);
      return shorter.call([&] {
        EXPECT_EQ(this_call::remaining(clk), 100ms);
        return 0;
      });
    });
  });
}

TEST_F(TimeoutTest, AnOverrunBecomesTimeoutEvenOnSuccess) {
  auto t = make(2s);
  auto r = t.call([&] {
    clk.advance(3s);
    return 1;
  });
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), codes::timeout);
  EXPECT_EQ(r.error().details().at("timeout_ms"), 2000);
  const auto ev = events->of(event_kind::timeout);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].elapsed, 3s);
  EXPECT_EQ(ev[0].reason, "cooperative");
}

TEST_F(TimeoutTest, ALateSuccessIsKeptWhenConfiguredSo) {
  auto t = make(2s, "gw", false);
  EXPECT_EQ(t.call([&] {
               clk.advance(3s);
               return 1;
             }).value(),
            1);
}

TEST_F(TimeoutTest, ASuccessExactlyAtTheDeadlineIsInTime) {
  auto t = make(2s);
  EXPECT_TRUE(t.call([&] {
    clk.advance(2s);
    return 1;
  }));
}

TEST_F(TimeoutTest, AFailureAtTheDeadlineBecomesTimeoutCausedByIt) {
  auto t = make(2s);
  auto r = t.call([&]() -> result<int> {
    clk.advance(2s);
    if (auto c = this_call::check(clk); !c) return fail(c.error());
    return 1;
  });
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), codes::timeout);
  ASSERT_NE(r.error().cause(), nullptr);
}

TEST_F(TimeoutTest, AnExpiredEnclosingDeadlineFailsWithoutCalling) {
  auto t = make(2s);
  deadline_scope ds(clk.steady_now());
  int ran = 0;
  auto r = t.call([&] { return ++ran; });
  EXPECT_EQ(r.error(), codes::timeout);
  EXPECT_EQ(ran, 0);
}

TEST_F(TimeoutTest, OnlyThePolicyWhoseDeadlinePassedReportsIt) {
  auto outer = make(1s, "outer");
  auto inner = make(5s, "inner");
  auto r = outer.call([&] {
    return inner.call([&] {
      clk.advance(2s);
      return 1;
    });
  });
  EXPECT_EQ(r.error(), codes::timeout);
  const auto ev = events->of(event_kind::timeout);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].name, "outer");
}

TEST_F(TimeoutTest, InvalidConfigIsRejected) {
  EXPECT_FALSE((timeout_config{.timeout = 0s}.validate()));
  EXPECT_FALSE((timeout_config{.timeout = 25h}.validate()));
  EXPECT_THROW(timeout({.timeout = -1s}), keel::exception);
}

TEST(ThisCall, WaitForStopsAtTheDeadlineWithTimeout) {
  manual_clock clk;
  deadline_scope ds(clk.steady_now() + 300ms);
  auto r = this_call::wait_for(clk, 1s);
  EXPECT_EQ(r.error(), codes::timeout);
  EXPECT_EQ(clk.slept(), 300ms);
}

TEST(ThisCall, CheckReportsCancellationFromAnyEnclosingSource) {
  manual_clock clk;
  cancellation_source outer;
  cancellation_source inner;
  cancellation_scope a(outer);
  cancellation_scope b(inner);
  EXPECT_TRUE(this_call::check(clk));
  outer.cancel();
  EXPECT_EQ(this_call::check(clk).error(), codes::cancelled);
}

TEST(ThisCall, ARealWaitEndsEarlyWhenCancelled) {
  cancellation_source stop;
  std::thread canceller([&] { stop.cancel(); });
  // Without the cancellation this would wait an hour.
  EXPECT_FALSE(stop.wait_for(clock::real(), std::chrono::hours(1)));
  canceller.join();
}

TEST(PreemptiveTimeout, ReturnsTheResultOfWorkThatFinishesInTime) {
  manual_clock clk;
  thread_pool pool({.threads = 1, .max_queue = 4});
  preemptive_timeout t({.name = "legacy", .timeout = 1s}, pool, clk);
  EXPECT_EQ(t.call([] { return 9; }).value(), 9);
}

TEST(PreemptiveTimeout, ReturnsTimeoutAtTheDeadlineWhileTheWorkStillRuns) {
  manual_clock clk;
  auto events = std::make_shared<recording_listener>();
  thread_pool pool({.threads = 1, .max_queue = 4});
  preemptive_timeout t({.name = "legacy", .timeout = 1s, .listener = events}, pool, clk);
  std::atomic<bool> started{false};
  std::atomic<bool> release{false};
  std::atomic<bool> saw_cancel{false};
  std::atomic<bool> done{false};
  std::thread mover([&] {
    while (!started.load())
      std::this_thread::yield();
    clk.advance(1s);
  });
  auto r = t.call([&started, &release, &saw_cancel, &done] {
    started = true;
    while (!release.load())
      std::this_thread::yield();
    saw_cancel = this_call::cancelled();
    done = true;
    return 1;
  });
  mover.join();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), codes::timeout);
  EXPECT_EQ(r.error().details().at("mode"), "preemptive");
  EXPECT_EQ(events->of(event_kind::timeout).at(0).reason, "preemptive");
  release = true;  // the abandoned work ends on its own...
  while (!done.load())
    std::this_thread::yield();
  EXPECT_TRUE(saw_cancel.load());  // ...having been told it was abandoned
}

TEST(PreemptiveTimeout, TheDeadlineTravelsToTheExecutorThread) {
  manual_clock clk;
  thread_pool pool({.threads = 1, .max_queue = 4});
  preemptive_timeout t({.name = "legacy", .timeout = 1s}, pool, clk);
  auto r = t.call([&clk] { return this_call::remaining(clk); });
  EXPECT_EQ(r.value(), 1s);
}

TEST(PreemptiveTimeout, AFullExecutorIsBulkheadFull) {
  manual_clock clk;
  struct refusing final : executor {
    bool try_post(std::function<void()>) noexcept override { return false; }
  } ex;
  preemptive_timeout t({.name = "legacy", .timeout = 1s}, ex, clk);
  EXPECT_EQ(t.call([] { return 1; }).error(), codes::bulkhead_full);
}

}  // namespace
}  // namespace keel::resilience
