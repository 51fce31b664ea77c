#include "keel/resilience/bulkhead.hpp"

#include <algorithm>

#include "keel/resilience/cancellation.hpp"

namespace keel::resilience {

result<void> bulkhead_config::validate() const {
  if (name.size() > 128)
    return fail(codes::configuration_error, "bulkhead.name is longer than 128");
  if (max_concurrent < 1 || max_concurrent > 100'000) {
    return fail(codes::configuration_error, "bulkhead.max_concurrent must be in [1, 100000]");
  }
  if (max_queue > 100'000) {
    return fail(codes::configuration_error, "bulkhead.max_queue must be in [0, 100000]");
  }
  if (max_wait < clock::duration::zero() || max_wait > std::chrono::hours(1)) {
    return fail(codes::configuration_error, "bulkhead.max_wait must be in [0, 1h]");
  }
  return ok();
}

namespace {
bulkhead_config checked(bulkhead_config c) {
  if (auto v = c.validate(); !v) throw keel::exception(v.error());
  return c;
}
}  // namespace

bulkhead::bulkhead(bulkhead_config config, const clock& c)
    : config_(checked(std::move(config))), clock_(c), listener_(config_.listener.get()) {}

result<std::unique_ptr<bulkhead>> bulkhead::create(bulkhead_config config, const clock& c) {
  if (auto v = config.validate(); !v) return fail(v.error());
  return std::make_unique<bulkhead>(std::move(config), c);
}

keel::error bulkhead::reject(std::string_view reason, clock::duration waited) {
  rejected_.fetch_add(1, std::memory_order_relaxed);
  detail::publish(listener_, {.kind = event_kind::bulkhead_rejected,
                              .name = config_.name,
                              .at = clock_.steady_now(),
                              .delay = waited,
                              .reason = reason});
  return keel::error(codes::bulkhead_full, "bulkhead '" + config_.name + "' is full")
      .with_detail("bulkhead", config_.name)
      .with_detail("max_concurrent", config_.max_concurrent)
      .with_detail("reason", std::string(reason));
}

void bulkhead::wake_one() noexcept {
  std::lock_guard lock(mu_);
  cv_.notify_one();
}

result<void> bulkhead::acquire_slow() {
  if (config_.max_wait <= clock::duration::zero() || config_.max_queue == 0) {
    return fail(reject("full", {}));
  }
  const auto start = clock_.steady_now();
  const auto deadline = std::min(start + config_.max_wait, this_call::deadline());
  const bool real = &clock_ == &clock::real();
  std::unique_lock lock(mu_);
  if (waiting_.load(std::memory_order_relaxed) >= config_.max_queue) {
    lock.unlock();
    return fail(reject("queue_full", {}));
  }
  waiting_.fetch_add(1, std::memory_order_seq_cst);
  struct leave {
    std::atomic<std::uint32_t>& w;
    ~leave() { w.fetch_sub(1, std::memory_order_seq_cst); }
  } on_exit{waiting_};
  for (;;) {
    if (try_acquire()) return ok();
    if (this_call::cancelled())
      return fail(codes::cancelled, "cancelled while waiting for a bulkhead slot");
    const auto now = clock_.steady_now();
    if (now >= deadline) {
      lock.unlock();
      return fail(reject("wait_expired", now - start));
    }
    if (real) {
      // Sliced so that a cancellation is seen within 50 ms.
      cv_.wait_until(lock, std::min(deadline, now + std::chrono::milliseconds(50)));
    } else {
      // Another clock's time moves only when a test moves it: poll briefly.
      cv_.wait_for(lock, std::chrono::milliseconds(1));
    }
  }
}

}  // namespace keel::resilience
