// keel/alert/audit.hpp
//
// audit_log is the tamper-evident record of every change made through an
// admin or alerting API: who (actor) did what (action) to which resource,
// with which outcome, when, in which request, with details. Entries are
// append-only and hash-chained: each stores the SHA-256 of the previous
// entry's hash and its own fields, so editing, removing or reordering an
// entry in the database breaks the chain at that entry, and verify() names
// it.
//
//   keel::alert::audit_log audit(*store);                    // store.hpp
//   audit.append({.actor = "alice", .action = "silence.create",
//                 .resource = "silence/42", .outcome = "ok", .request_id = rid}).value();
//   auto v = audit.verify().value();
//   if (!v.ok) alarm(v.first_bad_seq, to_string(v.problem));
//
// What a chain cannot show by itself: entries cut off the end. Keep head()
// somewhere else (a log line, another system) and pass it to verify() to
// detect truncation too.
//
// Retention: prune_before() removes the oldest entries past an age, never
// the newest, and keeps the last one removed as the chain's anchor (seq and
// hash, in the same transaction): verify() then starts from the anchor, so
// the chain stays checkable from there on, and an entry removed after it
// still reads as removed. Log the anchor outside the database as you would
// the head.
//
// Thread safety: all member functions may be called concurrently (appends
// are serialized). Cost: append() is one SHA-256 and one committed insert.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "keel/alert/store.hpp"

namespace keel::alert {

// audit_record — what the caller supplies.
struct audit_record {
  std::string actor{};
  std::string action{};
  std::string resource{};
  std::string outcome = "ok";
  std::string request_id{};
  nlohmann::ordered_json details = nlohmann::ordered_json::object();
};

// audit_entry — a stored record with its place in the chain.
struct audit_entry {
  std::int64_t seq = 0;
  std::chrono::system_clock::time_point time{};
  audit_record record{};
  std::string prev_hash{};  // 64 hex; all zeros for the first entry
  std::string hash{};
};

// audit_problem
//
// edited: an entry's fields no longer match its hash.
// removed: an entry's predecessor is missing (its prev_hash names no entry).
// reordered: an entry's prev_hash names an entry that now comes after it.
// truncated: the chain ends before the head given to verify().
enum class audit_problem : std::uint8_t { none, edited, removed, reordered, truncated };
std::string_view to_string(audit_problem p) noexcept;

// audit_head — the end of the chain, to anchor outside the database.
struct audit_head {
  std::int64_t seq = 0;
  std::string hash{};
};

// audit_verification
struct audit_verification {
  bool ok = true;
  std::uint64_t entries = 0;
  std::int64_t pruned_through = 0;  // the anchor's seq: entries up to it were pruned
  std::int64_t first_bad_seq = 0;   // the entry where the chain first breaks
  audit_problem problem = audit_problem::none;
};

// The API's views of an entry and of a verification.
nlohmann::ordered_json to_json(const audit_entry& e);
nlohmann::ordered_json to_json(const audit_verification& v);

class audit_log {
 public:
  explicit audit_log(store& st);

  // Appends and commits one entry. VALIDATION_ERROR for an empty actor or
  // action or fields beyond 1 KiB (details 16 KiB); DATABASE_ERROR if it
  // cannot be stored.
  [[nodiscard]] result<audit_entry> append(audit_record r);
  // Entries with seq > after, oldest first, at most `limit`.
  [[nodiscard]] result<std::vector<audit_entry>> list(std::int64_t after, std::size_t limit);
  [[nodiscard]] result<audit_head> head();
  // The last entry pruned (seq 0 when none was).
  [[nodiscard]] result<audit_head> anchor();
  // Removes at most `limit` of the oldest entries recorded before `t`,
  // never the newest one, and moves the anchor to the last removed.
  [[nodiscard]] result<std::uint64_t> prune_before(std::chrono::system_clock::time_point t,
                                                   std::size_t limit);
  // Walks the whole chain; with `expected_head`, also checks nothing was cut off the end.
  [[nodiscard]] result<audit_verification> verify(
      const std::optional<audit_head>& expected_head = std::nullopt);

 private:
  store& st_;
};

}  // namespace keel::alert
