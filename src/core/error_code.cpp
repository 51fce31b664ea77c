#include "keel/core/error_code.hpp"

#include <fmt/format.h>

#include <mutex>

#include "keel/core/code_registry.hpp"

namespace keel {

std::string_view to_string(category c) noexcept {
  switch (c) {
    case category::transient:
      return "transient";
    case category::permanent:
      return "permanent";
    case category::systemic:
      return "systemic";
    case category::business:
      return "business";
  }
  return "permanent";
}

std::string_view to_string(severity s) noexcept {
  switch (s) {
    case severity::low:
      return "low";
    case severity::medium:
      return "medium";
    case severity::high:
      return "high";
    case severity::critical:
      return "critical";
  }
  return "medium";
}

std::optional<category> parse_category(std::string_view s) noexcept {
  for (auto c :
       {category::transient, category::permanent, category::systemic, category::business}) {
    if (to_string(c) == s) return c;
  }
  return std::nullopt;
}

std::optional<severity> parse_severity(std::string_view s) noexcept {
  for (auto v : {severity::low, severity::medium, severity::high, severity::critical}) {
    if (to_string(v) == s) return v;
  }
  return std::nullopt;
}

code_registry& code_registry::global() {
  static code_registry* r = [] {
    auto* reg = new code_registry();  // never destroyed: codes outlive static destructors
    for (const error_code* c : codes::builtin) {
      reg->by_name_.emplace(c->name, c);
      reg->order_.push_back(c);
    }
    return reg;
  }();
  return *r;
}

namespace {
bool same_attributes(const error_code& a, const error_code& b) {
  return a.name == b.name && a.category == b.category && a.severity == b.severity &&
         a.http_status == b.http_status && a.retryable == b.retryable && a.title == b.title &&
         a.public_message == b.public_message;
}
}  // namespace

result<void> code_registry::add(const error_code& code) {
  if (!is_valid_code_name(code.name)) {
    return fail(codes::configuration_error,
                fmt::format("error code name '{}' is not SCREAMING_SNAKE (A-Z, 0-9, _; at most 64)",
                            code.name));
  }
  if (code.http_status < 400 || code.http_status > 599) {
    return fail(codes::configuration_error,
                fmt::format("error code {} has HTTP status {}, outside 400..599", code.name,
                            code.http_status));
  }
  if (code.title.empty() || code.public_message.empty()) {
    return fail(codes::configuration_error,
                fmt::format("error code {} needs a title and a public message", code.name));
  }
  std::unique_lock lock(mu_);
  auto [it, inserted] = by_name_.emplace(code.name, &code);
  if (!inserted) {
    if (it->second == &code || same_attributes(*it->second, code)) return ok();
    return fail(
        codes::configuration_error,
        fmt::format("error code {} is already registered with other attributes", code.name));
  }
  order_.push_back(&code);
  return ok();
}

const error_code* code_registry::find(std::string_view name) const {
  std::shared_lock lock(mu_);
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : it->second;
}

std::vector<const error_code*> code_registry::all() const {
  std::shared_lock lock(mu_);
  return order_;
}

}  // namespace keel
