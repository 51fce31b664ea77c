#include "keel/resilience/hedging.hpp"

namespace keel::resilience {

result<void> hedging_config::validate() const {
  if (name.size() > 128) return fail(codes::configuration_error, "hedging.name is longer than 128");
  if (delay <= clock::duration::zero() || delay > std::chrono::hours(1)) {
    return fail(codes::configuration_error, "hedging.delay must be in (0, 1h]");
  }
  return ok();
}

namespace {
hedging_config checked(hedging_config c) {
  if (auto v = c.validate(); !v) throw keel::exception(v.error());
  return c;
}
}  // namespace

hedging::hedging(hedging_config config) : config_(checked(std::move(config))) {}

}  // namespace keel::resilience
