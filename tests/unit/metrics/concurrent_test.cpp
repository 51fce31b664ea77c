// keel::metrics on several threads at once: increments, observations,
// lookups, registration and exposition racing each other. Run under TSan by
// `make test`.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "keel/metrics/exposition.hpp"
#include "keel/metrics/registry.hpp"

namespace keel::metrics {
namespace {

constexpr int kThreads = 4;
constexpr int kPerThread = 20000;

template <class F>
void on_threads(int n, F f) {
  std::vector<std::thread> ts;
  for (int i = 0; i < n; ++i)
    ts.emplace_back(f, i);
  for (auto& t : ts)
    t.join();
}

TEST(ConcurrentMetrics, CounterLosesNoIncrementAcrossThreads) {
  counter c;
  on_threads(kThreads, [&](int) {
    for (int i = 0; i < kPerThread; ++i)
      c.inc();
  });
  EXPECT_EQ(c.value(), kThreads * kPerThread);
}

TEST(ConcurrentMetrics, ScrapesSeeAMonotonicCounterWhileThreadsIncrementAndExit) {
  counter c;
  std::atomic<bool> done{false};
  std::atomic<bool> monotonic{true};
  std::thread scraper([&] {
    double last = 0;
    while (!done.load()) {
      const double v = c.value();
      if (v < last) monotonic = false;
      last = v;
    }
  });
  // Short-lived threads: each exits and folds its cells while scrapes run.
  for (int round = 0; round < 10; ++round) {
    on_threads(kThreads, [&](int) {
      for (int i = 0; i < 1000; ++i)
        c.inc();
    });
  }
  done = true;
  scraper.join();
  EXPECT_TRUE(monotonic);
  EXPECT_EQ(c.value(), 10 * kThreads * 1000);
}

TEST(ConcurrentMetrics, HistogramInfBucketAlwaysEqualsCountDuringObservations) {
  histogram h({1, 2});
  std::atomic<bool> done{false};
  std::atomic<bool> consistent{true};
  std::thread scraper([&] {
    while (!done.load()) {
      auto s = h.get();
      for (std::size_t i = 1; i < s.cumulative.size(); ++i) {
        if (s.cumulative[i] < s.cumulative[i - 1]) consistent = false;
      }
    }
  });
  on_threads(kThreads, [&](int t) {
    for (int i = 0; i < kPerThread; ++i)
      h.observe(static_cast<double>((i + t) % 3));
  });
  done = true;
  scraper.join();
  EXPECT_TRUE(consistent);
  auto s = h.get();
  EXPECT_EQ(s.count(), static_cast<std::uint64_t>(kThreads * kPerThread));
}

TEST(ConcurrentMetrics, ConcurrentLookupsOfOneLabelSetShareOneChild) {
  registry reg;
  auto* f = *reg.add_counter({.name = "req_total", .help = "R.", .labels = {"code"}});
  std::vector<counter*> seen(kThreads);
  on_threads(kThreads, [&](int t) {
    for (int i = 0; i < 1000; ++i) {
      counter& c = f->labels("200");
      c.inc();
      seen[static_cast<std::size_t>(t)] = &c;
      f->labels(std::to_string(i % 50)).inc();
    }
  });
  for (auto* p : seen)
    EXPECT_EQ(p, seen[0]);
  EXPECT_EQ(f->labels("200").value(), kThreads * 1000);
  EXPECT_EQ(f->labels("7").value(), kThreads * 20);  // i % 50 == 7 twenty times per thread
  EXPECT_EQ(f->size(), 51u);
}

TEST(ConcurrentMetrics, ExpositionRacesIncrementsAndRegistration) {
  registry reg;
  auto* c = *reg.add_counter({.name = "ops_total", .help = "Ops.", .labels = {"worker"}});
  auto* h = *reg.add_histogram({.name = "op_duration_seconds", .help = "D."});
  auto* g = *reg.add_gauge({.name = "busy_workers", .help = "Busy."});
  std::atomic<bool> done{false};
  std::thread scraper([&] {
    while (!done.load()) {
      std::string text = expose(reg, format::openmetrics_1_0);
      ASSERT_TRUE(text.ends_with("# EOF\n"));
    }
  });
  on_threads(kThreads, [&](int t) {
    counter& mine = c->labels(std::to_string(t));
    for (int i = 0; i < kPerThread; ++i) {
      mine.inc();
      h->labels().observe(0.001 * (i % 100));
      g->labels().add(1);
      g->labels().sub(1);
      if (i % 5000 == 0) {
        ASSERT_TRUE(reg.add_gauge(
            {.name = "dyn_" + std::to_string(t) + "_" + std::to_string(i), .help = "D."}));
      }
    }
  });
  done = true;
  scraper.join();
  const std::string text = expose(reg);
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_NE(text.find("ops_total{worker=\"" + std::to_string(t) + "\"} " +
                        std::to_string(kPerThread) + "\n"),
              std::string::npos);
  }
  EXPECT_NE(text.find("op_duration_seconds_count " + std::to_string(kThreads * kPerThread)),
            std::string::npos);
  EXPECT_EQ(g->labels().value(), 0);
}

TEST(ConcurrentMetrics, MetricsCreatedAndDestroyedWhileOthersCount) {
  counter steady;
  on_threads(kThreads, [&](int) {
    for (int i = 0; i < 200; ++i) {
      counter temp;
      temp.inc(static_cast<std::uint64_t>(i));
      EXPECT_EQ(temp.value(), i);
      steady.inc();
    }
  });
  EXPECT_EQ(steady.value(), kThreads * 200);
}

}  // namespace
}  // namespace keel::metrics
