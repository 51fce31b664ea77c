// keel/resilience/hedging.hpp
//
// hedging cuts tail latency: when a call has not succeeded after `delay`, a
// second (hedged) attempt starts alongside it; the first success wins and the
// other attempt is cancelled. Use it only for idempotent calls (reads,
// idempotent writes): both attempts may reach the dependency.
//
//   keel::resilience::hedging fast_reads({.name = "catalog", .delay = 50ms});
//   auto item = co_await keel::resilience::co_call(fast_reads, [&] { return catalog.async_get(id);
//   });
//
// Hedging runs from Asio coroutines (asio.hpp), where the losing attempt is
// cancelled for real; in synchronous code a hedge would need a second thread
// per call and an attempt that cannot be stopped, so it is not offered there.
// The hedge starts after `delay` even when the first attempt has already
// failed (the call then waits for the hedge's outcome); when both fail the
// first attempt's error is returned.
//
// Thread safety: a hedging policy may be shared by any number of coroutines.
// Cost: two coroutine frames and a timer per call.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "keel/core/clock.hpp"
#include "keel/core/result.hpp"
#include "keel/resilience/events.hpp"

namespace keel::resilience {

// hedging_config — default: hedge after 100 ms.
struct hedging_config {
  std::string name{};
  clock::duration delay = std::chrono::milliseconds(100);  // (0, 1h]
  std::shared_ptr<event_listener> listener{};

  result<void> validate() const;
};

class hedging {
 public:
  // Throws keel::exception (CONFIGURATION_ERROR) when config is not valid.
  explicit hedging(hedging_config config = {});

  const hedging_config& config() const noexcept { return config_; }
  const std::string& name() const noexcept { return config_.name; }

 private:
  hedging_config config_;
};

}  // namespace keel::resilience
