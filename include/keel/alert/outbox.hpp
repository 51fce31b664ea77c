// keel/alert/outbox.hpp
//
// outbox is the durable queue between alerting and delivery. A notification
// is rendered to the exact bytes a receiver gets and committed here before
// the first attempt to send it; it leaves the queue only when a receiver
// accepted it (delivered) or refused it for good (moved to dead_letters).
// A crash between attempts loses nothing: on restart the pending rows are
// still due.
//
//   keel::alert::outbox box(*store);                          // store.hpp
//   auto id = box.enqueue({.receiver = "ops-webhook", .dedup_key = group_key,
//                          .content_type = "application/json", .body = json}).value();
//   for (auto& m : box.due("ops-webhook", clock.system_now(), 16).value()) { ...send... }
//   box.delivered(m.id); / box.retry_later(m.id, next, "HTTP 503"); / box.dead_letter(m.id, "HTTP
//   400");
//
// State machine of a row: pending --(2xx)--> delivered
//                         pending --(retryable failure)--> pending, attempts+1, next_attempt_at
//                         later pending --(other 4xx, or retries exhausted)--> dead_letters
//                         dead_letters --(requeue, an operator's decision)--> pending
// Delivery is at least once: a crash after the receiver accepted and before
// delivered() committed sends the row again, with the same dedup_key.
//
// Thread safety: all member functions may be called concurrently.
// Cost: each call is one committed SQLite statement.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "keel/alert/store.hpp"

namespace keel::alert {

// outbox_message
struct outbox_message {
  std::int64_t id = 0;
  std::string receiver{};
  std::string dedup_key{};  // stable across retries and restarts
  std::string content_type{};
  std::string body{};
  std::uint32_t attempts = 0;
  std::chrono::system_clock::time_point created_at{};
  std::chrono::system_clock::time_point next_attempt_at{};
  std::string last_error{};
};

// dead_letter
struct dead_letter {
  std::int64_t id = 0;
  std::string receiver{};
  std::string dedup_key{};
  std::string content_type{};
  std::string body{};
  std::uint32_t attempts = 0;
  std::chrono::system_clock::time_point created_at{};
  std::chrono::system_clock::time_point dead_at{};
  std::string reason{};
};

// outbox_stats — for the delivery metrics (queue depth, oldest age).
struct outbox_stats {
  std::uint64_t pending = 0;
  std::uint64_t delivered = 0;
  std::uint64_t dead = 0;
  std::optional<std::chrono::system_clock::time_point> oldest_pending{};
};

// notification_record — one line of the notification log: what was sent to
// whom, when, and with what outcome. `finished_at` is when it was delivered
// or dead-lettered; for a pending one, its next attempt.
enum class notification_outcome : std::uint8_t { pending, delivered, dead };
std::string_view to_string(notification_outcome o) noexcept;

struct notification_record {
  std::int64_t id = 0;  // the outbox row's id, or the dead letter's
  std::string receiver{};
  std::string dedup_key{};
  std::string content_type{};
  std::uint64_t body_bytes = 0;
  notification_outcome outcome = notification_outcome::pending;
  std::uint32_t attempts = 0;
  std::chrono::system_clock::time_point created_at{};
  std::chrono::system_clock::time_point finished_at{};
  std::string detail{};  // the last error, or why it was dead-lettered
};

// notification_query — newest first; `before` pages (created_at < before).
struct notification_query {
  std::string receiver{};  // empty: every receiver
  std::optional<notification_outcome> outcome{};
  std::optional<std::chrono::system_clock::time_point> before{};
  std::size_t limit = 100;
};

// The API's view of a record (RFC 3339 times).
nlohmann::ordered_json to_json(const notification_record& r);

class outbox {
 public:
  explicit outbox(store& st);

  // Commits a new pending message, due now. Returns its id. VALIDATION_ERROR
  // for an empty receiver or a body over 1 MiB.
  [[nodiscard]] result<std::int64_t> enqueue(outbox_message m);
  // Pending messages of `receiver` due at `now`, oldest first.
  [[nodiscard]] result<std::vector<outbox_message>> due(std::string_view receiver,
                                                        std::chrono::system_clock::time_point now,
                                                        std::size_t limit);
  // The earliest next_attempt_at of `receiver`'s pending messages.
  [[nodiscard]] result<std::optional<std::chrono::system_clock::time_point>> next_due(
      std::string_view receiver);
  [[nodiscard]] result<void> delivered(std::int64_t id);
  [[nodiscard]] result<void> retry_later(std::int64_t id, std::chrono::system_clock::time_point at,
                                         std::string_view last_error);
  [[nodiscard]] result<void> dead_letter(std::int64_t id, std::string_view reason);
  // Moves a pending message's next attempt to `at` without counting an
  // attempt (it waits behind another message of the same receiver).
  [[nodiscard]] result<void> postpone(std::int64_t id, std::chrono::system_clock::time_point at);
  // Moves a dead letter back to the queue, due now, attempts reset.
  [[nodiscard]] result<std::int64_t> requeue(std::int64_t dead_letter_id);

  [[nodiscard]] result<std::vector<outbox_message>> pending(std::size_t limit);
  [[nodiscard]] result<std::vector<keel::alert::dead_letter>> dead_letters(std::size_t limit);
  [[nodiscard]] result<outbox_stats> stats(std::string_view receiver = {});
  // The notification log: pending, delivered (kept until the retention
  // prunes them) and dead-lettered notifications, newest first.
  [[nodiscard]] result<std::vector<notification_record>> log(const notification_query& q);
  // Deletes delivered rows older than `t`, at most `limit` (0: all).
  [[nodiscard]] result<std::uint64_t> prune_delivered(std::chrono::system_clock::time_point t,
                                                      std::size_t limit = 0);

 private:
  store& st_;
};

}  // namespace keel::alert
