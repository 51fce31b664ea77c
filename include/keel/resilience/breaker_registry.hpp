// keel/resilience/breaker_registry.hpp
//
// breaker_registry holds one circuit breaker per downstream service, by name,
// so that every caller of "payments" shares one breaker and an admin endpoint
// can list and reset them.
//
//   auto& reg = keel::resilience::breakers();          // the process-wide one
//   auto b = reg.get_or_create("payments", {.minimum_calls = 20}).value();
//   for (const auto& s : reg.snapshots()) std::cout << to_json(s) << '\n';
//   reg.reset("payments");
//
// Names are 1..128 characters of [A-Za-z0-9._:-] (they reach metrics labels
// and URLs). The registry holds at most `max_breakers` (default 1000); a
// create beyond that is RESOURCE_EXHAUSTED, so hostile input that chooses
// names cannot grow it without bound.
//
// Thread safety: all member functions may be called concurrently. Lookups take
// a mutex: fetch a breaker once and keep the shared_ptr on hot paths.
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "keel/core/clock.hpp"
#include "keel/core/result.hpp"
#include "keel/resilience/circuit_breaker.hpp"

namespace keel::resilience {

// breaker_registry_config
//
// `defaults` is the config of breakers created by name only; `listener`, when
// set, is given to every breaker whose config has none (one metrics/log
// adapter for all of them).
struct breaker_registry_config {
  circuit_breaker_config defaults{};
  std::shared_ptr<event_listener> listener{};
  std::size_t max_breakers = 1000;
};

class breaker_registry {
 public:
  explicit breaker_registry(breaker_registry_config config = {}, const clock& c = clock::real());

  // The breaker named `name`, created from `config` (its name replaced by
  // `name`) if absent. An existing breaker is returned as it is: its config
  // is not changed.
  result<std::shared_ptr<circuit_breaker>> get_or_create(std::string_view name,
                                                         circuit_breaker_config config);
  // The same with the registry's defaults.
  result<std::shared_ptr<circuit_breaker>> get_or_create(std::string_view name);
  // nullptr when absent.
  std::shared_ptr<circuit_breaker> find(std::string_view name) const;
  // Snapshots of every breaker, by name.
  std::vector<breaker_snapshot> snapshots() const;
  std::vector<std::string> names() const;
  // RESOURCE_NOT_FOUND when absent.
  result<void> reset(std::string_view name);
  result<void> force_open(std::string_view name);
  result<void> disable(std::string_view name);
  // Drops the registry's reference; holders keep theirs.
  bool remove(std::string_view name);
  std::size_t size() const;

  static bool is_valid_name(std::string_view name) noexcept;

 private:
  breaker_registry_config config_;
  const clock& clock_;
  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<circuit_breaker>, std::less<>> breakers_;
};

// The process-wide registry (real clock, default config).
breaker_registry& breakers();

}  // namespace keel::resilience
