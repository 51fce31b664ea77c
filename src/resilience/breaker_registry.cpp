#include "keel/resilience/breaker_registry.hpp"

namespace keel::resilience {

breaker_registry::breaker_registry(breaker_registry_config config, const clock& c)
    : config_(std::move(config)), clock_(c) {}

bool breaker_registry::is_valid_name(std::string_view name) noexcept {
  if (name.empty() || name.size() > 128) return false;
  for (char ch : name) {
    const bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                    (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == ':' || ch == '-';
    if (!ok) return false;
  }
  return true;
}

result<std::shared_ptr<circuit_breaker>> breaker_registry::get_or_create(
    std::string_view name, circuit_breaker_config config) {
  if (!is_valid_name(name)) {
    return fail(keel::error(codes::validation_error, "invalid circuit breaker name")
                    .with_detail("rule", "1..128 characters of [A-Za-z0-9._:-]"));
  }
  std::lock_guard lock(mu_);
  if (auto it = breakers_.find(name); it != breakers_.end()) return it->second;
  if (breakers_.size() >= config_.max_breakers) {
    return fail(keel::error(codes::resource_exhausted, "too many circuit breakers")
                    .with_detail("max_breakers", config_.max_breakers));
  }
  config.name = std::string(name);
  if (!config.listener) config.listener = config_.listener;
  auto b = circuit_breaker::create(std::move(config), clock_);
  if (!b) return fail(b.error());
  std::shared_ptr<circuit_breaker> shared(std::move(*b));
  breakers_.emplace(std::string(name), shared);
  return shared;
}

result<std::shared_ptr<circuit_breaker>> breaker_registry::get_or_create(std::string_view name) {
  return get_or_create(name, config_.defaults);
}

std::shared_ptr<circuit_breaker> breaker_registry::find(std::string_view name) const {
  std::lock_guard lock(mu_);
  auto it = breakers_.find(name);
  return it == breakers_.end() ? nullptr : it->second;
}

std::vector<breaker_snapshot> breaker_registry::snapshots() const {
  std::vector<std::shared_ptr<circuit_breaker>> all;
  {
    std::lock_guard lock(mu_);
    all.reserve(breakers_.size());
    for (const auto& [n, b] : breakers_)
      all.push_back(b);
  }
  // Snapshots are taken outside the registry lock: a slow scan of one
  // breaker must not block creation of another.
  std::vector<breaker_snapshot> out;
  out.reserve(all.size());
  for (const auto& b : all)
    out.push_back(b->snapshot());
  return out;
}

std::vector<std::string> breaker_registry::names() const {
  std::lock_guard lock(mu_);
  std::vector<std::string> out;
  for (const auto& [n, b] : breakers_)
    out.push_back(n);
  return out;
}

namespace {
template <class Op>
result<void> with_breaker(const breaker_registry& r, std::string_view name, Op op) {
  auto b = r.find(name);
  if (!b) {
    return fail(keel::error(codes::resource_not_found, "no circuit breaker with this name")
                    .with_detail("breaker", std::string(name.substr(0, 128))));
  }
  op(*b);
  return ok();
}
}  // namespace

result<void> breaker_registry::reset(std::string_view name) {
  return with_breaker(*this, name, [](circuit_breaker& b) { b.reset(); });
}
result<void> breaker_registry::force_open(std::string_view name) {
  return with_breaker(*this, name, [](circuit_breaker& b) { b.force_open(); });
}
result<void> breaker_registry::disable(std::string_view name) {
  return with_breaker(*this, name, [](circuit_breaker& b) { b.disable(); });
}

bool breaker_registry::remove(std::string_view name) {
  std::lock_guard lock(mu_);
  auto it = breakers_.find(name);
  if (it == breakers_.end()) return false;
  breakers_.erase(it);
  return true;
}

std::size_t breaker_registry::size() const {
  std::lock_guard lock(mu_);
  return breakers_.size();
}

breaker_registry& breakers() {
  static breaker_registry r;
  return r;
}

}  // namespace keel::resilience
