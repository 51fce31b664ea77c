// keel/alert/receiver.hpp
//
// Receivers and the exact payloads they get. A notification (dispatcher.hpp)
// is rendered once, when it enters the outbox, to the bytes a receiver will
// receive; secrets that are not part of the payload (the webhook signing key,
// SMTP credentials) stay in the configuration and are applied at send time.
//
//   keel::alert::receiver_config slack{.name = "team-slack",
//                                      .kind = keel::alert::receiver_kind::slack,
//                                      .url = "https://hooks.slack.com/services/..."};
//   auto r = keel::alert::render(slack, notification, clock.system_now()).value();
//   // r.content_type, r.body, r.dedup_key -> outbox
//
// Shapes:
//   webhook       Alertmanager's webhook JSON (version "4": receiver, status, groupKey,
//                 groupLabels, commonLabels, commonAnnotations, externalURL, alerts[]),
//                 optionally signed: X-Keel-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256
//                 of "<t>.<body>">.
//   slack         incoming webhook: "text" fallback + Block Kit blocks (header, one mrkdwn
//                 section per alert up to 10, a context line).
//   pagerduty     Events API v2: routing_key, event_action trigger|resolve, dedup_key from
//                 the alert group (stable across notifications of the group), payload
//                 {summary ≤ 1024, source, severity critical|error|warning|info, timestamp,
//                 group, class, custom_details}.
//   email         an RFC 5322 text/plain message, sent over SMTP by libcurl.
//   alertmanager  Alertmanager v2 POST /api/v2/alerts: [{labels, annotations, startsAt,
//                 endsAt, generatorURL}]; a firing alert's endsAt is now + am_validity, so
//                 route it with a repeat_interval shorter than that to keep it alive.
//
// Thread safety: pure functions. Cost: one JSON serialization per notification.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "keel/alert/dispatcher.hpp"
#include "keel/core/result.hpp"

namespace keel::alert {

// receiver_kind
enum class receiver_kind : std::uint8_t { webhook, slack, pagerduty, email, alertmanager };
std::string_view to_string(receiver_kind k) noexcept;

// receiver_config
struct receiver_config {
  std::string name{};
  receiver_kind kind = receiver_kind::webhook;
  // webhook / slack: the URL posted to; pagerduty: the Events API endpoint;
  // alertmanager: the base URL (http://host:9093); email: the SMTP URL
  // (smtp://host:25, smtps://host:465).
  std::string url{};
  std::string secret{};       // webhook: HMAC-SHA256 key (no signature when empty)
  std::string routing_key{};  // pagerduty
  std::string from{};         // email
  std::vector<std::string> to{};
  std::string smtp_user{};
  std::string smtp_password{};
  bool send_resolved = true;
  std::chrono::milliseconds timeout{10'000};
  std::chrono::milliseconds am_validity{15 * 60'000};
  std::string external_url{};  // links back to keeld
};

// Checks the fields `kind` needs. VALIDATION_ERROR naming the field.
[[nodiscard]] result<void> validate(const receiver_config& r);

// rendered — what goes into the outbox.
struct rendered {
  std::string content_type{};
  std::string body{};
  std::string dedup_key{};
};

// Renders `n` for `r`. The dedup_key is the notification id, except for
// PagerDuty where it is the group's key (trigger and resolve must match).
[[nodiscard]] result<rendered> render(const receiver_config& r, const notification& n,
                                      std::chrono::system_clock::time_point now);

// The PagerDuty dedup_key of a group: "keel-" + 32 hex of SHA-256(group_key).
std::string pagerduty_dedup_key(std::string_view group_key);

// The webhook signature header value for `body` at `unix_seconds`.
std::string webhook_signature(std::string_view secret, std::string_view body,
                              std::int64_t unix_seconds);

}  // namespace keel::alert
