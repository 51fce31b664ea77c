// keel/resilience/fault_injection.hpp
//
// fault_injection rehearses failure (Polly v8's chaos strategies): at a
// configured rate it adds latency before a call, replaces the call by an
// error, or (outcome_injection<T>) by a given outcome. Rates and the on/off
// switch change at runtime, so a service can run a chaos drill in production
// and switch it off from its admin API.
//
//   keel::resilience::fault_injection chaos({.name = "payments-chaos", .enabled = false,
//                                            .error_rate = 0.1,
//                                            .error = &keel::codes::service_unavailable,
//                                            .latency_rate = 0.2, .latency = 800ms});
//   chaos.set_enabled(true);                         // drill on
//   auto r = chaos.call([&] { return gateway.charge(order); });
//
// Injected errors carry the detail "injected": true, so they are told apart
// from real ones in logs. Injected latency is waited with this_call::wait_for:
// it honours the call's deadline and cancellation (a latency longer than the
// deadline ends in TIMEOUT, which is the point of the drill).
//
// Thread safety: all member functions may be called concurrently, if the
// random_source is thread-safe (the default).
// Cost when disabled: one relaxed load.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>

#include "keel/core/clock.hpp"
#include "keel/core/error_code.hpp"
#include "keel/core/random.hpp"
#include "keel/core/result.hpp"
#include "keel/resilience/cancellation.hpp"
#include "keel/resilience/events.hpp"

namespace keel::resilience {

// fault_injection_config
//
// Rates are in [0, 1]; the latency roll comes first, then the error roll.
struct fault_injection_config {
  std::string name{};
  bool enabled = true;
  double error_rate = 0;
  // A code with static storage (keel::codes or an application's constexpr
  // code): errors keep a pointer to it.
  const error_code* error = &codes::service_unavailable;
  double latency_rate = 0;
  clock::duration latency{0};
  std::shared_ptr<event_listener> listener{};

  result<void> validate() const;
};

class fault_injection {
 public:
  // Throws keel::exception (CONFIGURATION_ERROR) when config is not valid.
  explicit fault_injection(fault_injection_config config = {}, const clock& c = clock::real(),
                           random_source& rng = random_source::thread_safe());

  template <class F>
  auto call(F&& f) -> decltype(keel::try_call(f)) {
    if (enabled_.load(std::memory_order_relaxed)) {
      if (auto injected = inject(); !injected) return fail(std::move(injected.error()));
    }
    return keel::try_call(f);
  }

  void set_enabled(bool on) noexcept { enabled_.store(on, std::memory_order_relaxed); }
  bool enabled() const noexcept { return enabled_.load(std::memory_order_relaxed); }
  // Clamped to [0, 1].
  void set_error_rate(double r) noexcept;
  void set_latency(double rate, clock::duration latency) noexcept;
  const std::string& name() const noexcept { return config_.name; }

  // The fault part of call(): waits the injected latency and returns the
  // injected error, if the dice say so.
  result<void> inject();

 private:
  fault_injection_config config_;
  const clock& clock_;
  random_source& rng_;
  event_listener* listener_;
  std::atomic<bool> enabled_;
  std::atomic<double> error_rate_;
  std::atomic<double> latency_rate_;
  std::atomic<std::int64_t> latency_ns_;
};

// outcome_injection
//
// Replaces the call by `outcome` (a value or an error) at `rate`.
template <class T>
class outcome_injection {
 public:
  outcome_injection(std::string name, result<T> outcome, double rate,
                    std::shared_ptr<event_listener> listener = {}, const clock& c = clock::real(),
                    random_source& rng = random_source::thread_safe())
      : name_(std::move(name)),
        outcome_(std::move(outcome)),
        rate_(rate),
        listener_(std::move(listener)),
        clock_(c),
        rng_(rng) {}

  template <class F>
  result<T> call(F&& f) {
    if (enabled_.load(std::memory_order_relaxed) &&
        rng_.next_double() < rate_.load(std::memory_order_relaxed)) {
      detail::publish(listener_.get(), {.kind = event_kind::fault_injected,
                                        .name = name_,
                                        .at = clock_.steady_now(),
                                        .reason = "outcome"});
      return outcome_;
    }
    return keel::try_call(f);
  }

  void set_enabled(bool on) noexcept { enabled_.store(on, std::memory_order_relaxed); }
  void set_rate(double r) noexcept { rate_.store(r, std::memory_order_relaxed); }

 private:
  std::string name_;
  result<T> outcome_;
  std::atomic<double> rate_;
  std::atomic<bool> enabled_{true};
  std::shared_ptr<event_listener> listener_;
  const clock& clock_;
  random_source& rng_;
};

}  // namespace keel::resilience
