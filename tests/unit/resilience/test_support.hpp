// Helpers shared by the resilience tests.
#pragma once

#include <functional>
#include <vector>

#include "keel/core/clock.hpp"
#include "keel/core/result.hpp"

namespace keel::resilience::testing {

// A manual clock that runs a hook when something sleeps on it, so a test can
// act "during" a wait (cancel it, move time further).
class hook_clock final : public clock {
 public:
  steady_time steady_now() const noexcept override { return inner_.steady_now(); }
  system_time system_now() const noexcept override { return inner_.system_now(); }
  void sleep_for(duration d) const override {
    if (on_sleep) on_sleep(d);
    inner_.sleep_for(d);
  }
  void advance(duration d) noexcept { inner_.advance(d); }
  const manual_clock& inner() const noexcept { return inner_; }

  std::function<void(duration)> on_sleep;

 private:
  manual_clock inner_;
};

// A callable that fails with the given codes in turn, then returns `value`.
struct scripted {
  std::vector<const error_code*> failures;
  int value = 42;
  int calls = 0;
  result<int> operator()() {
    const auto i = static_cast<std::size_t>(calls++);
    if (i < failures.size()) return fail(*failures[i], "scripted failure");
    return value;
  }
};

}  // namespace keel::resilience::testing
