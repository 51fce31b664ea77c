// keel/resilience/fallback.hpp
//
// fallback replaces a failure by something the caller can live with: a fixed
// value, the result of a function of the error (a cache, a secondary
// provider, a queued-for-later receipt), or the last good result this policy
// saw. Which failures it replaces is decided by a predicate on the error.
//
//   auto quote = keel::resilience::fallback<price>::value(price::unknown(), {.name = "pricing"});
//   auto pay = keel::resilience::fallback<receipt>::function(
//       [&](const keel::error& e) { return outbox.queue_charge(order, e); }, {.name = "payments"});
//   auto rates = keel::resilience::fallback<fx_table>::last_good({.name = "fx"});
//   keel::result<price> p = quote.call([&] { return pricing.get(sku); });
//
// By default it replaces errors of category transient or systemic (the
// dependency failed), never permanent or business errors (the request was
// wrong: a fallback would hide it). With last_good and nothing seen yet, the
// original error is returned.
//
// Thread safety: all member functions may be called concurrently.
// Cost: value/function: nothing on success. last_good: a mutex and a copy of
// the value on every success (keep it for values that are cheap to copy).
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

#include "keel/core/clock.hpp"
#include "keel/core/result.hpp"
#include "keel/resilience/events.hpp"

namespace keel::resilience {

// True for errors of category transient or systemic.
bool default_fallback_predicate(const keel::error& e) noexcept;

struct fallback_config {
  std::string name{};
  // Which errors to replace; empty: default_fallback_predicate.
  std::function<bool(const keel::error&)> handle{};
  std::shared_ptr<event_listener> listener{};
};

template <class T>
class fallback {
  static_assert(!std::is_void_v<T>, "a fallback supplies a value");

 public:
  using function_type = std::function<result<T>(const keel::error&)>;

  static fallback value(T v, fallback_config config = {}, const clock& c = clock::real()) {
    return fallback(std::move(config), c, mode::value, std::move(v), {});
  }
  static fallback function(function_type fn, fallback_config config = {},
                           const clock& c = clock::real()) {
    return fallback(std::move(config), c, mode::function, std::nullopt, std::move(fn));
  }
  static fallback last_good(fallback_config config = {}, const clock& c = clock::real()) {
    return fallback(std::move(config), c, mode::last_good, std::nullopt, {});
  }

  fallback(fallback&& o) noexcept
      : config_(std::move(o.config_)),
        clock_(o.clock_),
        mode_(o.mode_),
        value_(std::move(o.value_)),
        fn_(std::move(o.fn_)),
        state_(std::move(o.state_)) {}

  template <class F>
  result<T> call(F&& f) {
    return recover(keel::try_call(f));
  }

  // The policy applied to an outcome already in hand (asio.hpp uses it):
  // remembers a success, replaces a failure the predicate accepts.
  result<T> recover(result<T> r) {
    if (r.has_value()) [[likely]] {
      if (mode_ == mode::last_good) {
        std::lock_guard lock(state_->mu);
        state_->last = *r;
      }
      return r;
    }
    const keel::error& e = r.error();
    if (!(config_.handle ? config_.handle(e) : default_fallback_predicate(e))) return r;
    std::optional<result<T>> replacement;
    switch (mode_) {
      case mode::value:
        replacement.emplace(*value_);
        break;
      case mode::function:
        replacement.emplace(keel::try_call([&] { return fn_(e); }));
        break;
      case mode::last_good: {
        std::lock_guard lock(state_->mu);
        if (state_->last) replacement.emplace(*state_->last);
        break;
      }
    }
    if (!replacement) return r;
    detail::publish(config_.listener.get(), {.kind = event_kind::fallback_used,
                                             .name = config_.name,
                                             .at = clock_.steady_now(),
                                             .error = &e});
    return std::move(*replacement);
  }

  const std::string& name() const noexcept { return config_.name; }

 private:
  enum class mode { value, function, last_good };
  struct state {
    std::mutex mu;
    std::optional<T> last;
  };
  fallback(fallback_config config, const clock& c, mode m, std::optional<T> v, function_type fn)
      : config_(std::move(config)),
        clock_(c),
        mode_(m),
        value_(std::move(v)),
        fn_(std::move(fn)),
        state_(std::make_unique<state>()) {}

  fallback_config config_;
  const clock& clock_;
  mode mode_;
  std::optional<T> value_;
  function_type fn_;
  std::unique_ptr<state> state_;
};

}  // namespace keel::resilience
