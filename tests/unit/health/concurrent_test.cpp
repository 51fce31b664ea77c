// The health registry on several threads: checks running concurrently, a
// hung check abandoned at its timeout without delaying the others, and a
// flood of concurrent reports sharing one execution. Run under TSan by
// `make test`.
//
// The hang test needs real time (a hung thread does not advance a manual
// clock); its margins are generous so that a loaded 2-core machine does not
// make it flaky: the hung check's timeout is 200 ms and the report must come
// back within 200 ms + 5 s.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <latch>
#include <mutex>
#include <thread>
#include <vector>

#include "keel/health/registry.hpp"

namespace keel::health {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// "c<i>" (built with += : g++ 12 warns falsely on "literal" + std::string).
std::string numbered(int i) {
  std::string s = "c";
  s += std::to_string(i);
  return s;
}

// A gate a check blocks on until the test opens it.
struct gate {
  std::mutex mu;
  std::condition_variable cv;
  bool open = false;
  void wait() {
    std::unique_lock<std::mutex> l(mu);
    cv.wait(l, [&] { return open; });
  }
  void release() {
    {
      std::lock_guard<std::mutex> l(mu);
      open = true;
    }
    cv.notify_all();
  }
};

void wait_until_running(const registry& h, std::size_t n) {
  // Bounded poll for thread exit (not a timing rule under test): a check
  // thread counts itself out just after its report has been handed over.
  for (int i = 0; i < 2000 && h.running() != n; ++i)
    std::this_thread::sleep_for(milliseconds(5));
}
void wait_until_idle(const registry& h) { wait_until_running(h, 0); }

TEST(ConcurrentHealth, ChecksRunConcurrently) {
  // Each check waits for the other to have started: run one after the other,
  // they would both time out.
  registry h;
  auto both_started = std::make_shared<std::latch>(2);
  auto rendezvous = [both_started](const check_context&) {
    both_started->arrive_and_wait();
    return check_result::pass();
  };
  ASSERT_TRUE(h.add({.name = "a", .timeout = seconds(30)}, rendezvous));
  ASSERT_TRUE(h.add({.name = "b", .timeout = seconds(30)}, rendezvous));
  report r = h.readiness();
  EXPECT_EQ(r.status, health_status::healthy) << r.output;
  wait_until_idle(h);
}

TEST(ConcurrentHealth, HungCheckFailsAtItsTimeoutWithoutDelayingOthers) {
  auto g = std::make_shared<gate>();
  auto calls = std::make_shared<std::atomic<int>>(0);
  registry h({.cache_interval = milliseconds(0)});
  ASSERT_TRUE(
      h.add({.name = "hung", .timeout = milliseconds(200)}, [g, calls](const check_context&) {
        ++*calls;
        g->wait();
        return check_result::pass();
      }));
  ASSERT_TRUE(h.add({.name = "fast", .timeout = seconds(30), .critical = false},
                    [](const check_context&) { return check_result::pass(); }));

  const auto t0 = std::chrono::steady_clock::now();
  report r = h.readiness();
  const auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_GE(took, milliseconds(200));
  EXPECT_LT(took, milliseconds(200) + seconds(5));
  ASSERT_EQ(r.checks.size(), 2u);
  EXPECT_EQ(r.checks[0].status, check_status::fail);
  EXPECT_TRUE(r.checks[0].timed_out);
  EXPECT_EQ(r.checks[0].output, "timed out after 200 ms; still running");
  EXPECT_EQ(r.checks[1].status, check_status::pass);
  EXPECT_EQ(r.status, health_status::unhealthy);

  // While it hangs, later reports do not start it again.
  report again = h.readiness();
  EXPECT_EQ(again.checks[0].status, check_status::fail);
  EXPECT_EQ(calls->load(), 1);
  wait_until_running(h, 1);    // the fast check's thread is on its way out
  EXPECT_EQ(h.running(), 1u);  // only the hung one is left

  g->release();
  wait_until_idle(h);
  EXPECT_EQ(h.running(), 0u);
  // Released, it runs again on the next report.
  report after = h.readiness();
  EXPECT_EQ(calls->load(), 2);
  EXPECT_EQ(after.status, health_status::healthy) << after.output;
}

TEST(ConcurrentHealth, HungCheckMayOutliveTheRegistry) {
  auto g = std::make_shared<gate>();
  auto done = std::make_shared<std::promise<void>>();
  auto finished = done->get_future();
  {
    registry h;
    ASSERT_TRUE(
        h.add({.name = "hung", .timeout = milliseconds(50)}, [g, done](const check_context&) {
          g->wait();
          done->set_value();
          return check_result::pass();
        }));
    EXPECT_EQ(h.readiness().status, health_status::unhealthy);
  }  // registry destroyed while the check thread still blocks
  g->release();
  EXPECT_EQ(finished.wait_for(seconds(30)), std::future_status::ready);
}

TEST(ConcurrentHealth, FloodOfReportsRunsEachCheckOncePerInterval) {
  auto calls = std::make_shared<std::atomic<int>>(0);
  auto g = std::make_shared<gate>();
  registry h({.cache_interval = seconds(3600)});
  ASSERT_TRUE(h.add({.name = "db", .timeout = seconds(30)}, [calls, g](const check_context&) {
    ++*calls;
    g->wait();  // stays in flight until every reporter has joined it
    return check_result::pass();
  }));
  constexpr int kReporters = 8;
  std::atomic<int> healthy{0};
  std::vector<std::thread> ts;
  for (int i = 0; i < kReporters; ++i) {
    ts.emplace_back([&] {
      if (h.readiness().status == health_status::healthy) ++healthy;
    });
  }
  // Give reporters a moment to pile onto the in-flight run, then let it finish.
  for (int i = 0; i < 200 && calls->load() == 0; ++i)
    std::this_thread::sleep_for(milliseconds(5));
  std::this_thread::sleep_for(milliseconds(50));
  g->release();
  for (auto& t : ts)
    t.join();
  EXPECT_EQ(healthy.load(), kReporters);
  EXPECT_EQ(calls->load(), 1);
  wait_until_idle(h);
}

TEST(ConcurrentHealth, ReportsAndRegistrationRace) {
  registry h({.cache_interval = milliseconds(0)});
  std::atomic<bool> stop{false};
  std::thread reporter([&] {
    while (!stop.load()) {
      report r = h.run(view::all);
      for (const auto& c : r.checks)
        ASSERT_EQ(c.status, check_status::pass);
    }
  });
  for (int i = 0; i < 50; ++i) {
    ASSERT_TRUE(
        h.add({.name = numbered(i)}, [](const check_context&) { return check_result::pass(); }));
  }
  stop = true;
  reporter.join();
  wait_until_idle(h);
}

}  // namespace
}  // namespace keel::health
