// keel/resilience/bulkhead.hpp
//
// bulkhead caps how many calls to one dependency run at once, so a slow
// dependency cannot take every thread of the process with it. Calls beyond
// the limit wait in a bounded queue for at most `max_wait`; when the queue is
// full or the wait runs out they get BULKHEAD_FULL.
//
//   keel::resilience::bulkhead db({.name = "orders-db", .max_concurrent = 20,
//                                  .max_queue = 50, .max_wait = 100ms});
//   keel::result<order> r = db.call([&] { return repo.load(id); });
//
// A wait never outlasts the call's deadline (this_call::deadline) and ends
// with CANCELLED when the call is cancelled. Waiters are not served in FIFO
// order: a released slot goes to whichever thread takes it first.
//
// Thread safety: all member functions may be called concurrently.
// Cost: admission without waiting is one compare-and-swap and release one
// fetch_sub and one load; no lock, no allocation. Waiting takes a mutex.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "keel/core/clock.hpp"
#include "keel/core/result.hpp"
#include "keel/resilience/events.hpp"

namespace keel::resilience {

// bulkhead_config
//
// Defaults (resilience4j's): 25 concurrent calls, no waiting.
struct bulkhead_config {
  std::string name{};
  std::uint32_t max_concurrent = 25;  // 1..100000
  std::uint32_t max_queue = 0;        // waiting calls, 0..100000
  clock::duration max_wait{0};        // zero: never wait
  std::shared_ptr<event_listener> listener{};

  result<void> validate() const;
};

class bulkhead {
 public:
  // Throws keel::exception (CONFIGURATION_ERROR) when config is not valid.
  explicit bulkhead(bulkhead_config config = {}, const clock& c = clock::real());
  static result<std::unique_ptr<bulkhead>> create(bulkhead_config config,
                                                  const clock& c = clock::real());
  bulkhead(const bulkhead&) = delete;
  bulkhead& operator=(const bulkhead&) = delete;

  template <class F>
  auto call(F&& f) -> decltype(keel::try_call(f)) {
    if (auto a = acquire(); !a) [[unlikely]]
      return fail(std::move(a.error()));
    struct releaser {
      bulkhead* b;
      ~releaser() { b->release(); }
    } guard{this};
    return keel::try_call(f);
  }

  // Takes a slot without waiting; false when none is free.
  bool try_acquire() noexcept {
    std::uint32_t n = in_flight_.load(std::memory_order_relaxed);
    while (n < config_.max_concurrent) {
      if (in_flight_.compare_exchange_weak(n, n + 1, std::memory_order_seq_cst)) return true;
    }
    return false;
  }
  // Takes a slot, waiting as configured; BULKHEAD_FULL, CANCELLED or TIMEOUT.
  result<void> acquire() {
    if (try_acquire()) [[likely]]
      return ok();
    return acquire_slow();
  }
  // Gives a slot back; every successful acquire needs exactly one release.
  void release() noexcept {
    in_flight_.fetch_sub(1, std::memory_order_seq_cst);
    // seq_cst pairs with the waiter's increment of waiting_ then re-check of
    // in_flight_: one of the two sides always sees the other.
    if (waiting_.load(std::memory_order_seq_cst) > 0) [[unlikely]]
      wake_one();
  }

  std::uint32_t in_flight() const noexcept { return in_flight_.load(std::memory_order_relaxed); }
  std::uint32_t waiting() const noexcept { return waiting_.load(std::memory_order_relaxed); }
  std::uint64_t rejected() const noexcept { return rejected_.load(std::memory_order_relaxed); }
  const bulkhead_config& config() const noexcept { return config_; }
  const std::string& name() const noexcept { return config_.name; }

 private:
  result<void> acquire_slow();
  void wake_one() noexcept;
  keel::error reject(std::string_view reason, clock::duration waited);

  bulkhead_config config_;
  const clock& clock_;
  event_listener* listener_;
  alignas(64) std::atomic<std::uint32_t> in_flight_{0};
  std::atomic<std::uint32_t> waiting_{0};
  std::atomic<std::uint64_t> rejected_{0};
  std::mutex mu_;
  std::condition_variable cv_;
};

}  // namespace keel::resilience
