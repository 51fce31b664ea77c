// keel/core/code_registry.hpp
//
// code_registry names every error_code a process knows, so that a name read
// from outside (an ingested event, an alert rule, a config file) maps back to
// its attributes, and so that two meanings cannot share one name. The global
// registry starts with keel::codes::builtin; applications add theirs at
// start-up:
//
//   if (auto r = keel::code_registry::global().add(insufficient_funds); !r) {
//     return r;  // CONFIGURATION_ERROR: the name is taken by another meaning
//   }
//   const keel::error_code* c = keel::code_registry::global().find("TIMEOUT");
//
// Thread safety: all member functions may be called concurrently; lookups
// take a shared lock, additions an exclusive one. Registered codes must
// outlive the registry (static constants, as in keel::codes).
#pragma once

#include <shared_mutex>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "keel/core/error_code.hpp"
#include "keel/core/result.hpp"

namespace keel {

class code_registry {
 public:
  code_registry() = default;
  code_registry(const code_registry&) = delete;
  code_registry& operator=(const code_registry&) = delete;

  // The process-wide registry, preloaded with keel::codes::builtin.
  static code_registry& global();

  // Registers `code`. CONFIGURATION_ERROR for a name that is not
  // SCREAMING_SNAKE, a status outside 400..599, or a name already registered
  // with other attributes; registering the same code again is harmless.
  [[nodiscard]] result<void> add(const error_code& code);

  // The code registered under `name`, or nullptr.
  const error_code* find(std::string_view name) const;

  // Every registered code, in registration order.
  std::vector<const error_code*> all() const;

 private:
  mutable std::shared_mutex mu_;
  std::unordered_map<std::string_view, const error_code*> by_name_;
  std::vector<const error_code*> order_;
};

}  // namespace keel
