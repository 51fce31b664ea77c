// keel/health/check.hpp
//
// A health check is a function that looks at one component (the process, a
// database, a downstream API, a disk) and says pass, warn or fail, with an
// optional observed value. check_options says how the registry
// (registry.hpp) runs it: its timeout, whether its failure is critical, and
// which probes (liveness, readiness, startup) include it.
//
//   keel::health::check_fn queue_depth = [&](const keel::health::check_context&) {
//     const auto depth = queue.size();
//     if (depth > 10'000) return keel::health::check_result::warn("queue backing up", depth);
//     return keel::health::check_result::pass(static_cast<double>(depth), "jobs");
//   };
//
// A check should honour ctx.timeout (pass it to the client library it calls);
// the registry reports a check that overruns as failed at its timeout either
// way, but only the check itself can stop its work.
//
// Thread safety: a check runs on its own thread, concurrently with the other
// checks; the function must be safe to call from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "keel/core/clock.hpp"

namespace keel::health {

// check_status — the draft's pass / warn / fail for one check.
enum class check_status : std::uint8_t { pass, warn, fail };

std::string_view to_string(check_status s) noexcept;

// check_result
//
// What a check returns. `output` explains a warn or fail (it is redacted
// before rendering); `observed_value`/`observed_unit` carry a measurement
// ("observedValue"/"observedUnit" in health+json).
struct check_result {
  check_status status = check_status::pass;
  std::string output{};
  std::optional<double> observed_value{};
  std::string observed_unit{};

  static check_result pass(std::optional<double> value = std::nullopt, std::string unit = {}) {
    return {check_status::pass, {}, value, std::move(unit)};
  }
  static check_result warn(std::string output, std::optional<double> value = std::nullopt,
                           std::string unit = {}) {
    return {check_status::warn, std::move(output), value, std::move(unit)};
  }
  static check_result fail(std::string output, std::optional<double> value = std::nullopt,
                           std::string unit = {}) {
    return {check_status::fail, std::move(output), value, std::move(unit)};
  }
};

// check_context — what a running check knows about its budget.
struct check_context {
  std::chrono::milliseconds timeout{0};
  keel::clock::steady_time deadline{};  // on the registry's clock
  const keel::clock* clock = &keel::clock::real();
};

using check_fn = std::function<check_result(const check_context&)>;

// probe — the views a check belongs to (a bit set).
//   liveness:  is the process itself able to work? Never put an external
//              dependency here: when a shared database fails, every replica
//              would be restarted at once (a restart storm) and fix nothing.
//   readiness: can it serve traffic now (dependencies reachable)?
//   startup:   has it finished starting (migrations, warm caches)?
enum class probe : std::uint8_t { liveness = 1, readiness = 2, startup = 4 };

constexpr probe operator|(probe a, probe b) noexcept {
  return static_cast<probe>(static_cast<std::uint8_t>(a) | static_cast<std::uint8_t>(b));
}
constexpr bool includes(probe set, probe p) noexcept {
  return (static_cast<std::uint8_t>(set) & static_cast<std::uint8_t>(p)) != 0;
}

// check_options
//
// `name` is the component name ([A-Za-z0-9_.-], 1..64 characters), the key
// of the check in reports together with `measurement` ("db:responseTime").
// `timeout` bounds how long a report waits for the check. A failing
// `critical` check makes the whole unhealthy; a failing non-critical one
// makes it degraded. `cache_interval` overrides the registry's.
struct check_options {
  std::string name{};
  std::string measurement{};
  std::string component_type{};  // "component", "datastore", "system", ...
  std::string component_id{};
  std::chrono::milliseconds timeout{std::chrono::seconds(2)};
  bool critical = true;
  probe probes = probe::readiness;
  std::optional<std::chrono::milliseconds> cache_interval{};
};

}  // namespace keel::health
