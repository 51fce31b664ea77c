// keel/core/redactor.hpp
//
// redactor masks secrets in text before it is rendered to a client or
// written to a log: values of password=, token=, key=, secret= style pairs
// (also `"password": "..."` and `api_key: ...`), Authorization / Cookie header
// values, bearer and basic credentials, payment card numbers (13–19
// Luhn-valid digits, optionally grouped by spaces or dashes) and US social
// security numbers — plus any regular expressions and field names the
// application adds. Each secret becomes "[REDACTED]"; everything else is
// copied unchanged.
//
//   keel::redactor r;                                   // built-in rules
//   r.redact("login password=hunter2 ok");              // "login password=[REDACTED] ok"
//   keel::redactor custom({.patterns = {R"(acct-\d{6})"}, .field_names = {"iban"}});
//   custom.is_sensitive_field("IBAN");                  // true
//
// The built-in rules are a hand-written single pass (no regex), so text with
// nothing to mask costs about a memchr-speed scan; configured patterns use
// std::regex and cost accordingly.
//
// Thread safety: a constructed redactor is immutable; all const member
// functions may be called concurrently.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "keel/core/result.hpp"

namespace keel {

// redactor_config
//
// `patterns`: extra ECMAScript regular expressions; each match is masked.
// `field_names`: extra keys (case-insensitive, whole key) whose values are
// masked in key=value text and
// always masked in structured data, in addition to the built-in sensitive
// key words (password, passwd, pwd, secret, token, api_key, apikey,
// access_key, private_key, client_secret, authorization, cookie, credential,
// credentials, ssn, card_number). `builtin_rules`: turn the built-in text
// rules off (field names stay).
struct redactor_config {
  std::vector<std::string> patterns{};
  std::vector<std::string> field_names{};
  bool builtin_rules = true;
};

class redactor {
 public:
  // The replacement for every masked secret.
  static constexpr std::string_view mask = "[REDACTED]";

  // Built-in rules only.
  redactor();
  // Throws keel::exception (CONFIGURATION_ERROR) on an invalid pattern; use
  // create() to get a result instead.
  explicit redactor(const redactor_config& config);
  static result<redactor> create(const redactor_config& config);

  // The process-wide default (built-in rules), shared by loggers and renderers.
  static const redactor& standard();

  // `text` with every secret masked.
  std::string redact(std::string_view text) const;

  // Appends `text`, masked, to `out`. Returns true when something was masked.
  bool redact_into(std::string_view text, std::string& out) const;

  // True when a structured value under `key` must be masked whole.
  bool is_sensitive_field(std::string_view key) const noexcept;

  // Masks, in place, the values of sensitive keys and secrets inside string
  // values, at any depth.
  void redact_json(nlohmann::ordered_json& value) const;

 private:
  struct compiled;
  explicit redactor(std::shared_ptr<const compiled> impl);
  std::shared_ptr<const compiled> impl_;
};

}  // namespace keel
