#include "keel/resilience/fault_injection.hpp"

#include <algorithm>
#include <cmath>

namespace keel::resilience {
namespace {
bool rate_ok(double r) noexcept { return std::isfinite(r) && r >= 0 && r <= 1; }
double clamp01(double r) noexcept { return std::isfinite(r) ? std::clamp(r, 0.0, 1.0) : 0.0; }

fault_injection_config checked(fault_injection_config c) {
  if (auto v = c.validate(); !v) throw keel::exception(v.error());
  return c;
}
}  // namespace

result<void> fault_injection_config::validate() const {
  if (name.size() > 128)
    return fail(codes::configuration_error, "fault_injection.name is longer than 128");
  if (!rate_ok(error_rate) || !rate_ok(latency_rate)) {
    return fail(codes::configuration_error, "fault_injection rates must be in [0, 1]");
  }
  if (latency < clock::duration::zero() || latency > std::chrono::hours(1)) {
    return fail(codes::configuration_error, "fault_injection.latency must be in [0, 1h]");
  }
  if (error == nullptr || !is_valid_code_name(error->name)) {
    return fail(codes::configuration_error, "fault_injection.error must be a valid code");
  }
  return ok();
}

fault_injection::fault_injection(fault_injection_config config, const clock& c, random_source& rng)
    : config_(checked(std::move(config))),
      clock_(c),
      rng_(rng),
      listener_(config_.listener.get()),
      enabled_(config_.enabled),
      error_rate_(config_.error_rate),
      latency_rate_(config_.latency_rate),
      latency_ns_(config_.latency.count()) {}

void fault_injection::set_error_rate(double r) noexcept {
  error_rate_.store(clamp01(r), std::memory_order_relaxed);
}

void fault_injection::set_latency(double rate, clock::duration latency) noexcept {
  const std::int64_t cap = std::chrono::nanoseconds(std::chrono::hours(1)).count();
  latency_ns_.store(std::clamp<std::int64_t>(latency.count(), 0, cap), std::memory_order_relaxed);
  latency_rate_.store(clamp01(rate), std::memory_order_relaxed);
}

result<void> fault_injection::inject() {
  const double lr = latency_rate_.load(std::memory_order_relaxed);
  if (lr > 0 && rng_.next_double() < lr) {
    const clock::duration d(latency_ns_.load(std::memory_order_relaxed));
    detail::publish(listener_, {.kind = event_kind::fault_injected,
                                .name = config_.name,
                                .at = clock_.steady_now(),
                                .delay = d,
                                .reason = "latency"});
    if (auto w = this_call::wait_for(clock_, d); !w) return w;
  }
  const double er = error_rate_.load(std::memory_order_relaxed);
  if (er > 0 && rng_.next_double() < er) {
    keel::error e = keel::error(*config_.error, "fault injected by '" + config_.name + "'")
                        .with_detail("injected", true);
    detail::publish(listener_, {.kind = event_kind::fault_injected,
                                .name = config_.name,
                                .at = clock_.steady_now(),
                                .error = &e,
                                .reason = "error"});
    return fail(std::move(e));
  }
  return ok();
}

}  // namespace keel::resilience
