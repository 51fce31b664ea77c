#include "keel/resilience/bulkhead.hpp"

#include <gtest/gtest.h>

#include <latch>
#include <thread>

#include "keel/resilience/cancellation.hpp"

namespace keel::resilience {
namespace {

using namespace std::chrono_literals;

TEST(Bulkhead, AdmitsUpToMaxConcurrentThenRejectsWithBulkheadFull) {
  manual_clock clk;
  auto events = std::make_shared<recording_listener>();
  bulkhead b({.name = "db", .max_concurrent = 2, .listener = events}, clk);
  EXPECT_TRUE(b.acquire());
  EXPECT_TRUE(b.acquire());
  auto third = b.acquire();
  ASSERT_FALSE(third);
  EXPECT_EQ(third.error(), codes::bulkhead_full);
  EXPECT_EQ(third.error().details().at("reason"), "full");
  EXPECT_EQ(events->count(event_kind::bulkhead_rejected), 1u);
  EXPECT_EQ(b.rejected(), 1u);
  b.release();
  EXPECT_TRUE(b.acquire());
}

TEST(Bulkhead, CallReleasesItsSlotOnSuccessErrorAndException) {
  bulkhead b({.max_concurrent = 1});
  EXPECT_TRUE(b.call([] { return 1; }));
  EXPECT_FALSE(b.call([]() -> result<int> { return fail(codes::timeout); }));
  EXPECT_FALSE(b.call([]() -> int { throw std::runtime_error("x"); }));
  EXPECT_EQ(b.in_flight(), 0u);
}

TEST(Bulkhead, ACallInsideHoldsTheSlot) {
  bulkhead b({.max_concurrent = 1});
  auto r = b.call([&] { return b.call([] { return 1; }); });
  ASSERT_FALSE(r);  // results flatten: the inner rejection is the outer result
  EXPECT_EQ(r.error(), codes::bulkhead_full);
}

TEST(Bulkhead, WaitingCallRejectedWhenTheQueueIsFull) {
  manual_clock clk;
  bulkhead b({.max_concurrent = 1, .max_queue = 0, .max_wait = 1s}, clk);
  ASSERT_TRUE(b.acquire());
  auto r = b.acquire();
  EXPECT_EQ(r.error(), codes::bulkhead_full);
}

TEST(Bulkhead, WaitingCallGetsTheSlotWhenReleased) {
  bulkhead b({.max_concurrent = 1, .max_queue = 1, .max_wait = 10s});
  ASSERT_TRUE(b.acquire());
  std::latch waiting(1);
  std::thread t([&] {
    while (b.waiting() == 0)
      std::this_thread::yield();
    waiting.count_down();
    b.release();
  });
  auto r = b.acquire();  // blocks until the other thread releases
  t.join();
  EXPECT_TRUE(r);
  EXPECT_EQ(b.in_flight(), 1u);
}

TEST(Bulkhead, WaitEndsWithBulkheadFullAfterMaxWait) {
  manual_clock clk;
  bulkhead b({.name = "db", .max_concurrent = 1, .max_queue = 1, .max_wait = 2s}, clk);
  ASSERT_TRUE(b.acquire());
  std::thread t([&] {
    while (b.waiting() == 0)
      std::this_thread::yield();
    clk.advance(2s);
  });
  auto r = b.acquire();
  t.join();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), codes::bulkhead_full);
  EXPECT_EQ(r.error().details().at("reason"), "wait_expired");
}

TEST(Bulkhead, SecondWaiterBeyondTheQueueIsRejectedAtOnce) {
  manual_clock clk;
  bulkhead b({.max_concurrent = 1, .max_queue = 1, .max_wait = 2s}, clk);
  ASSERT_TRUE(b.acquire());
  std::thread waiter([&] { EXPECT_FALSE(b.acquire()); });
  while (b.waiting() == 0)
    std::this_thread::yield();
  auto r = b.acquire();
  EXPECT_EQ(r.error().details().at("reason"), "queue_full");
  clk.advance(2s);
  waiter.join();
}

TEST(Bulkhead, WaitNeverOutlastsTheCallsDeadline) {
  manual_clock clk;
  bulkhead b({.max_concurrent = 1, .max_queue = 1, .max_wait = 1h}, clk);
  ASSERT_TRUE(b.acquire());
  deadline_scope ds(clk.steady_now() + 1s);
  std::thread t([&] {
    while (b.waiting() == 0)
      std::this_thread::yield();
    clk.advance(1s);
  });
  auto r = b.acquire();
  t.join();
  EXPECT_EQ(r.error(), codes::bulkhead_full);
}

TEST(Bulkhead, InvalidConfigIsAnError) {
  EXPECT_FALSE(bulkhead::create({.max_concurrent = 0}));
  EXPECT_FALSE(bulkhead::create({.max_wait = -1s}));
  EXPECT_THROW(bulkhead({.max_concurrent = 0}), keel::exception);
}

}  // namespace
}  // namespace keel::resilience
