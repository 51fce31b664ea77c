#include "keel/alert/resilient_delivery_policy.hpp"

#include <algorithm>

#include "keel/core/error.hpp"

namespace keel::alert {
namespace {

bool breaker_char(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == ':' || c == '-';
}

}  // namespace

result<void> resilient_delivery_options::validate() const {
  if (auto v = backoff.validate(); !v) return v;
  if (auto v = breaker.validate(); !v) return v;
  if (max_retry_after.count() < 0) {
    return fail(codes::validation_error, "max_retry_after must not be negative");
  }
  return ok();
}

std::optional<keel::error> delivery_error(const send_result& r, verdict v) {
  if (v != verdict::retry) return std::nullopt;  // delivered, or refused: the receiver answered
  std::string what = r.detail.empty() ? "status " + std::to_string(r.status) : r.detail;
  if (r.timed_out) return keel::error(codes::timeout, std::move(what));
  if (r.status == 408) return keel::error(codes::request_timeout, std::move(what));
  if (r.status == 429) {
    keel::error e(codes::rate_limited, std::move(what));
    if (r.retry_after) e.with_retry_after(*r.retry_after);
    return e;
  }
  return keel::error(codes::service_unavailable, std::move(what));
}

resilient_delivery_policy::resilient_delivery_policy(keel::resilience::breaker_registry& breakers,
                                                     random_source& rng,
                                                     resilient_delivery_options opts)
    : breakers_(breakers), rng_(rng), opts_(std::move(opts)) {
  if (auto v = opts_.validate(); !v) throw exception(v.error());
}

std::string resilient_delivery_policy::breaker_name(std::string_view receiver) const {
  std::string n = opts_.breaker_prefix;
  n.reserve(n.size() + receiver.size());
  for (char c : receiver)
    n.push_back(breaker_char(c) ? c : '_');
  return n;
}

resilient_delivery_policy::receiver_state& resilient_delivery_policy::state_of(
    std::string_view receiver) {
  if (auto it = states_.find(receiver); it != states_.end()) return it->second;
  receiver_state st;
  if (auto b = breakers_.get_or_create(breaker_name(receiver), opts_.breaker)) {
    st.breaker = std::move(*b);
  } else {
    ++unguarded_;  // delivery must go on without a breaker rather than stop
  }
  return states_.emplace(std::string(receiver), std::move(st)).first->second;
}

bool resilient_delivery_policy::allow(std::string_view receiver) {
  std::lock_guard lock(mu_);
  receiver_state& st = state_of(receiver);
  if (!st.breaker) return true;
  auto p = st.breaker->acquire();
  if (!p) return false;
  st.permit = *p;
  st.holding = true;
  return true;
}

void resilient_delivery_policy::on_result(std::string_view receiver, verdict v,
                                          const send_result& r) {
  std::lock_guard lock(mu_);
  receiver_state& st = state_of(receiver);
  if (v == verdict::delivered) st.previous = {};
  if (!st.breaker || !st.holding) return;
  st.holding = false;
  if (auto e = delivery_error(r, v)) {
    st.breaker->on_error(st.permit, *e);
  } else {
    st.breaker->on_success(st.permit);
  }
}

std::optional<std::chrono::milliseconds> resilient_delivery_policy::next_delay(
    std::string_view receiver, std::uint32_t attempts,
    std::optional<std::chrono::milliseconds> retry_after) {
  if (opts_.max_attempts > 0 && attempts >= opts_.max_attempts) return std::nullopt;
  std::lock_guard lock(mu_);
  receiver_state& st = state_of(receiver);
  const auto d = opts_.backoff.delay(std::max<std::uint32_t>(attempts, 1), st.previous, rng_);
  st.previous = d;
  auto ms = std::chrono::ceil<std::chrono::milliseconds>(d);
  if (retry_after) ms = std::max(ms, std::min(*retry_after, opts_.max_retry_after));
  return ms;
}

std::shared_ptr<keel::resilience::circuit_breaker> resilient_delivery_policy::breaker(
    std::string_view receiver) const {
  std::lock_guard lock(mu_);
  auto it = states_.find(receiver);
  return it == states_.end() ? nullptr : it->second.breaker;
}

std::uint64_t resilient_delivery_policy::unguarded() const {
  std::lock_guard lock(mu_);
  return unguarded_;
}

}  // namespace keel::alert
