// The hot paths allocate nothing in steady state: counting every global
// operator new on this thread around increments, observations, gauge
// updates and label lookups that hit an existing child.
//
// Replaces the global operator new/delete for this executable, so it is a
// program of its own, labelled no_asan (ASan brings its own allocator).
#include <gtest/gtest.h>

#include <cstdlib>
#include <new>

#include "keel/metrics/registry.hpp"
#include "keel/metrics/timer.hpp"

namespace {
thread_local std::size_t allocations = 0;
int* volatile escape = nullptr;
}  // namespace

void* operator new(std::size_t n) {
  ++allocations;
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace keel::metrics {
namespace {

template <class F>
std::size_t allocations_during(F&& f) {
  const std::size_t before = allocations;
  f();
  return allocations - before;
}

TEST(HotPathAllocations, CounterIncAndAddAllocateNothingAfterTheFirstOnAThread) {
  counter c;
  c.inc();  // first touch on this thread may create its page
  EXPECT_EQ(allocations_during([&] {
              for (int i = 0; i < 100000; ++i) {
                c.inc();
                c.add(0.5);
              }
            }),
            0u);
}

TEST(HotPathAllocations, HistogramObserveAllocatesNothing) {
  histogram h;
  h.observe(0.1);
  EXPECT_EQ(allocations_during([&] {
              for (int i = 0; i < 100000; ++i)
                h.observe(0.001 * i);
            }),
            0u);
}

TEST(HotPathAllocations, GaugeUpdatesAllocateNothing) {
  gauge g;
  EXPECT_EQ(allocations_during([&] {
              for (int i = 0; i < 1000; ++i) {
                g.inc();
                g.set(i);
                g.dec();
              }
            }),
            0u);
}

TEST(HotPathAllocations, LabelLookupOfAnExistingChildAllocatesNothing) {
  registry reg;
  auto* f =
      *reg.add_counter({.name = "req_total", .help = "R.", .labels = {"method", "route", "code"}});
  const std::string m = "GET", r = "/orders", c = "200";
  f->labels(m, r, c).inc();
  EXPECT_EQ(allocations_during([&] {
              for (int i = 0; i < 10000; ++i)
                f->labels(m, r, c).inc();
            }),
            0u);
}

TEST(HotPathAllocations, ScopeTimerAllocatesNothing) {
  histogram h;
  h.observe(0);
  EXPECT_EQ(allocations_during([&] {
              for (int i = 0; i < 1000; ++i) {
                scope_timer t(h);
              }
            }),
            0u);
}

TEST(HotPathAllocations, CountingActuallyCountsSoTheZerosMeanSomething) {
  EXPECT_GT(allocations_during([] {
              auto* p = new int(1);
              escape = p;  // keeps the compiler from eliding the pair
              delete p;
            }),
            0u);
}

}  // namespace
}  // namespace keel::metrics
