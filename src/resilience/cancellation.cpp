#include "keel/resilience/cancellation.hpp"

#include <string>

namespace keel::resilience {

void cancellation_source::cancel() noexcept {
  {
    // Taking the lock orders the store before a waiter's predicate check,
    // so a waiter cannot miss the notification between check and sleep.
    std::lock_guard lock(mu_);
    cancelled_.store(true, std::memory_order_release);
  }
  cv_.notify_all();
}

bool cancellation_source::wait_for(const clock& c, clock::duration d) const {
  if (cancelled()) return false;
  if (d <= clock::duration::zero()) return true;
  if (&c == &clock::real()) {
    std::unique_lock lock(mu_);
    return !cv_.wait_for(lock, d, [&] { return cancelled_.load(std::memory_order_acquire); });
  }
  c.sleep_for(d);
  return !cancelled();
}

namespace detail {
const call_frame*& current_frame() noexcept {
  thread_local const call_frame* frame = nullptr;
  return frame;
}
}  // namespace detail

deadline_scope::deadline_scope(clock::steady_time deadline) noexcept {
  const detail::call_frame* parent = detail::current_frame();
  frame_.parent = parent;
  frame_.deadline = parent != nullptr && parent->deadline < deadline ? parent->deadline : deadline;
  frame_.source = nullptr;
  detail::current_frame() = &frame_;
}

deadline_scope::~deadline_scope() { detail::current_frame() = frame_.parent; }

cancellation_scope::cancellation_scope(const cancellation_source& source) noexcept {
  const detail::call_frame* parent = detail::current_frame();
  frame_.parent = parent;
  frame_.deadline = parent != nullptr ? parent->deadline : clock::steady_time::max();
  frame_.source = &source;
  detail::current_frame() = &frame_;
}

cancellation_scope::~cancellation_scope() { detail::current_frame() = frame_.parent; }

namespace this_call {

clock::duration remaining(const clock& c) noexcept {
  const auto d = deadline();
  if (d == clock::steady_time::max()) return clock::duration::max();
  const auto now = c.steady_now();
  return d > now ? std::chrono::duration_cast<clock::duration>(d - now) : clock::duration::zero();
}

bool cancelled() noexcept {
  for (const detail::call_frame* f = detail::current_frame(); f != nullptr; f = f->parent) {
    if (f->source != nullptr && f->source->cancelled()) return true;
  }
  return false;
}

result<void> check(const clock& c) {
  if (cancelled()) return fail(codes::cancelled, "the call was cancelled");
  if (has_deadline() && c.steady_now() >= deadline()) {
    return fail(codes::timeout, "the call's deadline has passed");
  }
  return ok();
}

result<void> wait_for(const clock& c, clock::duration d) {
  const auto left = remaining(c);
  const bool cut = left < d;
  const auto wait = cut ? left : d;
  const cancellation_source* innermost = nullptr;
  for (const detail::call_frame* f = detail::current_frame(); f != nullptr; f = f->parent) {
    if (f->source != nullptr) {
      innermost = f->source;
      break;
    }
  }
  if (innermost != nullptr) {
    innermost->wait_for(c, wait);
  } else {
    c.sleep_for(wait);
  }
  if (cancelled()) return fail(codes::cancelled, "the call was cancelled while waiting");
  if (cut) return fail(codes::timeout, "the call's deadline passed while waiting");
  return ok();
}

}  // namespace this_call
}  // namespace keel::resilience
