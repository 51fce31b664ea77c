#include "keel/resilience/timeout.hpp"

#include <algorithm>

namespace keel::resilience {

result<void> timeout_config::validate() const {
  if (name.size() > 128) return fail(codes::configuration_error, "timeout.name is longer than 128");
  if (timeout <= clock::duration::zero() || timeout > std::chrono::hours(24)) {
    return fail(codes::configuration_error, "timeout.timeout must be in (0, 24h]");
  }
  return ok();
}

namespace {
timeout_config checked(timeout_config c) {
  if (auto v = c.validate(); !v) throw keel::exception(v.error());
  return c;
}
}  // namespace

namespace detail {
keel::error timeout_error(const timeout_config& c, std::string_view mode) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(c.timeout).count();
  return keel::error(codes::timeout,
                     "'" + c.name + "' did not complete within " + std::to_string(ms) + " ms")
      .with_detail("timeout", c.name)
      .with_detail("timeout_ms", ms)
      .with_detail("mode", std::string(mode));
}

void publish_timeout(const timeout_config& c, const clock& k, std::string_view mode,
                     clock::duration elapsed) noexcept {
  publish(c.listener.get(), {.kind = event_kind::timeout,
                             .name = c.name,
                             .at = k.steady_now(),
                             .delay = c.timeout,
                             .elapsed = elapsed,
                             .reason = mode});
}
}  // namespace detail

timeout::timeout(timeout_config config, const clock& c)
    : config_(checked(std::move(config))), clock_(c) {}

thread_pool::thread_pool(thread_pool_config config) : config_(config) {
  config_.threads = std::clamp<std::size_t>(config_.threads, 1, 1024);
  threads_.reserve(config_.threads);
  for (std::size_t i = 0; i < config_.threads; ++i)
    threads_.emplace_back([this] { work(); });
}

thread_pool::~thread_pool() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_)
    t.join();
}

bool thread_pool::try_post(std::function<void()> task) noexcept {
  try {
    {
      std::lock_guard lock(mu_);
      if (stopping_ || queue_.size() >= config_.max_queue) return false;
      queue_.push_back(std::move(task));
    }
    cv_.notify_one();
    return true;
  } catch (...) {
    return false;
  }
}

void thread_pool::work() {
  for (;;) {
    std::function<void()> task;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;
      task = std::move(queue_.front());
      queue_.pop_front();
    }
    task();
  }
}

preemptive_timeout::preemptive_timeout(timeout_config config, executor& ex, const clock& c)
    : config_(checked(std::move(config))), executor_(ex), clock_(c) {}

bool preemptive_timeout::wait_until(std::unique_lock<std::mutex>& lock, std::condition_variable& cv,
                                    clock::steady_time deadline,
                                    const std::function<bool()>& done) const {
  const bool real = &clock_ == &clock::real();
  for (;;) {
    if (done()) return true;
    if (this_call::cancelled()) return false;
    const auto now = clock_.steady_now();
    if (now >= deadline) return false;
    if (real) {
      // Sliced so that the caller's cancellation is seen within 50 ms.
      cv.wait_until(lock, std::min(deadline, now + std::chrono::milliseconds(50)));
    } else {
      // Another clock's time moves only when a test moves it: poll briefly.
      cv.wait_for(lock, std::chrono::milliseconds(1));
    }
  }
}

}  // namespace keel::resilience
