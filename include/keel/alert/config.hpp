// keel/alert/config.hpp
//
// Alerting configuration from YAML: rules, the routing tree, receivers,
// inhibition rules and the incident policy (docs/alerting.md is the
// reference with examples). Every
// error names the line and column it was found at, so a rejected file (or a
// rule posted to keeld's API) can be fixed without guessing.
//
//   auto cfg = keel::alert::load_config_yaml(text);
//   if (!cfg) {
//     // cfg.error(): VALIDATION_ERROR "line 12, column 7: rules[1].for: bad duration '5x'"
//     // details: {"line": 12, "column": 7, "path": "rules[1].for"}
//   }
//   for (auto& r : cfg->rules) engine.upsert(r).value();
//   dispatcher d(*cfg->route, clock);
//
// Unknown keys are errors (a typo must not silently disable an alert).
// Limits: 1 MiB of text, 10 000 rules, routes nested at most 16 deep.
//
// Thread safety: pure functions. Cost: parse time only.
#pragma once

#include <chrono>
#include <optional>
#include <string_view>
#include <vector>

#include "keel/alert/dispatcher.hpp"
#include "keel/alert/incident.hpp"
#include "keel/alert/receiver.hpp"
#include "keel/alert/rule.hpp"
#include "keel/config/duration.hpp"
#include "keel/core/result.hpp"

namespace keel::alert {

// incidents_config — the part of incident_options a file sets:
//
//   incidents:
//     ack_timeout: 15m                  # unacknowledged this long: next level
//     escalation: [team-slack, oncall-pagerduty]   # receivers, level 0 first
//     on_open:                          # run when an incident opens
//       - notify: incident-webhook
//       - open_breaker: payments
//
// Receivers named here must exist. run_handler actions are for code that
// registers handlers (incident_manager::register_handler), not for files.
struct incidents_config {
  std::chrono::milliseconds ack_timeout{15 * 60'000};
  std::vector<std::string> escalation{};
  std::vector<action> on_open{};
  std::vector<incident_policy> policies{};  // first match wins; else the above
};

// alerting_config
struct alerting_config {
  std::vector<rule> rules{};
  std::optional<route> root{};
  std::vector<receiver_config> receivers{};
  std::vector<inhibit_rule> inhibit_rules{};
  incidents_config incidents{};
};

// A whole configuration document (any of the sections may be absent). Rules
// are compiled (templates and regexes checked); routes must name known
// receivers.
[[nodiscard]] result<alerting_config> load_config_yaml(std::string_view text);

// The alerting document under the top-level key `section` of a larger YAML
// document (keeld's config file has it under `alerting:`); the other
// top-level keys are the caller's. Lines are the whole document's; paths
// start with "<section>.". A missing section is an empty configuration.
[[nodiscard]] result<alerting_config> load_config_yaml(std::string_view text,
                                                       std::string_view section);

// A document with only `rules:` (or a single rule mapping, as the API takes it).
[[nodiscard]] result<std::vector<rule>> load_rules_yaml(std::string_view text);

// Prometheus-style durations: "500ms", "30s", "5m", "1h30m", "7d", "0"
// (keel/config/duration.hpp).
using keel::config::parse_duration;

}  // namespace keel::alert
