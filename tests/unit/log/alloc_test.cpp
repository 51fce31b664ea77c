// A log call allocates nothing in steady state — proved by counting every
// call of the global allocation functions, which this executable replaces.
// Not run under ASan (label no_asan): ASan provides its own.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "keel/core/context.hpp"
#include "keel/log/log.hpp"
#include "log_test_support.hpp"

namespace {
thread_local std::uint64_t t_allocations = 0;
std::atomic<std::uint64_t> g_allocations{0};

void* counted(std::size_t n, std::size_t align = 0) {
  ++t_allocations;
  g_allocations.fetch_add(1, std::memory_order_relaxed);
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
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  try {
    return counted(n);
  } catch (...) {
    return nullptr;
  }
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }

namespace keel::log {
namespace {

using testing::temp_dir;

void log_request_line(const logger& log, int i) {
  log.info("request done", kv("method", "GET"), kv("path", "/health"), kv("status_code", 200),
           kv("duration_ms", 0.25 * i));
}

TEST(Allocations, ACallAllocatesNothingInSteadyState) {
  temp_dir dir;
  ASSERT_TRUE(configure({.sinks = {file_sink::create({.path = dir.file("a.log")}).value()},
                         .install_signal_handlers = false})
                  .has_value());
  logger log("alloc");
  for (int i = 0; i < 1000; ++i)
    log_request_line(log, i);  // the first call allocates this thread's buffer
  flush();
  const std::uint64_t before = t_allocations;
  for (int i = 0; i < 100'000; ++i)
    log_request_line(log, i);
  EXPECT_EQ(t_allocations - before, 0u);
  flush();
}

TEST(Allocations, CallsWithContextChildFieldsAndEveryScalarTypeAllocateNothing) {
  temp_dir dir;
  ASSERT_TRUE(configure({.sinks = {file_sink::create({.path = dir.file("b.log")}).value()},
                         .install_signal_handlers = false})
                  .has_value());
  const logger child = logger("alloc.child").with(kv("component", "orders"));
  context_scope scope(request_context{.request_id = new_request_id(),
                                      .trace = trace_context::generate(),
                                      .user_id = "u-1",
                                      .fields = {{"tenant", "acme"}}});
  const std::string s = "a std::string value";
  const auto run = [&](int i) {
    child.warn("mixed", kv("s", s), kv("i", -i), kv("u", 7u), kv("b", true), kv("n", nullptr),
               kv("d", std::chrono::milliseconds(i)),
               kv("at", std::chrono::system_clock::time_point{}),
               kv("obj", object(kv("x", 1), kv("y", "z"))), kv("arr", array(1, 2.5, "three")));
  };
  for (int i = 0; i < 1000; ++i)
    run(i);
  flush();
  const std::uint64_t before = t_allocations;
  for (int i = 0; i < 50'000; ++i)
    run(i);
  EXPECT_EQ(t_allocations - before, 0u);
  flush();
}

TEST(Allocations, TheBackendFormatsAndWritesWithoutAllocatingInSteadyState) {
  temp_dir dir;
  ASSERT_TRUE(configure({.sinks = {file_sink::create({.path = dir.file("c.log")}).value()},
                         .mode = backend_mode::manual,
                         .install_signal_handlers = false})
                  .has_value());
  logger log("alloc.backend");
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 1000; ++i)
      log_request_line(log, i);
    poll();
  }
  const std::uint64_t before = g_allocations.load();
  for (int round = 0; round < 20; ++round) {
    for (int i = 0; i < 1000; ++i)
      log_request_line(log, i);
    poll();
  }
  EXPECT_EQ(g_allocations.load() - before, 0u);
  flush();
}

}  // namespace
}  // namespace keel::log
