// keel/resilience/cancellation.hpp
//
// The deadline and cancellation state of the call a thread is running. A
// cooperative timeout (timeout.hpp) does not move the work to another thread:
// it publishes a deadline that travels with the call, and the callable, its
// I/O and every nested policy read it here. Nested deadlines only ever
// shorten: an inner scope can never extend what an outer one allows.
//
//   keel::resilience::cancellation_source stop;            // e.g. client went away
//   keel::resilience::cancellation_scope cs(stop);
//   keel::resilience::deadline_scope ds(clock, clock.steady_now() + 2s);
//   ...
//   // deep inside the call:
//   if (auto r = keel::resilience::this_call::check(clock); !r) return keel::fail(r.error());
//   socket.set_timeout(keel::resilience::this_call::remaining(clock));
//
// Scopes live on the stack and are strictly nested (RAII), like
// keel::context_scope; do not let one span a co_await (asio.hpp carries
// deadlines into coroutines instead). A backoff or latency wait made through
// this_call::wait_for() returns early when the call is cancelled (on the real
// clock) and never waits past the deadline.
//
// Thread safety: the scopes are per thread. cancellation_source::cancel() may
// be called from any thread.
// Cost: a scope is two thread-local stores; reading the deadline is one load.
#pragma once

#include <atomic>
#include <condition_variable>
#include <mutex>

#include "keel/core/clock.hpp"
#include "keel/core/result.hpp"

namespace keel::resilience {

// cancellation_source
//
// A cancellation flag that waits can be woken by. Not copyable: a source
// lives where the decision to cancel is made and must outlive every scope
// and token referring to it.
class cancellation_source {
 public:
  cancellation_source() = default;
  cancellation_source(const cancellation_source&) = delete;
  cancellation_source& operator=(const cancellation_source&) = delete;

  // Requests cancellation; wakes every wait_for() on this source. Idempotent.
  void cancel() noexcept;
  bool cancelled() const noexcept { return cancelled_.load(std::memory_order_acquire); }

  // Waits `d` on `c`. On the real clock the wait ends early when cancel() is
  // called; any other clock sleeps through c.sleep_for() (a manual clock
  // advances) and the flag is checked afterwards. True when the whole wait
  // passed without cancellation.
  bool wait_for(const clock& c, clock::duration d) const;

 private:
  std::atomic<bool> cancelled_{false};
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
};

namespace detail {
// One level of the per-thread call state; frames form a stack on the stack.
struct call_frame {
  clock::steady_time deadline = clock::steady_time::max();
  const cancellation_source* source = nullptr;
  const call_frame* parent = nullptr;
};
const call_frame*& current_frame() noexcept;
}  // namespace detail

// deadline_scope
//
// Makes `deadline` (or the enclosing deadline, if earlier) the current one on
// this thread until the scope ends.
class deadline_scope {
 public:
  explicit deadline_scope(clock::steady_time deadline) noexcept;
  ~deadline_scope();
  deadline_scope(const deadline_scope&) = delete;
  deadline_scope& operator=(const deadline_scope&) = delete;

 private:
  detail::call_frame frame_;
};

// cancellation_scope
//
// Makes `source` cancel the current call on this thread (in addition to any
// enclosing source) until the scope ends.
class cancellation_scope {
 public:
  explicit cancellation_scope(const cancellation_source& source) noexcept;
  ~cancellation_scope();
  cancellation_scope(const cancellation_scope&) = delete;
  cancellation_scope& operator=(const cancellation_scope&) = delete;

 private:
  detail::call_frame frame_;
};

namespace this_call {

// The current deadline; steady_time::max() when there is none.
inline clock::steady_time deadline() noexcept {
  const detail::call_frame* f = detail::current_frame();
  return f != nullptr ? f->deadline : clock::steady_time::max();
}
inline bool has_deadline() noexcept { return deadline() != clock::steady_time::max(); }

// Time left before the deadline (zero when passed, duration::max() when none).
clock::duration remaining(const clock& c) noexcept;

// True when any enclosing cancellation source was cancelled.
bool cancelled() noexcept;

// CANCELLED when cancelled, TIMEOUT when the deadline has passed, else ok.
result<void> check(const clock& c);

// Waits `d` (cut to the deadline), returning early on cancellation (see
// cancellation_source::wait_for). ok when the whole of `d` passed; CANCELLED
// or TIMEOUT otherwise.
result<void> wait_for(const clock& c, clock::duration d);

}  // namespace this_call

}  // namespace keel::resilience
