// keel/resilience/timeout.hpp
//
// Two ways to bound how long a call may take (Polly's optimistic and
// pessimistic timeouts).
//
// timeout (cooperative). The call runs on the calling thread under a
// deadline_scope: the deadline travels with it, the callable and its I/O
// read it (this_call::remaining, this_call::check), nested policies never
// wait past it, and nested timeouts can only shorten it. When the call
// returns after its deadline the result becomes TIMEOUT (a late success too,
// unless discard_late_success is false): the caller asked for an answer by
// then, and code built on the answer must not proceed as if it were in time.
// It cannot interrupt code that ignores the deadline: it bounds what the
// caller sees, not what the callee does.
//
//   keel::resilience::timeout per_attempt({.name = "payments", .timeout = 2s});
//   auto r = per_attempt.call([&] {
//     return http.post(url, body, keel::resilience::this_call::remaining(clock));
//   });
//
// preemptive_timeout. For synchronous code that cannot cooperate: the call
// runs on a supplied executor and the caller gets TIMEOUT at the deadline
// whether or not the call has finished. The abandoned work is NOT stopped —
// C++ cannot safely kill a thread — it keeps running on the executor's thread
// until it returns on its own, its result is dropped, and its cancellation
// source is cancelled so that any this_call::check() inside it fails. It keeps
// holding that executor thread meanwhile: size the executor for the abandoned
// calls you can have, and never let the callable capture references to the
// caller's stack (capture by value; the callable is moved to the executor).
// For Asio coroutines, asio.hpp cancels the operation for real.
//
//   keel::resilience::thread_pool pool({.threads = 4, .max_queue = 64});
//   keel::resilience::preemptive_timeout legacy({.name = "legacy-dll", .timeout = 500ms}, pool);
//   auto r = legacy.call([order] { return legacy_api_blocking_charge(order); });
//
// Thread safety: both may be used by any number of threads at once.
// Cost: timeout: two clock reads and two thread-local stores, no allocation.
// preemptive_timeout: one allocation, a hand-off to another thread and a
// condition-variable wait per call.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "keel/core/clock.hpp"
#include "keel/core/context.hpp"
#include "keel/core/result.hpp"
#include "keel/resilience/cancellation.hpp"
#include "keel/resilience/events.hpp"

namespace keel::resilience {

// timeout_config
//
// Default: 1 s (resilience4j's TimeLimiter default).
struct timeout_config {
  std::string name{};
  clock::duration timeout = std::chrono::seconds(1);
  // Cooperative only: return a success that arrived after the deadline
  // instead of TIMEOUT.
  bool discard_late_success = true;
  std::shared_ptr<event_listener> listener{};

  result<void> validate() const;
};

namespace detail {
keel::error timeout_error(const timeout_config& c, std::string_view mode);
void publish_timeout(const timeout_config& c, const clock& k, std::string_view mode,
                     clock::duration elapsed) noexcept;
}  // namespace detail

// timeout — cooperative.
class timeout {
 public:
  // Throws keel::exception (CONFIGURATION_ERROR) when config is not valid.
  explicit timeout(timeout_config config = {}, const clock& c = clock::real());

  template <class F>
  auto call(F&& f) -> decltype(keel::try_call(f)) {
    const clock::steady_time start = clock_.steady_now();
    const clock::steady_time own = start + config_.timeout;
    if (this_call::deadline() <= start) [[unlikely]] {
      // An enclosing deadline has already passed: the call cannot be in time.
      detail::publish_timeout(config_, clock_, "expired_before_call", {});
      return fail(detail::timeout_error(config_, "cooperative"));
    }
    deadline_scope scope(own);
    auto r = keel::try_call(f);
    const clock::steady_time end = clock_.steady_now();
    // Only this policy's own deadline is its business; an earlier enclosing
    // one is turned into TIMEOUT by the policy that set it.
    if (end >= own && (end > own || !r.has_value())) [[unlikely]] {
      if (r.has_value() && !config_.discard_late_success) return r;
      detail::publish_timeout(config_, clock_, "cooperative", end - start);
      keel::error e = detail::timeout_error(config_, "cooperative");
      if (!r.has_value()) e.with_cause(std::move(r.error()));
      return fail(std::move(e));
    }
    return r;
  }

  const std::string& name() const noexcept { return config_.name; }
  const timeout_config& config() const noexcept { return config_; }

 private:
  timeout_config config_;
  const clock& clock_;
};

// executor
//
// Where preemptive work runs. try_post returns false when the task cannot be
// accepted (queue full, shutting down); the task is then not run.
class executor {
 public:
  virtual ~executor() = default;
  virtual bool try_post(std::function<void()> task) noexcept = 0;
};

// thread_pool — a fixed set of threads with a bounded queue.
struct thread_pool_config {
  std::size_t threads = 4;      // 1..1024
  std::size_t max_queue = 256;  // tasks waiting for a thread
};

class thread_pool final : public executor {
 public:
  explicit thread_pool(thread_pool_config config = {});
  // Runs the queued tasks to the end, then joins.
  ~thread_pool() override;
  bool try_post(std::function<void()> task) noexcept override;

 private:
  void work();
  thread_pool_config config_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

// preemptive_timeout — see the banner for what happens to abandoned work.
class preemptive_timeout {
 public:
  // Throws keel::exception (CONFIGURATION_ERROR) when config is not valid.
  preemptive_timeout(timeout_config config, executor& ex, const clock& c = clock::real());

  template <class F>
  auto call(F f) -> decltype(keel::try_call(f));

  const std::string& name() const noexcept { return config_.name; }

 private:
  // Waits for `done()` until `deadline` on this policy's clock; false on
  // timeout or cancellation.
  bool wait_until(std::unique_lock<std::mutex>& lock, std::condition_variable& cv,
                  clock::steady_time deadline, const std::function<bool()>& done) const;

  timeout_config config_;
  executor& executor_;
  const clock& clock_;
};

template <class F>
auto preemptive_timeout::call(F f) -> decltype(keel::try_call(f)) {
  using R = decltype(keel::try_call(f));
  struct shared {
    std::mutex mu;
    std::condition_variable cv;
    std::optional<R> out;
    cancellation_source cancel;
  };
  const clock::steady_time start = clock_.steady_now();
  const clock::steady_time deadline = std::min(start + config_.timeout, this_call::deadline());
  if (deadline <= start) {
    detail::publish_timeout(config_, clock_, "expired_before_call", {});
    return fail(detail::timeout_error(config_, "preemptive"));
  }
  auto st = std::make_shared<shared>();
  const bool posted = executor_.try_post(
      [st, deadline, ctx = keel::capture_context(), fn = std::move(f)]() mutable {
        keel::context_scope context(ctx);
        cancellation_scope cs(st->cancel);
        deadline_scope ds(deadline);
        R r = keel::try_call(fn);
        {
          std::lock_guard lock(st->mu);
          st->out.emplace(std::move(r));
        }
        st->cv.notify_all();
      });
  if (!posted) {
    return fail(keel::error(codes::bulkhead_full, "the timeout's executor is full")
                    .with_detail("timeout", config_.name));
  }
  std::unique_lock lock(st->mu);
  if (wait_until(lock, st->cv, deadline, [&] { return st->out.has_value(); })) {
    return std::move(*st->out);
  }
  lock.unlock();
  st->cancel.cancel();  // tell the abandoned work, if it listens
  if (this_call::cancelled()) return fail(codes::cancelled, "the call was cancelled");
  detail::publish_timeout(config_, clock_, "preemptive", clock_.steady_now() - start);
  return fail(detail::timeout_error(config_, "preemptive"));
}

}  // namespace keel::resilience
