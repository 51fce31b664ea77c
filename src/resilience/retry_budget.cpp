#include "keel/resilience/retry_budget.hpp"

#include <cmath>

namespace keel::resilience {

result<void> retry_budget_config::validate() const {
  if (!std::isfinite(ratio) || ratio < 0 || ratio > 10) {
    return fail(codes::configuration_error, "retry_budget.ratio must be in [0, 10]");
  }
  if (!std::isfinite(min_retries_per_second) || min_retries_per_second < 0) {
    return fail(codes::configuration_error, "retry_budget.min_retries_per_second must be >= 0");
  }
  if (window < std::chrono::milliseconds(10) || window > std::chrono::hours(1)) {
    return fail(codes::configuration_error, "retry_budget.window must be in [10ms, 1h]");
  }
  return ok();
}

namespace {
retry_budget_config checked(retry_budget_config c) {
  if (auto v = c.validate(); !v) throw keel::exception(v.error());
  return c;
}
}  // namespace

retry_budget::retry_budget(retry_budget_config config, const clock& c)
    : config_(checked(config)),
      clock_(c),
      bucket_ns_(std::max<std::int64_t>(
          1, config_.window.count() / static_cast<std::int64_t>(kBuckets))) {}

std::int64_t retry_budget::epoch_now() const noexcept {
  return clock_.steady_now().time_since_epoch().count() / bucket_ns_;
}

retry_budget::bucket& retry_budget::current(std::int64_t epoch) noexcept {
  bucket& b = buckets_[static_cast<std::size_t>(epoch) % kBuckets];
  std::int64_t seen = b.epoch.load(std::memory_order_acquire);
  if (seen != epoch && seen < epoch &&
      b.epoch.compare_exchange_strong(seen, epoch, std::memory_order_acq_rel)) {
    // The winner recycles the bucket; an increment racing with this reset
    // may be lost, which the budget tolerates (it is an estimate).
    b.calls.store(0, std::memory_order_relaxed);
    b.retries.store(0, std::memory_order_relaxed);
  }
  return b;
}

void retry_budget::sum(std::int64_t epoch, std::uint64_t& calls,
                       std::uint64_t& retries) const noexcept {
  calls = 0;
  retries = 0;
  for (const bucket& b : buckets_) {
    const std::int64_t e = b.epoch.load(std::memory_order_acquire);
    if (e > epoch - static_cast<std::int64_t>(kBuckets) && e <= epoch) {
      calls += b.calls.load(std::memory_order_relaxed);
      retries += b.retries.load(std::memory_order_relaxed);
    }
  }
}

void retry_budget::record_call() noexcept {
  current(epoch_now()).calls.fetch_add(1, std::memory_order_relaxed);
}

bool retry_budget::try_acquire_retry() noexcept {
  const std::int64_t epoch = epoch_now();
  std::uint64_t calls = 0;
  std::uint64_t retries = 0;
  sum(epoch, calls, retries);
  const double window_s = std::chrono::duration<double>(config_.window).count();
  const double allowed =
      config_.min_retries_per_second * window_s + config_.ratio * static_cast<double>(calls);
  if (static_cast<double>(retries) + 1.0 > allowed) return false;
  current(epoch).retries.fetch_add(1, std::memory_order_relaxed);
  return true;
}

std::uint64_t retry_budget::calls_in_window() const noexcept {
  std::uint64_t c = 0;
  std::uint64_t r = 0;
  sum(epoch_now(), c, r);
  return c;
}

std::uint64_t retry_budget::retries_in_window() const noexcept {
  std::uint64_t c = 0;
  std::uint64_t r = 0;
  sum(epoch_now(), c, r);
  return r;
}

}  // namespace keel::resilience
